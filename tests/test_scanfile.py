"""The typed scan.json reader: what a scan writes reads back; other versions and shapes are
refused in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from awsresp.model import CellStatus, FindingStatus, Layer
from awsresp.scanfile import ScanFileError, parse_scan, read_scan

from .reportdata import two_accounts


def _saved(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def test_a_scan_reads_back_typed(sandbox_scan: dict[str, Any]) -> None:
    scan = read_scan(Path(sandbox_scan["_dir"]))
    assert scan.schema_version == 2
    assert len(scan.findings) == len(sandbox_scan["findings"]) > 0
    assert len(scan.matrix) == len(sandbox_scan["matrix"])
    assert {f.status for f in scan.findings} <= set(FindingStatus)
    assert scan.matrix[0].service == "account" and isinstance(scan.matrix[0].layer, Layer)
    assert all(isinstance(f.safeguard, bool) for f in scan.findings)
    assert scan.accounts == [sandbox_scan["account"]]
    assert scan.scope.services == sandbox_scan["scope"]["services"]
    gap = scan.gaps[0]
    assert gap.rank == 1 and gap.status == CellStatus.GAP


def test_an_organization_scan_names_its_accounts(sandbox_scan: dict[str, Any]) -> None:
    scan = parse_scan(two_accounts(_saved(sandbox_scan)))
    assert scan.accounts == [sandbox_scan["account"], "210987654321"]
    assert scan.account_names()["210987654321"] == "staging"


@pytest.mark.parametrize("version", [1, 3, "2", None, True])
def test_other_versions_are_refused(sandbox_scan: dict[str, Any], version: Any) -> None:
    doc = dict(_saved(sandbox_scan), schema_version=version)
    with pytest.raises(ScanFileError, match="schema version") as err:
        parse_scan(doc, "old.json")
    assert "\n" not in str(err.value)
    if version == 3:
        assert "upgrade awsresp" in str(err.value)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["findings"][0].update(status="maybe"), "findings.0.status"),
        (lambda d: d["matrix"][1].pop("layer"), "matrix.1.layer"),
        (lambda d: d["matrix"][2].update(coverage=140), "matrix.2.coverage"),
        (lambda d: d.update(findings={"not": "a list"}), "findings"),
        (lambda d: d.pop("tool"), "tool"),
    ],
)
def test_a_wrong_shape_names_where(sandbox_scan: dict[str, Any], change: Any, where: str) -> None:
    doc = copy.deepcopy(_saved(sandbox_scan))
    change(doc)
    with pytest.raises(ScanFileError) as err:
        parse_scan(doc, "bad.json")
    message = str(err.value)
    assert message.startswith(f"bad.json is not a valid scan.json: {where}:"), message
    assert "\n" not in message


def test_not_json_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "scan.json").write_text("{not json")
    with pytest.raises(ScanFileError, match="is not JSON"):
        read_scan(tmp_path)
    with pytest.raises(ScanFileError, match="cannot read"):
        read_scan(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ScanFileError, match=r"not an awsresp scan\.json"):
        read_scan(tmp_path / "list.json")
