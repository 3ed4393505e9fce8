"""scan.json: the whole scan as one JSON document, streamed one item at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from awsresp import __version__
from awsresp.export.frameworks import framework_rows
from awsresp.export.owners import owner_rows
from awsresp.export.tables import cell_row, finding_row, gap_rows, issue_row
from awsresp.model import Resource, ScanResult

# 2: the gap rule v2 (cells judged per unit; the account row; gaps and exposures ranked)
# and the scan's scope (services and regions collected). Later additions are new keys and
# columns a version-2 reader may ignore: parties and accepted risks (a finding status
# `accepted`, columns party, accepted*, the lists owners, frameworks and warnings).
SCHEMA_VERSION = 2


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
_STREAMED = ("issues", "findings", "matrix", "gaps", "frameworks", "resources")


def _document_parts(result: ScanResult) -> dict[str, Any]:
    """scan.json's fields in order; the long lists are lazy iterables."""
    inv = result.inventory
    info = result.account_info
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "awsresp", "version": __version__},
        "scanned_at": result.scanned_at,
        "account": inv.account,
        "account_name": info.name if info else "",
        "ou_path": info.ou_path if info else "",
        "partition": inv.partition,
        "regions": list(inv.regions),
        "scope": {"services": list(inv.services), "regions": list(inv.regions)},
        "complete": result.complete,
        "started_at": inv.started_at,
        "finished_at": inv.finished_at,
        "summary": summary_counts(result),
        "issues": (issue_row(i, info) for i in inv.issues),
        "findings": (finding_row(f, result.scanned_at, info) for f in result.findings),
        "matrix": (cell_row(c, info) for c in result.cells),
        "gaps": gap_rows(result.ranked, info),
        "owners": list(owner_rows(result)),
        "frameworks": framework_rows(result.requirements),
        "warnings": list(result.warnings),
        "undetermined": [{"account_id": a, "service": s} for a, s in result.undetermined],
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


def iter_scan_json(result: ScanResult, files: Mapping[str, str] | None = None) -> Iterator[str]:
    """scan.json as text chunks, one finding or resource at a time, so writing the file
    never holds every row at once (the same JSON value as `scan_document`). `files`: the
    SHA-256 of each other file of the output set, recorded last (files.write_files)."""
    parts = _document_parts(result)
    if files is not None:
        parts["files"] = dict(files)
    yield "{"
    for n, (key, value) in enumerate(parts.items()):
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
        "exposures": len(result.exposures),
        "issues": len(result.inventory.issues),
    }
