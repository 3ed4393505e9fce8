"""Exporters: every output format of a scan, chosen by one enum mapped to its writer."""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Callable

from awsresp.export.report import ReportFormat, render_report, scan_file
from awsresp.export.scanjson import scan_document
from awsresp.export.tables import FINDING_COLUMNS, finding_row, write_csv
from awsresp.export.terminal import printable, printable_rows, terminal_view
from awsresp.model import ScanResult


class Format(enum.StrEnum):
    """What a scan prints on stdout (`--format`)."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    OCSF = "ocsf"


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


WRITERS: dict[Format, Callable[[ScanResult], str]] = {
    Format.TABLE: _table,
    Format.CSV: _csv,
    Format.JSON: _json,
    Format.OCSF: _ocsf,
}
# Every format has a writer; a format added without one fails at import, not at run time.
assert set(WRITERS) == set(Format), f"formats without a writer: {set(Format) - set(WRITERS)}"


def render(result: ScanResult, fmt: Format) -> str:
    """The scan as `fmt`, for stdout."""
    return WRITERS[fmt](result)
