"""Loads and validates the mapping data: layers, sources, service classes, ownership, controls."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from awsresp.collect.specs import ResourceSpec
from awsresp.errors import SpecError
from awsresp.evaluate import rules
from awsresp.model import ACCOUNT_ROW, BUILTIN_OWNERS, Control, Layer, ServiceClass, Severity
from awsresp.paths import load_yaml, mappings_dir

_CONTROL_ID = re.compile(r"^[a-z-]+\.[a-z0-9-]+\.[a-z0-9-]+$")
# Reference frameworks a control may cite, with the form of their identifiers.
REFERENCE_KEYS = {
    "cis-aws-3.0": re.compile(r"^\d+(\.\d+)+$"),
    "cis-aws-4.0": re.compile(r"^\d+(\.\d+)+$"),
    "nist-800-53-r5": re.compile(r"^[A-Z]{2}-\d+(\(\d+\))?$"),
    "pci-dss-4.0": re.compile(r"^\d+(\.\d+)+$"),
    "aws-fsbp": re.compile(r"^[A-Za-z0-9]+\.\d+$"),
    # HIPAA Security Rule sections, e.g. 164.312(b), 164.312(a)(2)(iv)
    "hipaa": re.compile(r"^164\.3(08|10|12|14|16)(\([a-zA-Z0-9]+\))+$"),
    # SOC 2 Trust Services Criteria (2017, revised points of focus 2022), e.g. CC6.1, A1.2
    "soc2": re.compile(r"^(CC[1-9]|A1|C1|PI1|P[1-8])\.\d+$"),
}
_CONTROL_KEYS = {
    "id",
    "title",
    "layer",
    "resource",
    "severity",
    "pass_when",
    "applies_when",
    "safeguard",
    "references",
    "remediation",
    "description",
    "disabled",
    "protects",
    "covers",
}


@dataclass(frozen=True)
class ClassRule:
    service_class: ServiceClass
    condition: rules.Condition
    source: tuple[str, ...]


@dataclass(frozen=True)
class ServiceEntry:
    service_class: ServiceClass
    source: tuple[str, ...]
    rules: tuple[ClassRule, ...] = ()  # per resource type, first match wins


@dataclass(frozen=True)
class Override:
    layer: Layer
    service: str
    owner: str
    source: str


@dataclass
class Catalog:
    layers: dict[Layer, dict[str, str]] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    type_rules: dict[str, tuple[ClassRule, ...]] = field(default_factory=dict)
    ownership: dict[Layer, dict[ServiceClass, str]] = field(default_factory=dict)
    ownership_sources: dict[Layer, tuple[str, ...]] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    attestation: str = ""
    controls: dict[str, Control] = field(default_factory=dict)

    def owner(self, layer: Layer, service: str, service_class: ServiceClass) -> str:
        for o in reversed(self.overrides):  # later (user) overrides win
            if o.layer == layer and o.service in (service, "*"):
                return o.owner
        return self.ownership[layer][service_class]

    def service_class(self, resource_type: str, config: Mapping[str, Any]) -> ServiceClass:
        service = resource_type.split(".", 1)[0]
        for rule in self.type_rules.get(resource_type, ()):
            if rules.evaluate(rule.condition, config, frozenset(), _EPOCH, {}) is True:
                return rule.service_class
        entry = self.services.get(service)
        if entry is None:
            raise KeyError(service)
        return entry.service_class


# Class rules test configuration, never dates; any fixed instant will do.
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise SpecError(path.name, where, f"not valid YAML: {problem}") from None
    except OSError as exc:
        raise SpecError(path.name, "", f"cannot read: {exc.strerror}") from None


def _mapping(file: str, where: str, node: Any, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise SpecError(file, where, "expected a mapping")
    if allowed is not None and set(node) - allowed:
        raise SpecError(file, where, f"unknown key(s): {', '.join(sorted(set(node) - allowed))}")
    return node


def _layer(file: str, where: str, value: Any) -> Layer:
    try:
        return Layer(value)
    except ValueError:
        raise SpecError(
            file, where, f"unknown layer {value!r} (one of: {', '.join(Layer)})"
        ) from None


def _class(file: str, where: str, value: Any) -> ServiceClass:
    try:
        return ServiceClass(value)
    except ValueError:
        raise SpecError(
            file, where, f"unknown service class {value!r} (one of: {', '.join(ServiceClass)})"
        ) from None


def _sources(file: str, where: str, value: Any, cat: Catalog) -> tuple[str, ...]:
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not ids:
        raise SpecError(file, where, "'source' must name at least one source from sources.yaml")
    for s in ids:
        if s not in cat.sources:
            raise SpecError(file, where, f"unknown source {s!r} (define it in sources.yaml)")
    return tuple(ids)


def _condition(file: str, where: str, node: Any) -> rules.Condition:
    try:
        return rules.parse(node)
    except rules.ConditionError as exc:
        raise SpecError(file, where, f"bad condition: {exc}") from None


def _load_sources(path: Path, cat: Catalog) -> None:
    node = _mapping(path.name, "top level", _read_yaml(path), {"sources"})
    for sid, entry in _mapping(path.name, "sources", node.get("sources", {})).items():
        _mapping(path.name, f"source {sid}", entry, {"title", "url", "note"})
        if "title" not in entry:
            raise SpecError(path.name, f"source {sid}", "missing 'title'")
        cat.sources[sid] = {k: str(v) for k, v in entry.items()}


def _load_layers(path: Path, cat: Catalog) -> None:
    node = _mapping(path.name, "top level", _read_yaml(path), {"layers"})
    for lid, entry in _mapping(path.name, "layers", node.get("layers", {})).items():
        layer = _layer(path.name, f"layer {lid}", lid)
        entry = _mapping(path.name, f"layer {lid}", entry, {"title", "covers", "evidence"})
        cat.layers[layer] = {k: str(v) for k, v in entry.items()}


def _load_services(path: Path, cat: Catalog) -> None:
    node = _mapping(path.name, "top level", _read_yaml(path), {"services", "resource_types"})
    for svc, entry in _mapping(path.name, "services", node.get("services", {}) or {}).items():
        where = f"service {svc}"
        entry = _mapping(path.name, where, entry, {"class", "source", "note"})
        cat.services[svc] = ServiceEntry(
            _class(path.name, where, entry.get("class")),
            _sources(path.name, where, entry.get("source"), cat),
        )
    types = _mapping(path.name, "resource_types", node.get("resource_types", {}) or {})
    for rtype, entries in types.items():
        where = f"resource type {rtype}"
        if not isinstance(entries, list):
            raise SpecError(path.name, where, "expected a list of {class, when, source}")
        parsed = []
        for i, e in enumerate(entries):
            w = f"{where} rule {i + 1}"
            e = _mapping(path.name, w, e, {"class", "when", "source"})
            parsed.append(
                ClassRule(
                    _class(path.name, w, e.get("class")),
                    _condition(path.name, w, e.get("when")),
                    _sources(path.name, w, e.get("source"), cat),
                )
            )
        cat.type_rules[rtype] = tuple(parsed)


# Named parties (an MSP, a vendor, a team) are assigned by the owners file (--owners), which
# can split a service by account, OU or tag; ownership.yaml says only who holds a layer
# between AWS and the customer.
_PARTIES_MOVED = (
    "named parties are assigned by the owners file now (--owners FILE; see docs/ownership.md);"
    " ownership.yaml owners are customer, aws or shared"
)


def _load_ownership(path: Path, cat: Catalog) -> None:
    allowed = {"layers", "overrides", "attestation"}
    raw = _read_yaml(path)
    if isinstance(raw, dict) and "third_parties" in raw:
        raise SpecError(path.name, "third_parties", _PARTIES_MOVED)
    node = _mapping(path.name, "top level", raw, allowed)
    if "attestation" in node:
        cat.attestation = str(node["attestation"])
    owners = BUILTIN_OWNERS
    for lid, entry in _mapping(path.name, "layers", node.get("layers", {}) or {}).items():
        where = f"layer {lid}"
        layer = _layer(path.name, where, lid)
        entry = _mapping(path.name, where, entry, {*ServiceClass, "source", "note"})
        row = dict(cat.ownership.get(layer, {}))
        for cls in ServiceClass:
            if cls.value in entry:
                if entry[cls.value] not in owners:
                    raise SpecError(
                        path.name, where, f"unknown owner {entry[cls.value]!r} for {cls.value}"
                    )
                row[cls] = entry[cls.value]
        cat.ownership[layer] = row
        cat.ownership_sources[layer] = _sources(path.name, where, entry.get("source"), cat)
    for i, o in enumerate(node.get("overrides", []) or []):
        where = f"override {i + 1}"
        o = _mapping(path.name, where, o, {"layer", "service", "owner", "source"})
        if o.get("owner") not in owners:
            raise SpecError(
                path.name,
                where,
                f"unknown owner {o.get('owner')!r}: the owner is customer, aws or shared;"
                " a named party is assigned by the owners file (--owners, docs/ownership.md)",
            )
        if not o.get("source"):
            raise SpecError(path.name, where, "an override must cite its source (e.g. a contract)")
        cat.overrides.append(
            Override(
                _layer(path.name, where, o.get("layer")),
                str(o.get("service", "*")),
                str(o["owner"]),
                str(o["source"]),
            )
        )


def _references(file: str, where: str, node: Any) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, value in _mapping(file, where, node or {}).items():
        pattern = REFERENCE_KEYS.get(key)
        if pattern is None:
            raise SpecError(
                file, where, f"unknown reference framework {key!r} ({', '.join(REFERENCE_KEYS)})"
            )
        values = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        for v in values:
            if not pattern.match(v):
                raise SpecError(file, where, f"{key} reference {v!r} is not of the expected form")
        out[key] = values
    return out


def _load_controls(
    path: Path,
    cat: Catalog,
    types: Mapping[str, ResourceSpec] | None,
    seen_here: set[str],
) -> None:
    node = _read_yaml(path)
    if not isinstance(node, list):
        raise SpecError(path.name, "top level", "a controls file is a list of controls")
    for i, c in enumerate(node):
        cid = c.get("id") if isinstance(c, dict) else None
        where = f"control {cid}" if cid else f"control #{i + 1}"
        c = _mapping(path.name, where, c, _CONTROL_KEYS)
        if not isinstance(cid, str) or not _CONTROL_ID.match(cid):
            raise SpecError(path.name, where, "'id' must look like layer.service.what-it-checks")
        if cid in seen_here:
            raise SpecError(path.name, where, "duplicate control id")
        seen_here.add(cid)
        if c.get("disabled"):
            cat.controls.pop(cid, None)
            continue
        for key in ("title", "layer", "resource", "severity", "pass_when", "remediation"):
            if key not in c:
                raise SpecError(path.name, where, f"missing '{key}'")
        layer = _layer(path.name, where, c["layer"])
        if not cid.startswith(f"{layer.value}."):
            raise SpecError(path.name, where, f"the id must start with its layer '{layer.value}.'")
        rtype = str(c["resource"])
        account_scoped = False
        if types is not None:
            spec = types.get(rtype)
            if spec is None:
                raise SpecError(path.name, where, f"no collector produces resource {rtype!r}")
            account_scoped = spec.singleton
        try:
            severity = Severity(c["severity"])
        except ValueError:
            raise SpecError(path.name, where, f"unknown severity {c['severity']!r}") from None
        safeguard = c.get("safeguard", True)
        if not isinstance(safeguard, bool):
            raise SpecError(path.name, where, "'safeguard' is true or false")
        protects, covers = _scope(path.name, where, c, rtype, account_scoped, types)
        cat.controls[cid] = Control(
            id=cid,
            title=str(c["title"]),
            layer=layer,
            resource_type=rtype,
            severity=severity,
            condition=_condition(path.name, f"{where} pass_when", c["pass_when"]),
            applies_when=(
                _condition(path.name, f"{where} applies_when", c["applies_when"])
                if "applies_when" in c
                else None
            ),
            safeguard=safeguard,
            references=_references(path.name, f"{where} references", c.get("references")),
            remediation=str(c["remediation"]).strip(),
            description=str(c.get("description", "")).strip(),
            source_file=path.name,
            account_scoped=account_scoped,
            protects=protects,
            covers=covers,
        )


def _listed_services(types: Mapping[str, ResourceSpec]) -> set[str]:
    """Services that can be in use: those with a resource type that is listed, not a fact."""
    return {spec.service for spec in types.values() if not spec.singleton}


def _scope(
    file: str,
    where: str,
    c: Mapping[str, Any],
    rtype: str,
    account_scoped: bool,
    types: Mapping[str, ResourceSpec] | None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A control's `protects` and `covers` (DESIGN, the gap rule v2: the scope of evidence).

    A control on a listed resource type is evidence for that resource's service only. A
    control on an account fact must say what it protects: `account` (the baseline row) or
    the services it protects; only such a setting may cover resource controls."""
    raw = c.get("protects")
    if raw is None:
        protects: tuple[str, ...] = ()
    elif raw == ACCOUNT_ROW:
        protects = (ACCOUNT_ROW,)
    elif isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
        protects = tuple(dict.fromkeys(raw))
    else:
        raise SpecError(file, where, "'protects' is 'account' or a list of services")
    if types is not None:
        if account_scoped and not protects:
            raise SpecError(
                file,
                where,
                f"{rtype} is an account fact: say what the control protects"
                " ('protects: account' for the baseline, or 'protects: [service, ...]')",
            )
        if not account_scoped and protects:
            raise SpecError(
                file,
                where,
                f"'protects' is for account facts; a control on {rtype} counts for"
                f" {rtype.split('.', 1)[0]}",
            )
        known = _listed_services(types)
        unknown = [svc for svc in protects if svc != ACCOUNT_ROW and svc not in known]
        if unknown:
            raise SpecError(
                file,
                where,
                f"'protects' names unknown service(s) {', '.join(unknown)}"
                f" (known: {', '.join(sorted(known))})",
            )
    covers_raw = c.get("covers", [])
    if not isinstance(covers_raw, list) or not all(isinstance(v, str) for v in covers_raw):
        raise SpecError(file, where, "'covers' is a list of control ids")
    if covers_raw and (not protects or protects == (ACCOUNT_ROW,)):
        raise SpecError(file, where, "only a setting that protects services may 'cover'")
    return protects, tuple(covers_raw)


def _check_covers(cat: Catalog) -> None:
    """Each covered control exists, is about a resource, and of a service the setting protects."""
    for setting in cat.controls.values():
        for cid in setting.covers:
            where = f"control {setting.id}"
            covered = cat.controls.get(cid)
            if covered is None:
                raise SpecError(setting.source_file, where, f"'covers' names unknown control {cid}")
            if covered.account_scoped or covered.service not in setting.protects:
                raise SpecError(
                    setting.source_file,
                    where,
                    f"'covers' names {cid}, which is not a resource control of a service"
                    f" it protects ({', '.join(setting.protects)})",
                )


def _load_dir(directory: Path, cat: Catalog, types: Mapping[str, ResourceSpec] | None) -> None:
    loaders = (
        ("sources.yaml", _load_sources),
        ("layers.yaml", _load_layers),
        ("services.yaml", _load_services),
        ("ownership.yaml", _load_ownership),
    )
    for name, loader in loaders:
        if (directory / name).is_file():
            loader(directory / name, cat)
        # services/*.yaml (and the like) let each group of services keep its own file.
        for extra in sorted((directory / name.removesuffix(".yaml")).glob("*.yaml")):
            loader(extra, cat)
    seen: set[str] = set()
    control_files = sorted((directory / "controls").glob("*.yaml"))
    control_files += sorted(p for p in directory.glob("controls*.yaml"))
    for path in control_files:
        _load_controls(path, cat, types, seen)


def load_catalog(
    types: Mapping[str, ResourceSpec] | None = None, extra: Path | None = None
) -> Catalog:
    """The packaged mappings, then the user's directory over them (ids replace, maps merge)."""
    cat = Catalog()
    _load_dir(mappings_dir(), cat, types)
    if extra is not None:
        if not extra.is_dir():
            raise SpecError(str(extra), "", "--mappings must name a directory")
        _load_dir(extra, cat, types)
    _check_complete(cat, types)
    return cat


def _check_complete(cat: Catalog, types: Mapping[str, ResourceSpec] | None) -> None:
    _check_covers(cat)
    missing = [layer.value for layer in Layer if layer not in cat.layers]
    if missing:
        raise SpecError("layers.yaml", "", f"layers without a description: {', '.join(missing)}")
    for layer in Layer:
        row = cat.ownership.get(layer, {})
        gaps = [cls.value for cls in ServiceClass if cls not in row]
        if gaps:
            raise SpecError("ownership.yaml", f"layer {layer.value}", f"no owner for {gaps}")
    if types is not None:
        for rtype in types:
            if rtype.split(".", 1)[0] not in cat.services:
                raise SpecError("services.yaml", "", f"no service class for {rtype!r}")
