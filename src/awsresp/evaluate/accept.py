"""The accept file (`--accept`): failures the user accepts as risks, each with a reason, an
approver and an expiry date; a matching failing finding becomes `accepted` until that day."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from awsresp.evaluate.catalog import Catalog
from awsresp.evaluate.userfile import Fields, UserFileError, parse
from awsresp.model import Acceptance, Resource

_TOP_KEYS = {"accepted"}
_ENTRY_KEYS = {"control", "resource", "account", "tags", "reason", "approver", "expires", "note"}
# An acceptance this close to its expiry is named in the warnings, so it can be renewed.
EXPIRY_NOTICE_DAYS = 30


@dataclass(frozen=True)
class AcceptEntry:
    control: str
    line: int
    reason: str
    approver: str
    expires: dt.date
    resources: tuple[str, ...] = ()  # globs over the resource's ARN or id
    accounts: frozenset[str] = frozenset()
    tags: tuple[tuple[str, str], ...] = ()  # (key, value glob), all must match

    def matches(self, control_id: str, r: Resource) -> bool:
        if control_id != self.control:
            return False
        if self.accounts and r.account not in self.accounts:
            return False
        if self.resources and not any(
            fnmatchcase(r.arn, p) or fnmatchcase(r.id, p) for p in self.resources
        ):
            return False
        return all(k in r.tags and fnmatchcase(r.tags[k], v) for k, v in self.tags)

    def describe(self) -> str:
        what = [*self.resources, *sorted(self.accounts)]
        what += [f"{k}={v}" for k, v in self.tags]
        return f"{self.control} for {', '.join(what)}"


@dataclass(frozen=True)
class AcceptList:
    file: str = ""
    entries: tuple[AcceptEntry, ...] = ()


NO_ACCEPTS = AcceptList()


@dataclass
class Acceptor:
    """Applies an accept list at one instant, counting what each entry matched."""

    accepts: AcceptList
    today: dt.date
    # entry index -> failing findings it accepted (active) or would have (expired); findings
    # are judged in the collector's listing threads, hence the lock.
    hits: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acceptance(self, control_id: str, r: Resource) -> Acceptance | None:
        """The acceptance of a failing finding: the first entry still in force; else the
        first that expired (the finding fails, and says which acceptance ran out)."""
        expired: tuple[int, AcceptEntry] | None = None
        for i, e in enumerate(self.accepts.entries):
            if not e.matches(control_id, r):
                continue
            if self.today < e.expires:
                self._hit(i)
                return self._of(e, expired=False)
            if expired is None:
                expired = (i, e)
        if expired is None:
            return None
        self._hit(expired[0])
        return self._of(expired[1], expired=True)

    def _hit(self, i: int) -> None:
        with self._lock:
            self.hits[i] += 1

    def _of(self, e: AcceptEntry, expired: bool) -> Acceptance:
        where = f"{self.accepts.file}:{e.line}"
        return Acceptance(e.reason, e.approver, e.expires.isoformat(), where, expired)

    def warnings(self, catalog: Catalog, scanned: Iterable[str]) -> list[str]:
        """Expired entries (their findings fail again), entries expiring within
        EXPIRY_NOTICE_DAYS, and entries that matched no failing finding of a scanned service."""
        scanned = set(scanned)
        out = []
        for i, e in enumerate(self.accepts.entries):
            head = f"{self.accepts.file}: line {e.line}: {e.describe()}"
            n = self.hits[i]
            if self.today >= e.expires:
                again = f": {n} finding(s) fail again" if n else " (it matches no failing finding)"
                out.append(f"{head}: the acceptance expired on {e.expires.isoformat()}{again}")
                continue
            control = catalog.controls.get(e.control)
            if not n and control is not None and (not scanned or control.service in scanned):
                out.append(f"{head}: matches no failing finding")
            days = (e.expires - self.today).days
            if days <= EXPIRY_NOTICE_DAYS:
                out.append(
                    f"{head}: the acceptance expires on {e.expires.isoformat()} (in {days} day(s))"
                )
        return out


def load_accepts(name: str, text: str, catalog: Catalog) -> AcceptList:
    """Parses and validates an accept file; every error names the file and the line."""
    doc = parse(name, text)
    if doc is None:
        raise UserFileError(name, 0, "the file is empty (expected accepted:)")
    top = Fields(name, doc, "top level", _TOP_KEYS)
    raw = doc.get("accepted")
    if not isinstance(raw, list):
        raise UserFileError(name, top.line_of("accepted"), "'accepted' must be a list of entries")
    lines = getattr(raw, "item_lines", [])
    entries = [
        _entry(name, node, lines[i] if i < len(lines) else top.line, catalog)
        for i, node in enumerate(raw)
    ]
    return AcceptList(name, tuple(entries))


def _entry(name: str, node: Any, line: int, catalog: Catalog) -> AcceptEntry:
    if not isinstance(node, dict):
        raise UserFileError(name, line, "an entry is a mapping: control, resource, reason, ...")
    f = Fields(name, node, "entry", _ENTRY_KEYS)
    control = f.text("control")
    if control not in catalog.controls:
        raise f.error("control", f"unknown control {control!r} (awsresp controls lists them)")
    resources = f.texts("resource")
    accounts = f.texts("account")
    for account in accounts:
        if not (len(account) == 12 and account.isdigit()):
            raise f.error("account", f"account {account!r} is not a 12-digit account id (quote it)")
    tags = tuple(sorted(f.string_map("tags").items())) if f.has("tags") else ()
    if not (resources or accounts or tags):
        raise UserFileError(
            name,
            f.line,
            "say which resources the acceptance covers: 'resource' (an ARN or id glob;"
            " '*' for all), 'account' or 'tags'",
        )
    expires = f.date("expires")
    assert expires is not None  # required
    return AcceptEntry(
        control,
        f.line,
        reason=f.text("reason"),
        approver=f.text("approver"),
        expires=expires,
        resources=resources,
        accounts=frozenset(accounts),
        tags=tags,
    )
