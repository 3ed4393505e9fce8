"""Exporters: the one `--format` enum, and a registry per printed document (a scan, a diff,
the control catalog, an organization report) mapping every format to its writer."""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from awsresp.errors import AwsrespError
from awsresp.export.report import ReportFormat, render_report, scan_file
from awsresp.export.scanjson import scan_document
from awsresp.export.tables import FINDING_COLUMNS, finding_row, write_csv
from awsresp.export.terminal import printable, printable_rows, terminal_view
from awsresp.model import ScanResult


class Format(enum.StrEnum):
    """What a command prints on stdout (`--format`): every command takes this one enum."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    OCSF = "ocsf"


T = TypeVar("T")


class Writers(Generic[T]):
    """A document's writer for each Format. Every format must be named, so a format added
    to the enum cannot be forgotten: its writer, or None where the format does not apply to
    this document (refused in one line). Checked when the registry is made, at import."""

    def __init__(self, document: str, writers: Mapping[Format, Callable[[T], str] | None]):
        missing = sorted(set(Format) - set(writers))
        if missing:
            raise TypeError(f"{document}: formats without a writer: {', '.join(missing)}")
        self.document = document
        self.writers = dict(writers)
        REGISTRIES.append(self)

    @property
    def formats(self) -> list[Format]:
        return [f for f in Format if self.writers[f] is not None]

    def check(self, fmt: Format) -> Format:
        """`fmt`, when it applies to the document; otherwise an AwsrespError (one line)."""
        if self.writers[Format(fmt)] is None:
            raise AwsrespError(
                f"--format {fmt.value} does not apply to {self.document}; use one of"
                f" {', '.join(f.value for f in self.formats)}"
            )
        return Format(fmt)

    def render(self, value: T, fmt: Format) -> str:
        writer = self.writers[self.check(fmt)]
        assert writer is not None  # check() refused it otherwise
        return writer(value)


# Every registry, for the exhaustiveness test.
REGISTRIES: list[Writers[Any]] = []


# Everything here goes to stdout, often a terminal: nothing from the account may reach it
# raw (terminal.printable). JSON escapes every non-ASCII character, so bidi overrides and
# control characters travel as \\u escapes and the value is unchanged.
def _json(result: ScanResult) -> str:
    return json.dumps(scan_document(result), indent=1, ensure_ascii=True, default=str)


def _csv(result: ScanResult) -> str:
    buf = io.StringIO()
    rows = (finding_row(f, result.scanned_at, result.account_info) for f in result.findings)
    write_csv(buf, FINDING_COLUMNS, printable_rows(rows))
    return buf.getvalue()


def _table(result: ScanResult) -> str:
    return printable(terminal_view(result))


def _ocsf(result: ScanResult) -> str:
    return render_report(scan_file(result), ReportFormat.OCSF).decode("utf-8").rstrip("\n")


SCAN = Writers[ScanResult](
    "a scan",
    {Format.TABLE: _table, Format.CSV: _csv, Format.JSON: _json, Format.OCSF: _ocsf},
)


def render(result: ScanResult, fmt: Format) -> str:
    """The scan as `fmt`, for stdout."""
    return SCAN.render(result, fmt)


def _controls_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1)


def _controls_csv(rows: list[dict[str, Any]]) -> str:
    flat = [{k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]
    buf = io.StringIO()
    write_csv(buf, list(flat[0]) if flat else [], printable_rows(flat))
    return buf.getvalue().rstrip("\n")


def _controls_table(rows: list[dict[str, Any]]) -> str:
    from tabulate import tabulate

    table = [[r["id"], r["layer"], r["resource_type"], r["scope"], r["severity"]] for r in rows]
    headers = ["id", "layer", "resource", "scope", "severity"]
    return printable(tabulate(table, headers=headers)) + f"\n\n{len(rows)} controls"


# `awsresp controls`: the catalog's rows (tables.controls_rows). OCSF is for findings.
CONTROLS = Writers[list[dict[str, Any]]](
    "the control catalog",
    {
        Format.TABLE: _controls_table,
        Format.CSV: _controls_csv,
        Format.JSON: _controls_json,
        Format.OCSF: None,
    },
)
