"""The reports of a scan for people and SIEMs (report.html, report.xlsx, findings.ocsf.json),
rendered from the typed scan.json, whether a scan just made it or it was saved long ago."""

from __future__ import annotations

import enum
from collections.abc import Callable

from awsresp.export.scanjson import scan_model
from awsresp.model import ScanResult
from awsresp.scanfile import ScanFile


class ReportFormat(enum.StrEnum):
    """What `awsresp report` renders."""

    HTML = "html"
    XLSX = "xlsx"
    OCSF = "ocsf"


def _html(scan: ScanFile) -> bytes:
    from awsresp.export.html import render_html

    return render_html(scan).encode("utf-8")


def _xlsx(scan: ScanFile) -> bytes:
    from awsresp.export.xlsx import render_xlsx  # XlsxWriter only when a workbook is asked for

    return render_xlsx(scan)


def _ocsf(scan: ScanFile) -> bytes:
    from awsresp.export.ocsf import render_ocsf

    return render_ocsf(scan).encode("utf-8")


RENDERERS: dict[ReportFormat, Callable[[ScanFile], bytes]] = {
    ReportFormat.HTML: _html,
    ReportFormat.XLSX: _xlsx,
    ReportFormat.OCSF: _ocsf,
}
assert set(RENDERERS) == set(ReportFormat), (
    f"report formats without a renderer: {set(ReportFormat) - set(RENDERERS)}"
)
DEFAULT_NAMES = {
    ReportFormat.HTML: "report.html",
    ReportFormat.XLSX: "report.xlsx",
    ReportFormat.OCSF: "findings.ocsf.json",
}
# Formats that are text, and so can go to stdout.
TEXT_FORMATS = frozenset({ReportFormat.HTML, ReportFormat.OCSF})


def scan_file(result: ScanResult) -> ScanFile:
    """A scan just made, as its scan.json: the reports of a fresh scan and of a saved one come
    from the same typed document (its findings built as the renderers read them)."""
    return scan_model(result, lazy=True)


def render_report(scan: ScanFile, fmt: ReportFormat) -> bytes:
    return RENDERERS[fmt](scan)
