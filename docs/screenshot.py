"""Renders the sandbox scan's report.html in headless Chromium and saves a screenshot
(`make screenshot` writes docs/report.png, the README's picture)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="awsresp-shot-") as tmp:
        awsresp = Path(sys.executable).parent / "awsresp"
        scan = [str(awsresp), "scan", "--sandbox", "-q", "-o", tmp]
        subprocess.run(scan, check=True, stdout=subprocess.DEVNULL)
        page_path = Path(tmp) / "report.html"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(page_path.as_uri())
            # Open the first gap: the page as someone reading it would leave it.
            page.click("button.cell.c-gap")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out), full_page=False)
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report.png"))
