"""OCSF: every finding is a Compliance Finding that the OCSF models (py-ocsf-models) take
whole: no key they do not know, no value they change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import py_ocsf_models
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud

from awsresp.export import Format, render
from awsresp.export.files import write_files
from awsresp.export.ocsf import OCSF_VERSION, render_ocsf
from awsresp.scan import Definitions
from awsresp.scanfile import parse_scan

from .conftest import run_cli
from .test_export import _result


def _saved(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _validated(event: dict[str, Any]) -> None:
    body = dict(event)
    cloud = body.pop("cloud")  # the cloud profile: validated by its own object model
    model = ComplianceFinding.model_validate(body)
    # Models ignore unknown keys: a misspelt or invented attribute would vanish here.
    assert model.model_dump(mode="json", exclude_unset=True) == body
    assert Cloud.model_validate(cloud).model_dump(mode="json", exclude_unset=True) == cloud


def test_findings_are_valid_compliance_findings(sandbox_scan: dict[str, Any]) -> None:
    assert OCSF_VERSION == py_ocsf_models.OCSF_VERSION
    events = json.loads(render_ocsf(parse_scan(_saved(sandbox_scan))))
    assert len(events) == len(sandbox_scan["findings"])
    for event in events:
        _validated(event)
        assert event["class_uid"] == 2003 and event["type_uid"] == 200301
        assert event["metadata"]["version"] == OCSF_VERSION
    by_id = {e["finding_info"]["uid"]: e for e in events}
    for f in sandbox_scan["findings"]:
        e = by_id[f["finding_id"]]
        assert e["unmapped"]["awsresp"]["layer"] == f["layer"]
        assert e["unmapped"]["awsresp"]["owner"] == f["owner"]
        assert (
            e["severity_id"]
            == {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}[f["severity"]]
        )
        assert e["compliance"]["status_id"] == {"pass": 1, "unknown": 2, "fail": 3}[f["status"]]
        assert e["cloud"]["account"]["uid"] == f["account_id"]
        assert e["resources"][0]["uid"] == (f["resource_arn"] or f["resource_id"])


def test_scan_ocsf_flag_and_format(sandbox_scan: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli(["report", sandbox_scan["_dir"], "-f", "ocsf", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    events = json.loads(out.read_text())
    assert len(events) == len(sandbox_scan["findings"])
    _validated(events[0])


def test_a_scan_writes_ocsf_when_asked(definitions: Definitions, tmp_path: Path) -> None:
    result = _result(definitions, "=cmd|' /C calc'!A0")
    written = write_files(result, tmp_path, ocsf=True)
    assert {p.name for p in written} >= {"report.html", "findings.ocsf.json", "scan.json"}
    events = json.loads((tmp_path / "findings.ocsf.json").read_text())
    assert len(events) == len(result.findings) > 0
    assert json.loads(render(result, Format.OCSF)) == events
    for event in events:
        _validated(event)
    assert "findings.ocsf.json" not in {p.name for p in write_files(result, tmp_path / "b")}
