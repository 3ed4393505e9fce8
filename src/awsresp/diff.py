"""Compares two saved scans: new, resolved and changed findings, and matrix cells that moved."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from awsresp.errors import AwsrespError
from awsresp.export.tables import finding_id, write_csv

# How bad a cell status is; a cell "gets worse" when its rank goes up.
CELL_RANK = {"covered": 0, "inherited": 0, "not-assessed": 1, "partial": 2, "gap": 3}
DIFF_COLUMNS = [
    "change",
    "regression",
    "account_id",
    "layer",
    "service",
    "control_id",
    "resource_type",
    "resource_id",
    "region",
    "old_status",
    "new_status",
    "finding_id",
]


@dataclass(frozen=True)
class Change:
    change: str  # finding-new, finding-resolved, finding-changed, cell-changed
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

    @property
    def regressed(self) -> bool:
        return any(c.regression for c in self.changes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.change] = out.get(c.change, 0) + 1
        out["regressions"] = sum(1 for c in self.changes if c.regression)
        return out


def _read_s3(url: str) -> bytes:
    import boto3

    parts = urlsplit(url)
    key = parts.path.lstrip("/")
    if not key or key.endswith("/"):
        key += "scan.json"
    try:
        body = boto3.client("s3").get_object(Bucket=parts.netloc, Key=key)["Body"]
        return bytes(body.read())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise AwsrespError(f"cannot read s3://{parts.netloc}/{key}: {code}") from None
    except BotoCoreError as exc:
        raise AwsrespError(f"cannot read s3://{parts.netloc}/{key}: {exc}") from None


def load_scan(where: str) -> dict[str, Any]:
    """A scan.json: a file, an output folder holding one, or an s3:// object or prefix."""
    if where.startswith("s3://"):
        raw = _read_s3(where)
    else:
        path = Path(where)
        if path.is_dir():
            path = path / "scan.json"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise AwsrespError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = json.loads(raw)
    except ValueError:
        raise AwsrespError(f"{where} is not a scan.json file") from None
    if not isinstance(doc, dict) or "findings" not in doc or "matrix" not in doc:
        raise AwsrespError(f"{where} is not a scan.json file")
    return doc


def _fid(f: dict[str, Any]) -> str:
    # Scans written before finding ids existed get the same id computed here.
    return str(f.get("finding_id")) if f.get("finding_id") else finding_id(
        f["account_id"], f["control_id"], f["resource_arn"], f["resource_type"],
        f["resource_id"], f["region"],
    )  # fmt: skip


def _finding_fields(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("account_id", "layer", "service", "control_id", "resource_type", "resource_id")
    return {k: f.get(k, "") for k in keys} | {"region": f.get("region", ""), "finding_id": _fid(f)}


def diff_scans(old: dict[str, Any], new: dict[str, Any], old_name: str, new_name: str) -> ScanDiff:
    changes: list[Change] = []
    old_f = {_fid(f): f for f in old["findings"]}
    new_f = {_fid(f): f for f in new["findings"]}
    for fid, f in new_f.items():
        before = old_f.get(fid)
        fields = _finding_fields(f)
        if before is None:
            row = fields | {"old_status": "", "new_status": f["status"]}
            changes.append(Change("finding-new", f["status"] == "fail", row))
        elif before["status"] != f["status"]:
            row = fields | {"old_status": before["status"], "new_status": f["status"]}
            changes.append(Change("finding-changed", f["status"] == "fail", row))
    for fid, f in old_f.items():
        if fid not in new_f:
            row = _finding_fields(f) | {"old_status": f["status"], "new_status": ""}
            changes.append(Change("finding-resolved", False, row))

    def cells(doc: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(c["account_id"], c["layer"], c["service"]): c for c in doc["matrix"]}

    old_c, new_c = cells(old), cells(new)
    for key in sorted(set(old_c) | set(new_c)):
        before, after = old_c.get(key), new_c.get(key)
        old_status = before["status"] if before else ""
        new_status = after["status"] if after else ""
        if old_status == new_status:
            continue
        worse = bool(after) and CELL_RANK.get(new_status, 0) > CELL_RANK.get(old_status, 0)
        row = {"account_id": key[0], "layer": key[1], "service": key[2]}
        changes.append(
            Change(
                "cell-changed", worse, row | {"old_status": old_status, "new_status": new_status}
            )
        )
    return ScanDiff(old_name, new_name, tuple(changes))


def render_diff(d: ScanDiff, fmt: str) -> str:
    rows = [c.as_row() for c in d.changes]
    if fmt == "json":
        doc = {
            "old": d.old,
            "new": d.new,
            "regressed": d.regressed,
            "counts": d.counts(),
            "changes": rows,
        }
        return json.dumps(doc, indent=1, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(buf, DIFF_COLUMNS, rows)
        return buf.getvalue()
    from tabulate import tabulate

    if not rows:
        return f"No changes between {d.old} and {d.new}"
    table = [
        [
            r["change"],
            "yes" if r["regression"] == "true" else "",
            r["layer"],
            r["service"],
            r["control_id"] or "(matrix cell)",
            r["resource_id"],
            r["old_status"] or "-",
            r["new_status"] or "-",
        ]
        for r in rows
    ]
    headers = ["change", "regression", "layer", "service", "control", "resource", "old", "new"]
    counts = ", ".join(f"{k} {v}" for k, v in d.counts().items())
    return f"{tabulate(table, headers=headers)}\n\n{counts}"
