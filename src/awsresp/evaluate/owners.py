"""The owners file (`--owners`): named parties and the rules that make a party accountable for
the customer's part of a layer, by service and layer, by account or OU, and by resource tag."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Protocol

from awsresp.evaluate.catalog import Catalog
from awsresp.evaluate.userfile import Fields, LocatedList, UserFileError, parse
from awsresp.model import ACCOUNT_ROW, AWS, CUSTOMER, Layer, Party, ServiceClass

# The account row is owned as an abstracted service is (summary.ACCOUNT_ROW_CLASS).
_ACCOUNT_ROW_CLASS = ServiceClass.ABSTRACTED
_TOP_KEYS = {"tag_key", "parties", "rules"}
_PARTY_KEYS = {"name", "contact", "contract", "review", "note"}
_RULE_KEYS = {"party", "services", "layers", "tag", "account", "ou", "note"}


class AccountFacts(Protocol):
    """What an organization scan knows of an account (model.AccountInfo has these)."""

    @property
    def ou_path(self) -> str: ...


class Level(enum.IntEnum):
    """A rule's precedence: a tag rule over an account rule over an OU rule over a rule by
    service and layer alone (DESIGN: tag over account over service default)."""

    SERVICE = 0
    OU = 1
    ACCOUNT = 2
    TAG = 3


@dataclass(frozen=True)
class OwnerRule:
    party: str
    line: int
    services: frozenset[str] | None = None  # None: every service (and the account row)
    layers: frozenset[Layer] | None = None  # None: every layer the customer holds a part of
    tags: tuple[tuple[str, str], ...] = ()  # (key, value glob), all must match
    accounts: frozenset[str] = frozenset()
    ous: tuple[str, ...] = ()  # OU path globs (Root/Prod matches Root/Prod and below)

    @property
    def level(self) -> Level:
        if self.tags:
            return Level.TAG
        if self.accounts:
            return Level.ACCOUNT
        if self.ous:
            return Level.OU
        return Level.SERVICE

    def matches(
        self, account: str, service: str, layer: Layer, tags: Mapping[str, str], ou_path: str
    ) -> bool:
        if self.services is not None and service not in self.services:
            return False
        if self.layers is not None and layer not in self.layers:
            return False
        if self.accounts and account not in self.accounts:
            return False
        if self.ous and not (ou_path and any(_in_ou(ou_path, p) for p in self.ous)):
            return False
        return all(k in tags and fnmatchcase(tags[k], v) for k, v in self.tags)


def _in_ou(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatchcase(path, pattern) or fnmatchcase(path, pattern + "/*")


@dataclass(frozen=True)
class Owners:
    """The parties and the rules, in precedence order (level, then file order)."""

    file: str = ""
    parties: tuple[Party, ...] = ()
    rules: tuple[OwnerRule, ...] = ()
    # Warnings found while loading (a rule partly over AWS's layers, a party no rule names).
    warnings: tuple[str, ...] = ()

    def party(
        self,
        owner: str,
        account: str,
        service: str,
        layer: Layer,
        tags: Mapping[str, str],
        ou_path: str = "",
    ) -> tuple[str, int | None]:
        """Who is accountable for the customer's part of this layer, and the index of the
        rule that says so: a layer AWS owns is AWS's, whatever a rule says; no rule: the
        customer."""
        if owner == AWS:
            return AWS, None
        for i, rule in enumerate(self.rules):
            if rule.matches(account, service, layer, tags, ou_path):
                return rule.party, i
        return CUSTOMER, None

    def party_names(self) -> tuple[str, ...]:
        """Every party a scan can name: the customer, AWS, and the parties declared."""
        names = [CUSTOMER, AWS]
        names += [p.name for p in self.parties if p.name not in names]
        return tuple(names)

    def review_warnings(self, today: dt.date) -> list[str]:
        return [
            f"{self.file}: party {p.name}: review date {p.review} has passed"
            for p in self.parties
            if p.review and dt.date.fromisoformat(p.review) < today
        ]


NO_OWNERS = Owners()


def service_classes(catalog: Catalog, service: str) -> set[ServiceClass]:
    """Every class a service's resources can have (a type may refine its service's class)."""
    if service == ACCOUNT_ROW:
        return {_ACCOUNT_ROW_CLASS}
    classes = set()
    entry = catalog.services.get(service)
    if entry is not None:
        classes.add(entry.service_class)
    for rtype, rules in catalog.type_rules.items():
        if rtype.split(".", 1)[0] == service:
            classes |= {r.service_class for r in rules}
    return classes


def _aws_everywhere(catalog: Catalog, layer: Layer, service: str) -> bool:
    classes = service_classes(catalog, service)
    return bool(classes) and all(catalog.owner(layer, service, c) == AWS for c in classes)


def load_owners(name: str, text: str, catalog: Catalog) -> Owners:
    """Parses and validates an owners file; every error names the file and the line."""
    doc = parse(name, text)
    if doc is None:
        raise UserFileError(name, 0, "the file is empty (expected parties: and rules:)")
    top = Fields(name, doc, "top level", _TOP_KEYS)
    tag_key = top.text("tag_key", required=False)
    parties = _parties(name, doc.get("parties"), top)
    declared = {p.name for p in parties}
    known_services = {*catalog.services, ACCOUNT_ROW}
    rules: list[OwnerRule] = []
    warnings: list[str] = []
    raw_rules = doc.get("rules")
    if raw_rules is None:
        raw_rules = LocatedList()
    if not isinstance(raw_rules, list):
        raise top.error("rules", "'rules' must be a list of rules")
    for i, node in enumerate(raw_rules):
        line = _item_line(raw_rules, i, top.line_of("rules"))
        rule, warned = _rule(name, node, line, tag_key, declared, known_services, catalog)
        rules.append(rule)
        warnings += warned
    named = {r.party for r in rules}
    warnings += [
        f"{name}: party {p.name} is named by no rule: it holds nothing"
        for p in parties
        if p.name not in named and p.name != CUSTOMER
    ]
    ordered = sorted(rules, key=lambda r: -r.level)  # stable: file order within a level
    return Owners(name, tuple(parties), tuple(ordered), tuple(warnings))


def _item_line(items: list[Any], i: int, default: int) -> int:
    lines = getattr(items, "item_lines", None)
    return lines[i] if lines and i < len(lines) else default


def _parties(name: str, raw: Any, top: Fields) -> list[Party]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise top.error("parties", "'parties' must be a list of parties")
    out: list[Party] = []
    for i, node in enumerate(raw):
        line = _item_line(raw, i, top.line_of("parties"))
        if not isinstance(node, dict):
            raise UserFileError(name, line, "a party is a mapping with at least a name")
        f = Fields(name, node, "party", _PARTY_KEYS)
        party_name = f.text("name")
        if party_name in (AWS, "shared"):
            raise f.error("name", f"{party_name!r} is not a party: AWS's layers are its own")
        if party_name in {p.name for p in out}:
            raise f.error("name", f"party {party_name!r} is listed twice")
        review = f.date("review", required=False)
        out.append(
            Party(
                party_name,
                contact=f.text("contact", required=False),
                contract=f.text("contract", required=False),
                review=review.isoformat() if review else "",
            )
        )
    return out


def _rule(
    name: str,
    node: Any,
    line: int,
    tag_key: str,
    declared: set[str],
    known_services: set[str],
    catalog: Catalog,
) -> tuple[OwnerRule, list[str]]:
    if not isinstance(node, dict):
        raise UserFileError(name, line, "a rule is a mapping with a party")
    f = Fields(name, node, "rule", _RULE_KEYS)
    party = f.text("party")
    if party not in declared and party != CUSTOMER:
        raise f.error("party", f"party {party!r} is not listed under parties (or is 'customer')")
    services = _services(f, known_services)
    layers = _layers(f)
    tags = _tags(f, tag_key)
    accounts = f.texts("account")
    for account in accounts:
        if not (len(account) == 12 and account.isdigit()):
            raise f.error("account", f"account {account!r} is not a 12-digit account id (quote it)")
    rule = OwnerRule(
        party,
        f.line,
        services=services,
        layers=layers,
        tags=tags,
        accounts=frozenset(accounts),
        ous=f.texts("ou"),
    )
    return rule, _aws_layers(name, f, rule, known_services, catalog)


def _services(f: Fields, known: set[str]) -> frozenset[str] | None:
    values = f.texts("services")
    if not values or values == ("*",):
        return None
    unknown = sorted(set(values) - known)
    if unknown:
        raise f.error(
            "services",
            f"unknown service(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
        )
    return frozenset(values)


def _layers(f: Fields) -> frozenset[Layer] | None:
    values = f.texts("layers")
    if not values or values == ("*",):
        return None
    out = set()
    for v in values:
        try:
            out.add(Layer(v))
        except ValueError:
            raise f.error("layers", f"unknown layer {v!r} (one of: {', '.join(Layer)})") from None
    return frozenset(out)


def _tags(f: Fields, tag_key: str) -> tuple[tuple[str, str], ...]:
    if not f.has("tag"):
        return ()
    value = f.node["tag"]
    if isinstance(value, dict):
        return tuple(sorted(f.string_map("tag").items()))
    if not tag_key:
        raise f.error(
            "tag",
            "'tag: VALUE' needs 'tag_key' at the top of the file (or write tag: {KEY: VALUE})",
        )
    return ((tag_key, f.text("tag")),)


def _aws_layers(
    name: str, f: Fields, rule: OwnerRule, known: set[str], catalog: Catalog
) -> list[str]:
    """A party never takes a layer from AWS: a rule whose every named layer is AWS's (for
    every class of every service it names) is an error; one partly over AWS's layers is
    a warning, and applies only where the customer holds a part."""
    if rule.layers is None:
        return []  # every layer: only where the customer holds a part, by definition
    services = sorted(rule.services) if rule.services is not None else sorted(known)
    pairs = [(s, layer) for s in services for layer in sorted(rule.layers)]
    aws = [(s, layer) for s, layer in pairs if _aws_everywhere(catalog, layer, s)]
    if not aws:
        return []
    if len(aws) == len(pairs):
        what = _pairs_text(aws, rule.services is None)
        raise f.error(
            "layers",
            f"{what} AWS's: a party takes only the customer's part of a layer (customer"
            " or shared), never AWS's",
        )
    if rule.services is None:
        # Layers AWS holds for some services only are the normal case of "every service".
        everywhere = sorted(
            {layer for layer in rule.layers if all((s, layer) in aws for s in services)}
        )
        if not everywhere:
            return []
        verb = "is" if len(everywhere) == 1 else "are"
        what = f"{', '.join(layer.value for layer in everywhere)} {verb}"
    else:
        what = _pairs_text(aws, False)
    return [f"{name}: line {f.line}: {what} AWS's: the rule for {rule.party} does not apply there"]


def _pairs_text(pairs: Iterable[tuple[str, Layer]], every_service: bool) -> str:
    pairs = list(pairs)
    if every_service:
        layers = sorted({layer.value for _s, layer in pairs})
        return f"{', '.join(layers)} {'is' if len(layers) == 1 else 'are'}"
    text = ", ".join(f"{layer.value} of {s}" for s, layer in pairs)
    return f"{text} {'is' if len(pairs) == 1 else 'are'}"


@dataclass
class Assigner:
    """Resolves parties for one scan: the owners file and what is known of each account
    (its OU, from an organization scan). Remembers which rules assigned anything."""

    owners: Owners
    accounts: Mapping[str, AccountFacts] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    _cache: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def party(
        self, owner: str, account: str, service: str, layer: Layer, tags: Mapping[str, str]
    ) -> str:
        if owner == AWS or not self.owners.rules:
            return AWS if owner == AWS else CUSTOMER
        key = (owner, account, service, layer, tuple(sorted(tags.items())) if tags else ())
        found = self._cache.get(key)
        if found is None:
            facts = self.accounts.get(account)
            party, index = self.owners.party(
                owner, account, service, layer, tags, facts.ou_path if facts else ""
            )
            if index is not None:
                self.used.add(index)
            self._cache[key] = found = party
        return found

    def unused_rules(self, scanned: Iterable[str]) -> list[str]:
        """Rules that assigned nothing in this scan (a mistyped tag value, an OU the scan
        could not see), for the services the scan covered."""
        scanned = {*scanned, ACCOUNT_ROW}
        out = []
        for i, rule in enumerate(self.owners.rules):
            if i in self.used:
                continue
            if rule.services is not None and not (rule.services & scanned):
                continue
            why = ""
            if rule.ous and not any(f.ou_path for f in self.accounts.values()):
                why = " (OU rules need the account's organizational unit: an organization scan)"
            out.append(
                f"{self.owners.file}: line {rule.line}: the rule for {rule.party} matched"
                f" nothing in this scan{why}"
            )
        return out
