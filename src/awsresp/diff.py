"""Compares two saved scans (read through the typed scan.json model): new, resolved and
changed findings, and matrix cells that moved."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from awsresp.errors import AwsrespError
from awsresp.export import Format, Writers
from awsresp.export.tables import finding_id, write_csv
from awsresp.export.terminal import printable, printable_rows
from awsresp.model import (
    ACCOUNT_ROW,
    AWS,
    CUSTOMER,
    SHARED,
    CellStatus,
    FindingStatus,
    Layer,
    ServiceClass,
)
from awsresp.scanfile import CellRow, FindingRow, ScanFile, ScanFileError, parse_scan, read_scan

_GLOBAL = "global"
DIFF_COLUMNS = [
    "change",
    "regression",
    "account_id",
    "layer",
    "service",
    "party",
    "control_id",
    "resource_type",
    "resource_id",
    "region",
    "old_status",
    "new_status",
    "old_exposed",
    "new_exposed",
    "old_owner",
    "new_owner",
    "old_party",
    "new_party",
    "finding_id",
]


@dataclass(frozen=True)
class Change:
    change: str  # finding-new, finding-resolved, finding-changed, cell-changed, owner-changed
    regression: bool
    row: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        out = dict.fromkeys(DIFF_COLUMNS, "")
        out.update(self.row)
        out["change"] = self.change
        out["regression"] = "true" if self.regression else "false"
        return out


@dataclass(frozen=True)
class ScanDiff:
    old: str
    new: str
    changes: tuple[Change, ...]
    # What was compared, when the two scans covered different services or regions.
    notes: tuple[str, ...] = ()

    @property
    def regressed(self) -> bool:
        return any(c.regression for c in self.changes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.change] = out.get(c.change, 0) + 1
        out["regressions"] = sum(1 for c in self.changes if c.regression)
        return out


def _read_s3(url: str) -> tuple[str, bytes]:
    """(where, body) of a scan.json in S3: the object named, or for a prefix (ending in '/')
    the scan.json of the latest run under it that has a manifest (the Lambda publishes a
    run's files, then its manifest last), checked against the digest the manifest lists."""
    import boto3

    from awsresp.export.partitions import S3Store, read_published

    parts = urlsplit(url)
    key = parts.path.lstrip("/")
    store = S3Store(boto3.client("s3"), parts.netloc)
    where = f"s3://{parts.netloc}/{key}"
    try:
        if key and not key.endswith("/"):
            return where, store.get(key)
        found, body = read_published(store, key, "scan.json")
        return f"s3://{parts.netloc}/{found}", body
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise AwsrespError(f"cannot read {where}: {code}") from None
    except BotoCoreError as exc:
        raise AwsrespError(f"cannot read {where}: {exc}") from None


def load_scan(where: str) -> ScanFile:
    """A scan.json: a file, an output folder holding one, or an s3:// object or the prefix of
    published runs; another schema, a newer version or a wrong shape is a ScanFileError
    (one line)."""
    if not where.startswith("s3://"):
        return read_scan(Path(where))
    name, raw = _read_s3(where)
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ScanFileError(f"{name} is not JSON ({exc})") from None
    return parse_scan(doc, name)


@dataclass(frozen=True)
class _Scope:
    services: frozenset[str]
    regions: frozenset[str]

    @classmethod
    def of(cls, scan: ScanFile) -> _Scope:
        """What a scan covered; a scan that did not record it is read off what it holds."""
        services = scan.scope.services or sorted(
            {f.service for f in scan.findings}
            | {c.service for c in scan.matrix if c.service != ACCOUNT_ROW}
        )
        regions = scan.scope.regions or scan.regions
        return cls(frozenset(services), frozenset(regions))

    def holds(self, service: str, region: str) -> bool:
        return service in self.services and (region == _GLOBAL or region in self.regions)


def _fid(f: FindingRow) -> str:
    return f.finding_id or finding_id(
        f.account_id, f.control_id, f.resource_arn, f.resource_type, f.resource_id, f.region
    )


def _finding_fields(f: FindingRow) -> dict[str, Any]:
    return {
        "account_id": f.account_id,
        "layer": f.layer.value,
        "service": f.service,
        "control_id": f.control_id,
        "resource_type": f.resource_type,
        "resource_id": f.resource_id,
        "region": f.region,
        "finding_id": _fid(f),
    }


def _rank(cell: CellRow | None) -> int:
    """How bad a cell is; a cell that did not exist counts as covered."""
    return (cell.status if cell else CellStatus.COVERED).rank


def diff_scans(old: ScanFile, new: ScanFile, old_name: str, new_name: str) -> ScanDiff:
    """New, resolved and changed findings, and cells whose status or exposure moved,
    within what both scans covered (services and regions)."""
    changes: list[Change] = []
    notes: list[str] = []
    old_scope, new_scope = _Scope.of(old), _Scope.of(new)
    both = _Scope(old_scope.services & new_scope.services, old_scope.regions & new_scope.regions)
    if old_scope != new_scope:
        notes.append(_scope_note(old_scope, new_scope, both))

    def findings(scan: ScanFile) -> dict[str, FindingRow]:
        return {_fid(f): f for f in scan.findings if both.holds(f.service, f.region)}

    fail = FindingStatus.FAIL
    old_f, new_f = findings(old), findings(new)
    for fid, f in new_f.items():
        before = old_f.get(fid)
        fields = _finding_fields(f)
        if before is None:
            row = fields | {"old_status": "", "new_status": f.status.value}
            changes.append(Change("finding-new", f.status == fail, row))
        elif before.status != f.status:
            row = fields | {"old_status": before.status.value, "new_status": f.status.value}
            changes.append(Change("finding-changed", f.status == fail, row))
    for fid, f in old_f.items():
        if fid not in new_f:
            row = _finding_fields(f) | {"old_status": f.status.value, "new_status": ""}
            changes.append(Change("finding-resolved", False, row))

    if old_scope.regions != new_scope.regions:
        notes.append("matrix cells not compared: the scans covered different regions")
    else:
        changes += _cell_changes(old, new, both)
    return ScanDiff(old_name, new_name, tuple(changes), tuple(notes))


def _scope_note(old: _Scope, new: _Scope, both: _Scope) -> str:
    parts = []
    for label, mine in (("old", old), ("new", new)):
        extra_s = sorted(mine.services - both.services)
        extra_r = sorted(mine.regions - both.regions)
        if extra_s or extra_r:
            what = ", ".join(
                p
                for p in (
                    f"services {' '.join(extra_s)}" if extra_s else "",
                    f"regions {' '.join(extra_r)}" if extra_r else "",
                )
                if p
            )
            parts.append(f"only the {label} scan covered {what}")
    return (
        "compared only what both scans covered (services "
        f"{' '.join(sorted(both.services)) or 'none'}; regions"
        f" {' '.join(sorted(both.regions)) or 'none'}): {'; '.join(parts)}"
    )


# account, layer, service, service class
_Key = tuple[str, Layer, str, ServiceClass]


def _cell_changes(old: ScanFile, new: ScanFile, both: _Scope) -> list[Change]:
    """Cells of services both scans covered whose status or exposed count moved, and layers
    whose owner or accountable parties changed. A cell one scan could not judge for lack of
    scope (reason not-scanned) is not compared, nor are the cells that only show such an
    account-row cell (reason via-account). Where tag rules split a layer between parties,
    each party's cell is compared when both scans have the same parties; otherwise the
    layer is compared as a whole (worst status, exposed units summed)."""

    def cells(scan: ScanFile) -> dict[_Key, dict[str, CellRow]]:
        out: dict[_Key, dict[str, CellRow]] = {}
        for c in scan.matrix:
            if c.service == ACCOUNT_ROW or c.service in both.services:
                key = (c.account_id, c.layer, c.service, c.service_class)
                out.setdefault(key, {})[_holder(c)[1]] = c
        return out

    old_c, new_c = cells(old), cells(new)
    unscanned = {
        (key[0], key[1])
        for side in (old_c, new_c)
        for key, by_party in side.items()
        for c in by_party.values()
        if key[2] == ACCOUNT_ROW and c.reason == "not-scanned"
    }

    def comparable(c: CellRow | None) -> bool:
        if c is None:
            return True
        if c.reason == "not-scanned":
            return False
        return not (c.reason == "via-account" and (c.account_id, c.layer) in unscanned)

    out = []
    for key in sorted(set(old_c) | set(new_c)):
        old_by, new_by = old_c.get(key, {}), new_c.get(key, {})
        if old_by and new_by:
            out += _owner_change(key, old_by, new_by)
        pairs: list[tuple[str, CellRow | None, CellRow | None]]
        if set(old_by) == set(new_by):
            pairs = [(p, old_by[p], new_by[p]) for p in sorted(old_by)]
        else:
            pairs = [("", _whole(old_by), _whole(new_by))]
        for party, before, after in pairs:
            if comparable(before) and comparable(after):
                out += _status_change(key, party, before, after)
    return out


def _holder(c: CellRow) -> tuple[str, str]:
    """(owner, party) of a matrix row. Scans before the owners file have no party: the
    customer's and shared layers were the customer's, unless ownership.yaml named a third
    party as the owner."""
    if c.party:
        return c.owner, c.party
    if c.owner in (CUSTOMER, SHARED):
        return c.owner, CUSTOMER
    if c.owner == AWS:
        return c.owner, AWS
    return "", c.owner


def _owner_change(
    key: _Key, old_by: dict[str, CellRow], new_by: dict[str, CellRow]
) -> list[Change]:
    """A layer that moved between AWS, the customer and named parties (not a regression)."""
    old_owners = {_holder(c)[0] for c in old_by.values()} - {""}
    new_owners = {_holder(c)[0] for c in new_by.values()} - {""}
    old_parties, new_parties = set(old_by) - {""}, set(new_by) - {""}
    owner_moved = bool(old_owners and new_owners) and old_owners != new_owners
    party_moved = bool(old_parties and new_parties) and old_parties != new_parties
    if not (owner_moved or party_moved):
        return []
    row: dict[str, Any] = {"account_id": key[0], "layer": key[1].value, "service": key[2]}
    row |= {
        "old_owner": " ".join(sorted(old_owners)),
        "new_owner": " ".join(sorted(new_owners)),
        "old_party": "; ".join(sorted(old_parties)),
        "new_party": "; ".join(sorted(new_parties)),
    }
    return [Change("owner-changed", False, row)]


def _whole(by_party: dict[str, CellRow]) -> CellRow | None:
    """A layer split between parties as one cell: its worst status, its exposed units."""
    if not by_party:
        return None
    cells = list(by_party.values())
    worst = max(cells, key=_rank)
    return worst.model_copy(update={"exposed": sum(c.exposed for c in cells)})


def _status_change(
    key: _Key, party: str, before: CellRow | None, after: CellRow | None
) -> list[Change]:
    """A cell whose status or exposed units moved; worse (a regression) when it got worse."""
    old_status = before.status.value if before else ""
    new_status = after.status.value if after else ""
    old_exposed = before.exposed if before else 0
    new_exposed = after.exposed if after else 0
    if old_status == new_status and old_exposed == new_exposed:
        return []
    worse = after is not None and (_rank(after) > _rank(before) or new_exposed > old_exposed)
    row: dict[str, Any] = {"account_id": key[0], "layer": key[1].value, "service": key[2]}
    row |= {
        "party": party,
        "old_status": old_status,
        "new_status": new_status,
        "old_exposed": old_exposed if before else "",
        "new_exposed": new_exposed if after else "",
    }
    return [Change("cell-changed", worse, row)]


_CELL_LABEL = {"owner-changed": "(owner)"}


def _holder_text(row: dict[str, Any], side: str) -> str:
    """ "Acme MSP (shared)": who holds the layer, and its owner between AWS and the customer."""
    party, owner = row[f"{side}_party"], row[f"{side}_owner"]
    return f"{party} ({owner})" if owner and owner != party else str(party or owner or "-")


def _status_text(row: dict[str, Any], side: str) -> str:
    status = str(row[f"{side}_status"] or "-")
    exposed = row.get(f"{side}_exposed")
    return f"{status} ({exposed} exposed)" if exposed not in ("", None, 0) else status


def _json(d: ScanDiff) -> str:
    doc = {
        "old": d.old,
        "new": d.new,
        "notes": list(d.notes),
        "regressed": d.regressed,
        "counts": d.counts(),
        "changes": [c.as_row() for c in d.changes],
    }
    return json.dumps(doc, indent=1, ensure_ascii=True)


def _csv(d: ScanDiff) -> str:
    buf = io.StringIO()
    write_csv(buf, DIFF_COLUMNS, printable_rows(c.as_row() for c in d.changes))
    return buf.getvalue()


def _table(d: ScanDiff) -> str:
    from tabulate import tabulate

    rows = [c.as_row() for c in d.changes]
    notes = "".join(f"Note: {n}\n" for n in d.notes)
    if not rows:
        return printable(f"{notes}No changes between {d.old} and {d.new}")
    table = [
        [
            r["change"],
            "yes" if r["regression"] == "true" else "",
            r["layer"],
            r["service"],
            r["control_id"] or _CELL_LABEL.get(r["change"], "(matrix cell)"),
            r["resource_id"] or r["party"],
            *(
                (_holder_text(r, "old"), _holder_text(r, "new"))
                if r["change"] == "owner-changed"
                else (_status_text(r, "old"), _status_text(r, "new"))
            ),
        ]
        for r in rows
    ]
    headers = ["change", "regression", "layer", "service", "control", "resource", "old", "new"]
    counts = ", ".join(f"{k} {v}" for k, v in d.counts().items())
    return printable(f"{notes}{tabulate(table, headers=headers)}\n\n{counts}")


DIFF = Writers[ScanDiff](
    "a diff", {Format.TABLE: _table, Format.CSV: _csv, Format.JSON: _json, Format.OCSF: None}
)


def render_diff(d: ScanDiff, fmt: Format | str) -> str:
    return DIFF.render(d, Format(fmt))
