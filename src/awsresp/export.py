"""Writes a scan as terminal tables, CSV files (RFC 4180, spreadsheet-safe) and scan.json."""

from __future__ import annotations

import contextlib
import csv
import enum
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from tabulate import tabulate

from awsresp import __version__
from awsresp.errors import OutputError
from awsresp.model import Cell, CellStatus, CollectionIssue, Finding, Layer, Resource
from awsresp.scan import ScanResult

SCHEMA_VERSION = 1


class Format(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FINDING_COLUMNS = [
    "account_id",
    "region",
    "service",
    "resource_type",
    "resource_id",
    "resource_arn",
    "resource_name",
    "service_class",
    "layer",
    "owner",
    "control_id",
    "control_title",
    "status",
    "severity",
    "safeguard",
    "evidence",
    "references",
    "remediation",
    "scanned_at",
    "finding_id",
]
MATRIX_COLUMNS = [
    "account_id",
    "layer",
    "service",
    "service_class",
    "owner",
    "status",
    "passed",
    "failed",
    "unknown",
    "resources",
    "reason",
    "evidence",
]
ISSUE_COLUMNS = [
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


def finding_row(f: Finding, scanned_at: str) -> dict[str, Any]:
    r = f.resource
    return {
        "account_id": r.account,
        "region": r.region,
        "service": r.service,
        "resource_type": r.type,
        "resource_id": r.id,
        "resource_arn": r.arn,
        "resource_name": r.name,
        "service_class": f.service_class.value,
        "layer": f.layer.value,
        "owner": f.owner,
        "control_id": f.control.id,
        "control_title": f.control.title,
        "status": f.status.value,
        "severity": f.control.severity.value,
        "safeguard": "true" if f.control.safeguard else "false",
        "evidence": _json(f.evidence),
        "references": references_text(f.control.references),
        "remediation": f.control.remediation,
        "scanned_at": scanned_at,
        "finding_id": finding_id(r.account, f.control.id, r.arn, r.type, r.id, r.region),
    }


def cell_row(c: Cell) -> dict[str, Any]:
    return {
        "account_id": c.account,
        "layer": c.layer.value,
        "service": c.service,
        "service_class": c.service_class.value,
        "owner": c.owner,
        "status": c.status.value,
        "passed": c.passed,
        "failed": c.failed,
        "unknown": c.unknown,
        "resources": c.resources,
        "reason": c.reason,
        "evidence": c.evidence,
    }


def issue_row(i: CollectionIssue) -> dict[str, Any]:
    return {
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


def resource_json(r: Resource, service_class: str) -> dict[str, Any]:
    return {
        "type": r.type,
        "id": r.id,
        "arn": r.arn,
        "name": r.name,
        "account": r.account,
        "region": r.region,
        "service_class": service_class,
        "tags": dict(r.tags),
        "account_fact": r.account_fact,
        "unlisted": r.unlisted,
        "unreadable": sorted(r.unreadable),
        "config": r.config,
    }


# The long lists of scan.json: streamed item by item when the file is written.
_STREAMED = ("issues", "findings", "matrix", "gaps", "resources")


def _document_parts(result: ScanResult) -> dict[str, Any]:
    """scan.json's fields in order; the long lists are lazy iterables."""
    inv = result.inventory
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "awsresp", "version": __version__},
        "scanned_at": result.scanned_at,
        "account": inv.account,
        "partition": inv.partition,
        "regions": list(inv.regions),
        "complete": result.complete,
        "started_at": inv.started_at,
        "finished_at": inv.finished_at,
        "summary": summary_counts(result),
        "issues": (issue_row(i) for i in inv.issues),
        "findings": (finding_row(f, result.scanned_at) for f in result.findings),
        "matrix": (cell_row(c) for c in result.cells),
        "gaps": (cell_row(c) for c in result.gaps),
        "resources": (
            resource_json(r, cls) for r, cls in zip(inv.resources, result.classes, strict=True)
        ),
        "stats": {"api_calls": result.stats},
    }


def scan_document(result: ScanResult) -> dict[str, Any]:
    """The whole of scan.json as one value (stdout, uploads, tests)."""
    parts = _document_parts(result)
    return {k: list(v) if k in _STREAMED else v for k, v in parts.items()}


def _json_item(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def iter_scan_json(result: ScanResult) -> Iterator[str]:
    """scan.json as text chunks, one finding or resource at a time, so writing the file
    never holds every row at once (the same JSON value as `scan_document`)."""
    yield "{"
    for n, (key, value) in enumerate(_document_parts(result).items()):
        yield ("\n" if n == 0 else ",\n") + f" {_json_item(key)}: "
        if key not in _STREAMED:
            yield _json_item(value)
            continue
        empty = True
        for item in value:
            yield ("[\n  " if empty else ",\n  ") + _json_item(item)
            empty = False
        yield "[]" if empty else "\n ]"
    yield "\n}\n"


def summary_counts(result: ScanResult) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for f in result.findings:
        statuses[f.status.value] = statuses.get(f.status.value, 0) + 1
    cells: dict[str, int] = {}
    for c in result.cells:
        cells[c.status.value] = cells.get(c.status.value, 0) + 1
    return {
        "resources": sum(1 for r in result.inventory.resources if not r.unlisted),
        "findings": statuses,
        "cells": cells,
        "gaps": len(result.gaps),
        "issues": len(result.inventory.issues),
    }


@contextlib.contextmanager
def atomic_text(path: Path, bom: bool = False) -> Iterator[TextIO]:
    """Writes to a temporary file beside `path` and renames it into place on success,
    so a crash or Ctrl-C leaves the previous complete file or none, never a truncated one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prepare_dir(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {directory}: {exc.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise OutputError(f"output directory {directory} is not writable")
    return directory


def _tables(result: ScanResult) -> tuple[tuple[str, list[str], Iterable[dict[str, Any]]], ...]:
    return (
        (
            "findings.csv",
            FINDING_COLUMNS,
            (finding_row(f, result.scanned_at) for f in result.findings),
        ),
        ("matrix.csv", MATRIX_COLUMNS, (cell_row(c) for c in result.cells)),
        ("gaps.csv", MATRIX_COLUMNS, (cell_row(c) for c in result.gaps)),
        ("issues.csv", ISSUE_COLUMNS, (issue_row(i) for i in result.inventory.issues)),
    )


def output_files(result: ScanResult) -> list[tuple[str, str]]:
    """(file name, text) for findings.csv, matrix.csv, gaps.csv, issues.csv and scan.json
    (for uploads, e.g. the Lambda handler's to S3)."""
    files = []
    for name, columns, rows in _tables(result):
        buf = io.StringIO()
        write_csv(buf, columns, rows)
        files.append((name, buf.getvalue()))
    doc = json.dumps(scan_document(result), indent=1, ensure_ascii=False, default=str)
    files.append(("scan.json", doc + "\n"))
    return files


def write_files(result: ScanResult, directory: Path, excel: bool = False) -> list[Path]:
    """findings.csv, matrix.csv, gaps.csv, issues.csv and scan.json, written atomically as a
    set: every file is streamed to a temporary file first and all are renamed at the end, so
    a failure while writing leaves all the previous files."""
    prepare_dir(directory)
    written = []
    with contextlib.ExitStack() as renames:
        for name, columns, rows in _tables(result):
            fh = renames.enter_context(atomic_text(directory / name, bom=excel))
            write_csv(fh, columns, rows)
            written.append(directory / name)
        fh = renames.enter_context(atomic_text(directory / "scan.json"))
        fh.writelines(iter_scan_json(result))
        written.append(directory / "scan.json")
    return written


_STATUS = {
    CellStatus.COVERED: "covered",
    CellStatus.PARTIAL: "PARTIAL",
    CellStatus.GAP: "GAP",
    CellStatus.NOT_ASSESSED: "-",
}
# Column headings: each layer's id without its qualifier (the full ids are in matrix.csv).
_LAYER_HEADING = {
    Layer.NETWORK_CONTROLS: "network",
    Layer.OPERATING_SYSTEM: "os",
    Layer.PLATFORM_RUNTIME: "runtime",
    Layer.IDENTITY_DIRECTORY: "identity",
    Layer.ACCESS_RIGHTS: "access",
    Layer.LOGGING_DETECTION: "logging",
}
MATRIX_LEGEND = (
    "covered / PARTIAL / GAP / - (not assessed): the customer's layer;"
    " (S) shared with AWS, (name) a third party; aws: AWS's layer, inherited"
)


def _cell_text(cell: Cell) -> str:
    if cell.status == CellStatus.INHERITED:
        return "aws"
    status = _STATUS[cell.status]
    if cell.owner == "customer":
        return status
    return f"{status} ({'S' if cell.owner == 'shared' else cell.owner})"


def matrix_table(cells: Iterable[Cell]) -> str:
    """Services down, layers across, so the table stays as wide as the layer list however
    many services run. Layers that are AWS's for every service in use (physical and
    virtualization, usually) are named in one line instead of taking columns."""
    cell_list = list(cells)
    services: list[tuple[str, str, str]] = []
    for c in cell_list:
        key = (c.account, c.service, c.service_class.value)
        if key not in services:
            services.append(key)
    index = {(c.account, c.service, c.service_class.value, c.layer): c for c in cell_list}
    inherited_everywhere = [
        layer
        for layer in Layer
        if all(
            (found := index.get((*key, layer))) is None or found.status == CellStatus.INHERITED
            for key in services
        )
        and any(index.get((*key, layer)) for key in services)
    ]
    layers = [
        layer
        for layer in Layer
        if layer not in inherited_everywhere and any(index.get((*k, layer)) for k in services)
    ]
    accounts = {a for a, _, _ in services}
    headers = ["service (class)"] + [_LAYER_HEADING.get(layer, layer.value) for layer in layers]
    rows = []
    for a, s, cls in services:
        label = (f"{a} " if len(accounts) > 1 else "") + f"{s} ({cls})"
        row = [label]
        for layer in layers:
            found = index.get((a, s, cls, layer))
            row.append(_cell_text(found) if found else "")
        rows.append(row)
    lines = [tabulate(rows, headers=headers, tablefmt="simple"), "", MATRIX_LEGEND]
    if inherited_everywhere:
        names = ", ".join(layer.value for layer in inherited_everywhere)
        lines.append(f"{names}: AWS's for every service above (inherited; see AWS Artifact)")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip(" ,") + "..."


def gaps_table(cells: Iterable[Cell]) -> str:
    """One line per gap; the evidence is cut to fit (gaps.csv has all of it)."""
    rows = [
        [
            c.account,
            c.service,
            c.layer.value,
            c.owner,
            c.failed,
            c.unknown,
            c.reason,
            _shorten(c.evidence, 60),
        ]
        for c in cells
    ]
    headers = ["account", "service", "layer", "owner", "failed", "unknown", "reason", "evidence"]
    return tabulate(rows, headers=headers, tablefmt="simple")


def issues_table(issues: Iterable[CollectionIssue]) -> str:
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for i in issues:
        grouped.setdefault((i.kind.value, i.iam_action, i.error_code, i.resource_type), []).append(
            i.region
        )
    rows = [
        [kind, action, code, rtype, ", ".join(sorted(set(regions))), len(regions)]
        for (kind, action, code, rtype), regions in sorted(grouped.items())
    ]
    return tabulate(
        rows, headers=["kind", "iam action", "error", "resource type", "regions", "count"]
    )


def render(result: ScanResult, fmt: Format) -> str:
    if fmt == Format.JSON:
        return json.dumps(scan_document(result), indent=1, ensure_ascii=False, default=str)
    if fmt == Format.CSV:
        buf = io.StringIO()
        write_csv(
            buf, FINDING_COLUMNS, (finding_row(f, result.scanned_at) for f in result.findings)
        )
        return buf.getvalue()
    parts = [
        f"Responsibility matrix for account {result.inventory.account}"
        f" ({', '.join(result.inventory.regions)})",
        "",
        matrix_table(result.cells),
        "",
    ]
    gaps = result.gaps
    if gaps:
        parts += [f"Gaps: {len(gaps)} customer-owned layer(s) without a working control", ""]
        parts += [gaps_table(gaps), ""]
    else:
        parts += ["Gaps: none", ""]
    if result.inventory.issues:
        parts += [
            f"Could not read: {len(result.inventory.issues)} call(s) failed;"
            " affected findings are 'unknown'",
            "",
            issues_table(result.inventory.issues),
            "",
        ]
    return "\n".join(parts)


def controls_rows(catalog: Any) -> list[dict[str, Any]]:
    """The control catalog as rows: what each checks, where it counts and who owns it."""
    rows = []
    for c in sorted(catalog.controls.values(), key=lambda c: c.id):
        row: dict[str, Any] = {
            "id": c.id,
            "title": c.title,
            "layer": c.layer.value,
            "resource_type": c.resource_type,
            "account_scoped": c.account_scoped,
            "severity": c.severity.value,
            "safeguard": c.safeguard,
        }
        for cls, owner in sorted(catalog.ownership[c.layer].items()):
            row[f"owner_{cls.value}"] = owner
        row["references"] = [f"{k} {v}" for k, vs in sorted(c.references.items()) for v in vs]
        row["remediation"] = c.remediation
        rows.append(row)
    return rows
