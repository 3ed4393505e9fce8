"""report.xlsx for auditors: the matrix as a coloured heat map, the ranked gaps, every finding
(filterable), the failed reads and what each column means (XlsxWriter; text never a formula)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter

from awsresp import __version__
from awsresp.export.frameworks import FRAMEWORK_COLUMNS
from awsresp.export.owners import OWNER_COLUMNS
from awsresp.export.tables import FINDING_COLUMNS, GAP_COLUMNS, ISSUE_COLUMNS
from awsresp.export.view import (
    PALETTE,
    SEVERITY_LETTER,
    View,
    cell_mark,
    cell_text,
    colour_class,
)
from awsresp.scanfile import ScanFile

SHEETS = ("Matrix", "Gaps", "Findings", "Issues", "Owners", "Frameworks", "About")
_MAX_CELL = 32_000  # Excel holds at most 32,767 characters in a cell
_ACCOUNT_COLUMNS = ("account_name", "ou_path")

COLUMN_MEANINGS: dict[str, str] = {
    "rank": "Position in the ranked list: gaps first, then exposures; exposed before weak,"
    " then by worst severity, then by units affected",
    "kind": "gap: no unit controlled; exposure: partly controlled, with exposed units",
    "account_id": "The AWS account",
    "account_name": "The account's name in the organization",
    "ou_path": "The account's organizational unit path",
    "region": "Region of the resource (global for global services)",
    "service": "AWS service (the matrix row); 'account' is the account's baseline",
    "resource_type": "service.noun, e.g. s3.bucket",
    "resource_id": "The resource's id",
    "resource_arn": "The resource's ARN",
    "resource_name": "The resource's name",
    "service_class": "infrastructure, container or abstracted (decides who owns what)",
    "layer": "The responsibility layer",
    "owner": "customer, aws or shared",
    "party": "Who is accountable for the customer's part: customer, aws, or a party of the"
    " owners file",
    "accepted": "Cell: units whose only failures are accepted risks (not judged)",
    "accepted_reason": "Why the failure is accepted (accept file)",
    "accepted_by": "Who approved the acceptance",
    "accepted_until": "The acceptance's expiry: from that day the finding fails again",
    "control_id": "The control checked",
    "control_title": "What the control checks",
    "status": "Finding: pass, fail, unknown (a read failed) or accepted (a failure accepted as"
    " a risk, until its expiry). Cell: covered, partial, gap,"
    " not-assessed or inherited",
    "severity": "critical, high, medium, low or info",
    "safeguard": "true: a pass shows a safeguard in place and can make a unit controlled",
    "evidence": "The observed values (JSON)",
    "references": "Benchmarks and standards the control maps to",
    "remediation": "How to fix a failure",
    "scanned_at": "When the scan ran (UTC)",
    "finding_id": "Stable id: the same control on the same resource keeps it across scans",
    "resources": "Units judged on the cell (resources, or account settings per region)",
    "controlled": "Units where a safeguard passes",
    "exposed": "Units where a high or critical control fails",
    "weak": "Units neither controlled nor exposed nor unreadable",
    "unreadable": "Units that could not be judged because reads failed",
    "coverage": "controlled / units, in per cent",
    "worst": "The worst failing severity on the cell",
    "reason": "Why the cell has its status (exposed, weak, unreadable, not-observable,"
    " not-applicable, risk-checks-only, not-scanned, via-account, aws-attested)",
    "affects": "For a baseline gap on the account row: the services it shows on",
    "operation": "The API call that failed",
    "iam_action": "The IAM action a policy must allow for this read",
    "error_code": "The error AWS returned",
    "message": "What went wrong",
}


class _Sheet:
    """Writes values by type: text always as text (a value that looks like a formula stays
    text), numbers as numbers; remembers the widest value of each column."""

    def __init__(self, ws: Any, formats: dict[str, Any]) -> None:
        self.ws = ws
        self.formats = formats
        self.widths: dict[int, int] = {}

    def put(self, row: int, col: int, value: Any, fmt: Any = None) -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, int | float):
            self.ws.write_number(row, col, value, fmt)
            text = str(value)
        else:
            text = "" if value is None else str(value)
            if len(text) > _MAX_CELL:
                text = text[:_MAX_CELL] + "... (cut; findings.csv has it whole)"
            self.ws.write_string(row, col, text, fmt)
        longest = max((len(line) for line in text.splitlines()), default=0)
        self.widths[col] = max(self.widths.get(col, 0), longest)

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[dict[str, Any]],
        wrap: Sequence[str] = (),
        cap: int = 60,
    ) -> int:
        header = self.formats["header"]
        for col, name in enumerate(columns):
            self.put(0, col, name, header)
        n = 0
        for n, row in enumerate(rows, start=1):
            for col, name in enumerate(columns):
                self.put(n, col, row.get(name, ""), self.formats["wrap"] if name in wrap else None)
        for col, name in enumerate(columns):
            width = min(max(self.widths.get(col, 0), len(name)) + 2, cap)
            self.ws.set_column(col, col, width)
        self.ws.freeze_panes(1, 0)
        self.ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
        return n


def _columns(base: Sequence[str], rows: Sequence[Any]) -> list[str]:
    """The table's columns, with the organization's account columns when any row has them."""
    extra = [c for c in _ACCOUNT_COLUMNS if c not in base and any(getattr(r, c, "") for r in rows)]
    if not extra:
        return list(base)
    at = list(base).index("account_id") + 1 if "account_id" in base else 0
    return [*base[:at], *extra, *base[at:]]


def _matrix(book: Any, sheet: _Sheet, view: View) -> None:
    ws = sheet.ws
    many = view.many_accounts
    lead = ["account", "service", "class"] if many else ["service", "class"]
    for col, name in enumerate(lead + [layer.value for layer in view.layers]):
        sheet.put(0, col, name, sheet.formats["header_rot"] if col >= len(lead) else None)
    cells = {
        name: book.add_format(
            {
                "bg_color": bg,
                "font_color": fg,
                "align": "center",
                "border": 1,
                "border_color": "#FFFFFF",
            }
            | ({"bold": True} if name == "gap" else {})
        )
        for name, (bg, fg, _meaning) in PALETTE.items()
    }
    for r, row in enumerate(view.rows, start=1):
        labels = [view.account_label(row.account)] if many else []
        labels += [row.label, row.service_class]
        for col, label in enumerate(labels):
            sheet.put(r, col, label, sheet.formats["bold"] if row.baseline else None)
        for col, cell in enumerate(row.cells, start=len(lead)):
            if cell is None:
                continue
            text = cell_text(cell)
            if cell.worst and cell.status.value in ("gap", "partial"):
                text += " " + SEVERITY_LETTER.get(cell.worst, "")
            if cell.accepted:
                text += "*"
            mark = cell_mark(cell)
            if mark:
                text += f" ({mark})"
            sheet.put(r, col, text, cells[colour_class(cell)])
    ws.freeze_panes(1, len(lead))
    for col in range(len(lead)):
        ws.set_column(col, col, min(sheet.widths.get(col, 10) + 2, 40))
    ws.set_column(len(lead), len(lead) + len(view.layers) - 1, 11)
    ws.set_row(0, 80)
    top = len(view.rows) + 2
    sheet.put(top, 0, "Legend", sheet.formats["bold"])
    for n, (name, (_bg, _fg, meaning)) in enumerate(PALETTE.items(), start=1):
        sample = {"covered": "covered", "p3": "80%", "p2": "60%", "p1": "30%", "p0": "10%",
                  "gap": "GAP", "na": "-", "via": "^", "aws": "AWS"}[name]  # fmt: skip
        sheet.put(top + n, 0, sample, cells[name])
        sheet.put(top + n, 1, meaning)
    last = top + len(PALETTE) + 1
    sheet.put(last, 0, "C H M L")
    sheet.put(last, 1, "the worst failing severity: critical, high, medium, low")
    sheet.put(last + 1, 0, "(S)")
    sheet.put(
        last + 1,
        1,
        "shared with AWS; a name in brackets: the party accountable for the customer's part;"
        " *: some units' failures are accepted risks",
    )


def _about(sheet: _Sheet, scan: ScanFile, view: View) -> None:
    bold = sheet.formats["bold"]
    lines: list[tuple[str, str]] = [
        ("awsresp report", f"awsresp {scan.tool.version} (workbook by {__version__})"),
        ("Accounts", ", ".join(view.account_label(a) for a in scan.accounts)),
        ("Regions", ", ".join(scan.regions)),
        ("Services scanned", ", ".join(view.services)),
        ("Scanned at", scan.scanned_at),
        ("Complete", "yes" if scan.complete else f"no: {len(scan.issues)} read(s) failed (Issues)"),
        (
            "Could not tell whether in use",
            ", ".join(u.service for u in scan.undetermined) or "-",
        ),
        ("", ""),
        ("Matrix", "Services in use down (the account's baseline first), layers across"),
        ("Gaps", "Ranked gaps, then exposures"),
        ("Findings", "Every finding: control x resource -> pass, fail, unknown or accepted"),
        ("Issues", "Reads that failed, with the IAM action that would allow each"),
        ("Owners", "Per accountable party: layers held, cells, findings, gaps, contract"),
        ("Frameworks", "Per framework requirement: AWS's responsibility, party, status"),
        ("", ""),
    ]
    lines += [(name, meaning) for name, (_bg, _fg, meaning) in PALETTE.items()]
    lines += [("", ""), ("Column", "Meaning")]
    lines += list(COLUMN_MEANINGS.items())
    for r, (key, value) in enumerate(lines):
        sheet.put(r, 0, key, bold)
        sheet.put(r, 1, value, sheet.formats["wrap"])
    sheet.ws.set_column(0, 0, 30)
    sheet.ws.set_column(1, 1, 100)


def render_xlsx(scan: ScanFile) -> bytes:
    """The workbook as bytes."""
    view = View.of(scan)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            # Belt and braces: write_string is used throughout; nothing is ever turned
            # into a formula, a number or a link behind our back.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    formats = {
        "header": book.add_format({"bold": True, "bg_color": "#E4E5E8", "bottom": 1}),
        "header_rot": book.add_format(
            {"bold": True, "rotation": 90, "align": "center", "valign": "bottom"}
        ),
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    sheets = {name: _Sheet(book.add_worksheet(name), formats) for name in SHEETS}
    _matrix(book, sheets["Matrix"], view)
    gap_columns = _columns(GAP_COLUMNS, scan.gaps)
    sheets["Gaps"].table(
        gap_columns, (g.model_dump(mode="json") for g in scan.gaps), wrap=("evidence",), cap=70
    )
    finding_columns = _columns(FINDING_COLUMNS, scan.findings)
    sheets["Findings"].table(
        finding_columns,
        (f.model_dump(mode="json") for f in scan.findings),
        wrap=("evidence", "remediation", "references"),
    )
    issue_base = list(ISSUE_COLUMNS)
    if "account_id" not in issue_base and any(i.account_id for i in scan.issues):
        issue_base.insert(0, "account_id")
    issue_columns = _columns(issue_base, scan.issues)
    sheets["Issues"].table(
        issue_columns, (i.model_dump(mode="json") for i in scan.issues), wrap=("message",)
    )
    sheets["Owners"].table(
        OWNER_COLUMNS, (o.model_dump(mode="json") for o in scan.owners), wrap=("layers",)
    )
    sheets["Frameworks"].table(
        FRAMEWORK_COLUMNS,
        (r.model_dump(mode="json") for r in scan.frameworks),
        wrap=("title", "responsibility_source", "controls"),
    )
    _about(sheets["About"], scan, view)
    book.close()
    return out.getvalue()
