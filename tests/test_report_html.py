"""report.html: self-contained, escaped, small enough to mail; and, in headless Chromium,
a matrix a person can click through without the page making a single request."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from awsresp.export.html import MAX_FINDINGS, render_html, script_json
from awsresp.scanfile import parse_scan, read_scan

from .conftest import run_cli
from .reportdata import HOSTILE, SECOND, hostile, scaled, two_accounts

CHROMIUM = "/usr/bin/chromium"
# Offline and quiet: no component updates, sync or first-run requests of the browser's own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _saved(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _data(page: str) -> Any:
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def test_every_scan_writes_report_html(sandbox_scan: dict[str, Any]) -> None:
    page = (Path(sandbox_scan["_dir"]) / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert sandbox_scan["account"] in page
    assert page.count('<button type="button" class="cell c-') == len(sandbox_scan["matrix"])


def test_the_page_loads_nothing(sandbox_scan: dict[str, Any]) -> None:
    page = render_html(parse_scan(_saved(sandbox_scan)))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    # The policy allows the page's own style and script only, by hash.
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert found is not None
    csp = html.unescape(found.group(1))
    assert "default-src 'none'" in csp
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in csp


def test_hostile_names_stay_text(sandbox_scan: dict[str, Any]) -> None:
    page = render_html(parse_scan(hostile(_saved(sandbox_scan))))
    # Only the page's own two script elements; the names' markup is escaped wherever shown.
    assert page.count("<script") == 2
    assert "<img" not in page and 'onerror="window' not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page  # header, issues
    assert "&#34;" in page or "&quot;" in page
    # Embedded JSON cannot end its element or break a line in a script.
    data = re.search(r'id="report-data">(.*?)</script>', page, re.S)
    assert data is not None
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in data.group(1)
    embedded = json.loads(data.group(1))
    names = {r[2] for r in embedded["resources"]}
    # The direction override is shown as a visible mark, never applied.
    shown = HOSTILE
    marks = {"\u2028": "[U+2028]", "\u2029": "[U+2029]", "\u202e": "[U+202E]", "\x1b": "[U+001B]"}
    for char, mark in marks.items():
        shown = shown.replace(char, mark)
    assert names == {shown}
    # Nothing that reorders text or drives a terminal is left raw (the page may go to stdout).
    assert not re.search("[\u2028\u2029\u202e\x1b]", page)


def test_script_json_escapes_what_ends_a_script() -> None:
    text = script_json({"a": "</script><!--\u2028\u2029&"})
    assert re.fullmatch(r"[^<>&\u2028\u2029]*", text)
    assert json.loads(text) == {"a": "</script><!--\u2028\u2029&"}


def test_a_large_account_stays_small(sandbox_scan: dict[str, Any]) -> None:
    resources = sum(1 for r in sandbox_scan["resources"] if not r["account_fact"])
    factor = -(-1000 // resources)  # at least 1,000 resources
    big = scaled(_saved(sandbox_scan), factor * 3)  # and three times that, past the cap
    page = render_html(parse_scan(big))
    assert len(page.encode()) < 2_000_000, len(page.encode())
    data = _data(page)
    shown = len(data["findings"])
    assert 0 < shown <= MAX_FINDINGS < len(big["findings"])
    assert f"embeds {shown} of the scan's {len(big['findings'])} findings" in page
    # A cell whose findings were cut says how many it has.
    assert any(len(c["f"]) < c["n"] for c in data["cells"].values())


def test_many_accounts_get_an_overview_and_rows_each(sandbox_scan: dict[str, Any]) -> None:
    doc = two_accounts(_saved(sandbox_scan))
    page = render_html(parse_scan(doc))
    assert "Accounts by layer" in page
    assert page.count('<button type="button" class="cell c-') == len(doc["matrix"])
    assert f'<option value="{SECOND}">' in page
    assert page.index("Accounts by layer") < page.index("Responsibility matrix")


def test_report_command_renders_a_saved_scan(sandbox_scan: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    result = run_cli(["report", str(Path(sandbox_scan["_dir"]) / "scan.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == render_html(read_scan(Path(sandbox_scan["_dir"])))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report", "/no/such/scan.json"], "cannot read /no/such/scan.json"),
        (["report", "{dir}", "-o", "/no/such/dir/r.html"], "cannot write to /no/such/dir"),
        (["report", "{dir}", "-f", "xlsx", "-o", "-"], "is binary"),
        (["report", "{v3}"], "schema version 3"),
    ],
)
def test_report_command_errors_are_one_line(
    sandbox_scan: dict[str, Any], tmp_path: Path, args: list[str], fragment: str
) -> None:
    v3 = tmp_path / "v3.json"
    v3.write_text(json.dumps(dict(_saved(sandbox_scan), schema_version=3)))
    args = [a.format(dir=sandbox_scan["_dir"], v3=v3) for a in args]
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_in_chromium(sandbox_scan: dict[str, Any], tmp_path: Path) -> None:
    """One browser for every check: the sandbox report (cells, drill-down, filters,
    keyboard, no request) and a page of hostile names (nothing runs, all shows as text)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium"
    report = Path(sandbox_scan["_dir"]) / "report.html"
    hostile_page = tmp_path / "hostile.html"
    hostile_page.write_text(render_html(parse_scan(hostile(_saved(sandbox_scan)))))
    gap_cells = [
        i
        for i, c in enumerate(sandbox_scan["matrix"])
        if c["status"] == "gap" and c["reason"] != "via-account"
    ]
    assert gap_cells
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            requests: list[str] = []
            errors: list[str] = []

            def intercept(route: Any) -> None:
                # Every request is recorded; none but the page's own file is let through.
                requests.append(route.request.url)
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", intercept)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri())

            matrix = page.locator("table#matrix")
            assert matrix.is_visible()
            assert page.locator("table#matrix button.cell").count() == len(sandbox_scan["matrix"])
            # A gap cell's findings: its failing controls with their resources.
            first = gap_cells[0]
            page.click(f"#c{first}")
            detail = page.locator("#detail")
            assert detail.locator(".control").count() >= 1
            failing = sandbox_scan["matrix"][first]["evidence"].split("; ")[0]
            control_id = failing.removeprefix("fail: ").split(" x")[0]
            assert control_id in detail.inner_text()
            assert detail.locator("td.st-fail").count() >= 1
            assert page.get_attribute(f"#c{first}", "aria-pressed") == "true"
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            # The keyboard: focus shows a cell, the arrow keys move along the row.
            page.focus(f"#c{first}")
            page.keyboard.press("ArrowRight")
            focused = page.evaluate("document.activeElement.getAttribute('data-i')")
            assert focused is not None and int(focused) != first
            assert page.get_attribute(f"#c{focused}", "aria-pressed") == "true"
            # A filter dims what does not match.
            page.select_option("#f-sev", "critical")
            dimmed = page.locator("button.cell.dim").count()
            assert 0 < dimmed < len(sandbox_scan["matrix"])
            # A via-account cell points at the account row.
            via = next(
                i for i, c in enumerate(sandbox_scan["matrix"]) if c["reason"] == "via-account"
            )
            page.click(f"#c{via}")
            assert "account row" in detail.inner_text()
            assert requests == [report.as_uri()], requests

            requests.clear()
            page.goto(hostile_page.as_uri())
            page.click(f"#c{first}")
            shown = page.locator("#detail").inner_text()
            assert "<script>window.__pwned=1</script>" in shown
            assert "[U+202E]exe.txt" in shown
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.locator("img").count() == 0
            assert requests == [hostile_page.as_uri()], requests
            page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
