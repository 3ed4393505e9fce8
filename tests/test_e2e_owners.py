"""End to end on the sandbox over HTTP: the README's owners and accept examples, the PCI DSS
view, owners.csv and frameworks.csv, and a slice by party."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from awsresp.export.frameworks import FRAMEWORK_COLUMNS
from awsresp.export.owners import OWNER_COLUMNS
from awsresp.sandbox import SANDBOX_REGIONS, Sandbox

from .conftest import run_cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
OWNERS = ROOT / "docs" / "examples" / "owners.yaml"
ACCEPT = ROOT / "docs" / "examples" / "accept.yaml"
LOGGING = "logging-detection.s3.bucket-access-logging"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_readme_shows_the_sandboxs_pci_view(sandbox_scan: dict[str, Any]) -> None:
    from awsresp.export.catalog_docs import pci_block, readme_pci

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    frameworks = (Path(sandbox_scan["_dir"]) / "frameworks.csv").read_text(encoding="utf-8")
    assert readme_pci(readme) == pci_block(frameworks), (
        "the README's PCI DSS view is out of date: run `make docs`"
    )
    rows = [r for r in sandbox_scan["frameworks"] if r["framework"] == "pci-dss-4.0"]
    assert len(rows) == 63 and {r["party"] for r in rows} <= {"customer", "aws"}


def test_owners_accepted_risks_and_the_pci_view_on_the_sandbox(tmp_path: Path) -> None:
    region_args = [arg for r in SANDBOX_REGIONS for arg in ("-r", r)]
    with Sandbox() as sb:
        base = ["scan", "--endpoint-url", sb.endpoint_url, *region_args, "-q"]
        files = ["--owners", str(OWNERS), "--accept", str(ACCEPT)]
        full = run_cli([*base, *files, "--framework", "pci-dss-4.0", "-o", str(tmp_path / "a")])
        sliced = run_cli(
            [*base, *files, "-s", "s3", "--owner", "Web agency", "-o", str(tmp_path / "b")]
        )
    assert full.exit_code == 0, full.output
    assert sliced.exit_code == 0, sliced.output
    out = full.stdout
    assert "#1 Acme MSP, #2 Web agency: the party accountable for the customer's part" in out
    assert "s3 (abstracted) #2" in out  # the website bucket's cells, split off by its tag
    assert "Accepted risks: 1 failing finding(s)" in out
    assert out.rstrip().endswith(
        "met: every mapped check passed; it does not speak for the parts no API shows"
        " (policies, procedures, people)."
    )
    assert "PCI DSS v4.0 (pci-dss-4.0): 63 requirements:" in out
    assert not full.stderr.count("warning:"), full.stderr  # every rule and entry matched

    a = tmp_path / "a"
    findings = _rows(a / "findings.csv")
    website = {
        (r["control_id"], r["party"], r["status"])
        for r in findings
        if r["resource_id"] == "acme-public-website"
    }
    assert (LOGGING, "Web agency", "accepted") in website
    assert all(party == "Web agency" for _c, party, _s in website)
    msp = {r["layer"] for r in findings if r["party"] == "Acme MSP"}
    assert msp and msp <= {"operating-system", "platform-runtime"}
    accepted = [r for r in findings if r["status"] == "accepted"]
    assert [(r["accepted_by"], r["accepted_until"]) for r in accepted] == [
        ("J. Doe (CISO)", "2027-06-30")
    ]

    owners = _rows(a / "owners.csv")
    assert list(owners[0]) == OWNER_COLUMNS
    by_party = {r["party"]: r for r in owners}
    assert list(by_party) == ["customer", "Acme MSP", "Web agency", "aws"]
    assert by_party["Acme MSP"]["contract"].startswith("MSA 2026-04")
    assert "operating-system: ec2, rds (shared)" in by_party["Acme MSP"]["layers"]
    assert int(by_party["Web agency"]["findings_accepted"]) == 1

    frameworks = _rows(a / "frameworks.csv")
    assert list(frameworks[0]) == FRAMEWORK_COLUMNS
    assert len(frameworks) == 63 + 61 + 38 + 177
    doc = json.loads((a / "scan.json").read_text(encoding="utf-8"))
    assert doc["frameworks"] == frameworks_as_json(frameworks)
    assert doc["owners"][1]["party"] == "Acme MSP" and doc["warnings"] == []

    b = tmp_path / "b"
    mine = _rows(b / "findings.csv")
    assert mine and {r["party"] for r in mine} == {"Web agency"}
    assert {r["resource_id"] for r in mine} == {"acme-public-website"}
    assert {r["party"] for r in _rows(b / "matrix.csv")} == {"Web agency"}
    assert [r["party"] for r in _rows(b / "owners.csv")] == ["Web agency"]
    assert {r["party"] for r in _rows(b / "frameworks.csv")} == {"Web agency"}


def frameworks_as_json(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    counts = ("passed", "failed", "accepted", "unknown")
    return [{k: int(v) if k in counts else v for k, v in r.items()} for r in rows]
