"""scan.json: a scan as the typed scan.json model (scanfile.ScanFile), written one row at a
time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel

from awsresp import __version__
from awsresp.export.frameworks import framework_rows
from awsresp.export.owners import owner_rows
from awsresp.export.tables import cell_row, finding_row, gap_rows, issue_row
from awsresp.model import Resource, ScanResult
from awsresp.scanfile import (
    SCHEMA_VERSION,
    CellRow,
    FindingRow,
    FrameworkRow,
    GapRow,
    IssueRow,
    OwnerRow,
    ResourceRow,
    ScanFile,
    Scope,
    Stats,
    Tool,
    Undetermined,
)

__all__ = ["SCHEMA_VERSION", "iter_scan_json", "scan_document", "scan_model", "summary_counts"]


def resource_row(r: Resource, service_class: str) -> ResourceRow:
    return ResourceRow.model_validate(
        {
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
            "config": dict(r.config),
        }
    )


_T = TypeVar("_T")
_S = TypeVar("_S")


class _Rows(Sequence[_T], Generic[_S, _T]):
    """Rows built when read and not kept. A fresh scan's findings and resources as typed
    rows would hold every finding a second time while the reports and scan.json are
    written (about 100 MB at `make bench SCALE=100`); the writers read each row once or a
    few times (the report's drill-down), so they are built on demand instead."""

    def __init__(self, items: Sequence[_S], build: Callable[[_S], _T]) -> None:
        self._items, self._build = items, build

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> _T: ...
    @overload
    def __getitem__(self, i: slice) -> list[_T]: ...
    def __getitem__(self, i: int | slice) -> _T | list[_T]:
        if isinstance(i, slice):
            return [self._build(x) for x in self._items[i]]
        return self._build(self._items[i])

    def __iter__(self) -> Iterator[_T]:
        return (self._build(x) for x in self._items)


def scan_model(result: ScanResult, lazy: bool = False) -> ScanFile:
    """A scan as the typed scan.json: what the file holds and what readers read back.
    `lazy`: findings and resources are built as they are read (_Rows), for the writers
    that stream; the default holds them as lists, as a ScanFile read from a file does."""
    scan = _scan_model(result, lazy)
    if not lazy:
        return scan
    inv, info, at = result.inventory, result.account_info, result.scanned_at
    findings = _Rows(result.findings, lambda f: _finding(f, at, info))
    resources = _Rows(
        list(zip(inv.resources, result.classes, strict=True)), lambda rc: resource_row(*rc)
    )
    # model_copy does not validate: the rows stay lazy sequences behind the typed fields.
    return scan.model_copy(update={"findings": findings, "resources": resources})


def _finding(f: Any, scanned_at: str, info: Any) -> FindingRow:
    return FindingRow.model_validate(finding_row(f, scanned_at, info))


def _scan_model(result: ScanResult, lazy: bool) -> ScanFile:
    inv = result.inventory
    info = result.account_info
    return ScanFile(
        schema_version=SCHEMA_VERSION,
        tool=Tool(name="awsresp", version=__version__),
        scanned_at=result.scanned_at,
        account=inv.account,
        account_name=info.name if info else "",
        ou_path=info.ou_path if info else "",
        partition=inv.partition,
        regions=list(inv.regions),
        scope=Scope(services=list(inv.services), regions=list(inv.regions)),
        complete=result.complete,
        started_at=inv.started_at,
        finished_at=inv.finished_at,
        summary=summary_counts(result),
        issues=[IssueRow.model_validate(issue_row(i, info)) for i in inv.issues],
        findings=[] if lazy else [_finding(f, result.scanned_at, info) for f in result.findings],
        matrix=[CellRow.model_validate(cell_row(c, info)) for c in result.cells],
        gaps=[GapRow.model_validate(g) for g in gap_rows(result.ranked, info)],
        owners=[OwnerRow.model_validate(o) for o in owner_rows(result)],
        frameworks=[FrameworkRow.model_validate(r) for r in framework_rows(result.requirements)],
        warnings=list(result.warnings),
        undetermined=[Undetermined(account_id=a, service=s) for a, s in result.undetermined],
        resources=[]
        if lazy
        else [resource_row(r, cls) for r, cls in zip(inv.resources, result.classes, strict=True)],
        stats=Stats(api_calls=dict(result.stats)),
    )


# Written only when they hold something: an organization's accounts, an output set's digests.
_OPTIONAL = ("organization", "files")


def _model(scan: ScanResult | ScanFile, lazy: bool = False) -> ScanFile:
    return scan if isinstance(scan, ScanFile) else scan_model(scan, lazy)


def scan_document(scan: ScanResult | ScanFile) -> dict[str, Any]:
    """The whole of scan.json as one JSON value (stdout, tests)."""
    scan = _model(scan)
    lazy = {
        k: list(v) for k in ("findings", "resources") if isinstance(v := getattr(scan, k), _Rows)
    }
    if lazy:  # pydantic serializes lists, not _Rows: the whole value is asked for anyway
        scan = scan.model_copy(update=lazy)
    drop = {k for k in _OPTIONAL if getattr(scan, k) is None}
    return scan.model_dump(mode="json", exclude=drop)


def _json_item(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def iter_scan_json(
    scan: ScanResult | ScanFile, files: Mapping[str, str] | None = None
) -> Iterator[str]:
    """scan.json as text chunks, one row at a time (the same JSON value as `scan_document`).
    `files`: the SHA-256 of each other file of the output set, recorded last
    (files.write_files)."""
    scan = _model(scan, lazy=True)
    if files is not None:
        scan = scan.model_copy(update={"files": dict(files)})
    yield "{"
    first = True
    for key in type(scan).model_fields:
        value = getattr(scan, key)
        if key in _OPTIONAL and value is None:
            continue
        yield ("\n" if first else ",\n") + f" {_json_item(key)}: "
        first = False
        if isinstance(value, _Rows) and not value:
            yield "[]"
            continue
        rows = isinstance(value, list | _Rows) and len(value) > 0
        if not rows or not isinstance(value[0], BaseModel):
            yield _json_item(scan.model_dump(mode="json", include={key})[key])
            continue
        for n, item in enumerate(value):
            yield ("[\n  " if n == 0 else ",\n  ") + _json_item(item.model_dump(mode="json"))
        yield "\n ]"
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
