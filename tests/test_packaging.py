"""The specs ship inside the wheel and an installed copy finds every one of them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_wheel_finds_every_spec(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("awsresp-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)
    expected = {p.name for p in (ROOT / "collectors").glob("*.yaml")}
    shipped = {Path(n).name for n in names if n.startswith("awsresp/_data/collectors/")}
    assert expected <= shipped
    controls = {p.name for p in (ROOT / "mappings" / "controls").glob("*.yaml")}
    assert controls <= {Path(n).name for n in names if "/_data/mappings/controls/" in n}
    # report.html's template, style and script ship with the code.
    templates = {Path(n).name for n in names if n.startswith("awsresp/export/templates/")}
    assert {"report.html", "report.css", "report.js"} <= templates
    # Import the extracted copy (not the checkout) and load every definition from it.
    code = (
        "import awsresp.paths as p, awsresp.scan as s;"
        "d = s.Definitions.load();"
        "print(p.collectors_dir());"
        "print(len(d.specs), len(d.catalog.controls))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert out[0].startswith(str(site)), out
    assert out[1] == f"{len(expected)} {len(controls) and out[1].split()[1]}"
    assert int(out[1].split()[1]) >= 15
