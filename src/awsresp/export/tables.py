"""The tabular outputs (findings, matrix, gaps, issues, controls) as rows, and CSV writing
(RFC 4180, safe in a spreadsheet)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from awsresp.model import AccountInfo, Cell, CollectionIssue, Finding, Gap

# Every row of findings, matrix, gaps and issues says whose it is: the account id, and the
# account's name and organizational unit path when an organization scan listed them.
ACCOUNT_COLUMNS = ["account_id", "account_name", "ou_path"]

FINDING_COLUMNS = [
    *ACCOUNT_COLUMNS,
    "region",
    "service",
    "resource_type",
    "resource_id",
    "resource_arn",
    "resource_name",
    "service_class",
    "layer",
    "owner",
    "party",
    "control_id",
    "control_title",
    "status",
    "severity",
    "safeguard",
    "evidence",
    "references",
    "remediation",
    "accepted_reason",
    "accepted_by",
    "accepted_until",
    "scanned_at",
    "finding_id",
]
MATRIX_COLUMNS = [
    *ACCOUNT_COLUMNS,
    "layer",
    "service",
    "service_class",
    "owner",
    "party",
    "status",
    "resources",
    "controlled",
    "exposed",
    "weak",
    "unreadable",
    "accepted",
    "coverage",
    "worst",
    "reason",
    "evidence",
]
GAP_COLUMNS = ["rank", "kind", *MATRIX_COLUMNS, "affects"]
ISSUE_COLUMNS = [
    *ACCOUNT_COLUMNS,
    "service",
    "region",
    "operation",
    "iam_action",
    "error_code",
    "kind",
    "resource_type",
    "message",
]

# Cells a spreadsheet would run as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def references_text(refs: Any) -> str:
    return "; ".join(f"{k} {', '.join(v)}" for k, v in sorted(refs.items()))


def finding_id(account: str, control_id: str, arn: str, rtype: str, rid: str, region: str) -> str:
    """Stable across scans: the same control on the same resource keeps its id."""
    where = arn or f"{rtype}/{rid}@{region}"
    return hashlib.sha256(f"{account}|{control_id}|{where}".encode()).hexdigest()[:16]


def account_fields(account_id: str, info: AccountInfo | None) -> dict[str, str]:
    """The account columns of a row: the name and OU path only for the account `info` names."""
    named = info is not None and info.id == account_id
    return {
        "account_id": account_id,
        "account_name": info.name if named and info else "",
        "ou_path": info.ou_path if named and info else "",
    }


def finding_row(f: Finding, scanned_at: str, info: AccountInfo | None = None) -> dict[str, Any]:
    r = f.resource
    a = f.acceptance
    return {
        **account_fields(r.account, info),
        "region": r.region,
        "service": r.service,
        "resource_type": r.type,
        "resource_id": r.id,
        "resource_arn": r.arn,
        "resource_name": r.name,
        "service_class": f.service_class.value,
        "layer": f.layer.value,
        "owner": f.owner,
        "party": f.party,
        "control_id": f.control.id,
        "control_title": f.control.title,
        "status": f.status.value,
        "severity": f.control.severity.value,
        "safeguard": "true" if f.control.safeguard else "false",
        "evidence": _json(f.evidence),
        "references": references_text(f.control.references),
        "remediation": f.control.remediation,
        # An acceptance that expired is kept on the (failing) finding, so it shows.
        "accepted_reason": a.reason if a else "",
        "accepted_by": a.approver if a else "",
        "accepted_until": a.expires if a else "",
        "scanned_at": scanned_at,
        "finding_id": finding_id(r.account, f.control.id, r.arn, r.type, r.id, r.region),
    }


def cell_row(c: Cell, info: AccountInfo | None = None) -> dict[str, Any]:
    return {
        **account_fields(c.account, info),
        "layer": c.layer.value,
        "service": c.service,
        "service_class": c.service_class.value,
        "owner": c.owner,
        "party": c.party,
        "status": c.status.value,
        "resources": c.resources,
        "controlled": c.controlled,
        "exposed": c.exposed,
        "weak": c.weak,
        "unreadable": c.unreadable,
        "accepted": c.accepted,
        "coverage": c.coverage,
        "worst": c.worst,
        "reason": c.reason,
        "evidence": c.evidence,
    }


def gap_rows(gaps: Iterable[Gap], info: AccountInfo | None = None) -> Iterator[dict[str, Any]]:
    """gaps.csv: ranked gaps then exposures, with the services a baseline gap shows on."""
    for rank, g in enumerate(gaps, start=1):
        yield (
            {"rank": rank, "kind": g.kind.value}
            | cell_row(g.cell, info)
            | {"affects": " ".join(g.affects)}
        )


def issue_row(i: CollectionIssue, info: AccountInfo | None = None) -> dict[str, Any]:
    return {
        **account_fields(i.account, info),
        "service": i.service,
        "region": i.region,
        "operation": i.operation,
        "iam_action": i.iam_action,
        "error_code": i.error_code,
        "kind": i.kind.value,
        "resource_type": i.resource_type,
        "message": i.message,
    }


def write_csv(out: TextIO, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(row[k]) for k in columns})


def controls_rows(catalog: Any) -> list[dict[str, Any]]:
    """The control catalog as rows: what each checks, where it counts and who owns it."""
    rows = []
    for c in sorted(catalog.controls.values(), key=lambda c: c.id):
        row: dict[str, Any] = {
            "id": c.id,
            "title": c.title,
            "layer": c.layer.value,
            "resource_type": c.resource_type,
            "scope": " ".join(c.scope),
            "covers": " ".join(c.covers),
            "severity": c.severity.value,
            "safeguard": c.safeguard,
        }
        for cls, owner in sorted(catalog.ownership[c.layer].items()):
            row[f"owner_{cls.value}"] = owner
        row["references"] = [f"{k} {v}" for k, vs in sorted(c.references.items()) for v in vs]
        row["remediation"] = c.remediation
        rows.append(row)
    return rows
