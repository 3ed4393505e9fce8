"""awsresp diff on crafted scans; finding ids, output-dir patterns and the deploy policy."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from awsresp.cli import ExitCode, expand_output_dir
from awsresp.collect.deploy_policy import read_actions, template_actions, with_actions
from awsresp.collect.specs import load_specs
from awsresp.diff import ScanDiff, diff_scans, load_scan, render_diff
from awsresp.errors import AwsrespError
from awsresp.evaluate.findings import findings
from awsresp.export.tables import finding_id, finding_row
from awsresp.model import Inventory
from awsresp.scanfile import ScanFileError, parse_scan
from tests.conftest import GOLDEN_NOW, make_resource, run_cli

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "template.yaml"
ACCOUNT = "123456789012"


def _finding(control: str, rid: str, status: str, layer: str = "data") -> dict[str, Any]:
    arn = f"arn:aws:s3:::{rid}"
    return {
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "service": "s3",
        "resource_type": "s3.bucket",
        "resource_id": rid,
        "resource_arn": arn,
        "resource_name": rid,
        "service_class": "abstracted",
        "layer": layer,
        "owner": "customer",
        "control_id": control,
        "control_title": control,
        "status": status,
        "severity": "high",
        "safeguard": "true",
        "evidence": "{}",
        "references": "",
        "remediation": "",
        "scanned_at": "2026-11-28T00:00:00+00:00",
        "finding_id": finding_id(ACCOUNT, control, arn, "s3.bucket", rid, "us-east-1"),
    }


def _cell(layer: str, status: str, exposed: int = 0, service: str = "s3") -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "layer": layer,
        "service": service,
        "service_class": "abstracted",
        "owner": "customer",
        "status": status,
        "resources": exposed,
        "controlled": 0,
        "exposed": exposed,
        "weak": 0,
        "unreadable": 0,
        "coverage": 0,
        "worst": "",
        "reason": "",
        "evidence": "",
    }


ENC = "data.s3.bucket-encrypted"
PAB = "data.s3.bucket-blocks-public-access"
LOG = "logging-detection.s3.bucket-access-logging"

OLD = {
    "schema_version": 2,
    "tool": {"name": "awsresp", "version": "test"},
    "scanned_at": "2026-11-28T00:00:00+00:00",
    "account": ACCOUNT,
    "partition": "aws",
    "complete": True,
    "issues": [],
    "gaps": [],
    "regions": ["us-east-1"],
    "scope": {"services": ["s3", "iam"], "regions": ["us-east-1"]},
    "findings": [
        _finding(ENC, "alpha", "pass"),
        _finding(PAB, "alpha", "pass"),
        _finding(LOG, "alpha", "fail", "logging-detection"),
        _finding(ENC, "gone", "fail"),
    ],
    "matrix": [_cell("data", "covered"), _cell("logging-detection", "gap")],
}


def _new(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(OLD)
    doc.update(changes)
    return doc


def _diff(old: dict[str, Any], new: dict[str, Any]) -> ScanDiff:
    return diff_scans(parse_scan(old, "old"), parse_scan(new, "new"), "old", "new")


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "scan.json").write_text(json.dumps(doc))
    return folder


def test_identical_scans_have_no_changes() -> None:
    d = _diff(OLD, copy.deepcopy(OLD))
    assert d.changes == () and not d.regressed


def test_layer_that_regresses() -> None:
    new = _new(
        findings=[
            _finding(ENC, "alpha", "pass"),
            _finding(PAB, "alpha", "fail"),  # changed: pass -> fail
            _finding(LOG, "alpha", "pass", "logging-detection"),  # changed: fail -> pass
            _finding(ENC, "beta", "fail"),  # new failing
        ],
        matrix=[_cell("data", "gap"), _cell("logging-detection", "covered")],
    )
    d = _diff(OLD, new)
    got = {
        (c.change, c.row.get("control_id", ""), c.row.get("resource_id", c.row["layer"])): (
            c.row["old_status"],
            c.row["new_status"],
            c.regression,
        )
        for c in d.changes
    }
    assert got == {
        ("finding-changed", PAB, "alpha"): ("pass", "fail", True),
        ("finding-changed", LOG, "alpha"): ("fail", "pass", False),
        ("finding-new", ENC, "beta"): ("", "fail", True),
        ("finding-resolved", ENC, "gone"): ("fail", "", False),
        ("cell-changed", "", "data"): ("covered", "gap", True),
        ("cell-changed", "", "logging-detection"): ("gap", "covered", False),
    }
    assert d.regressed
    assert d.counts()["regressions"] == 3


def test_improvement_only_is_not_a_regression() -> None:
    new = _new(
        findings=[
            _finding(ENC, "alpha", "pass"),
            _finding(PAB, "alpha", "pass"),
            _finding(LOG, "alpha", "pass", "logging-detection"),
            _finding(ENC, "beta", "pass"),  # new but passing
        ],
        matrix=[_cell("data", "covered"), _cell("logging-detection", "partial")],
    )
    d = _diff(OLD, new)
    assert d.changes and not d.regressed


def test_cli_exit_code_and_formats(tmp_path: Path) -> None:
    old = _write(tmp_path, "old", OLD)
    worse = _write(tmp_path, "new", _new(matrix=[_cell("data", "partial"), OLD["matrix"][1]]))
    plain = run_cli(["diff", str(old), str(worse)])
    assert plain.exit_code == ExitCode.OK
    assert "cell-changed" in plain.stdout and "covered" in plain.stdout
    gated = run_cli(["diff", str(old), str(worse / "scan.json"), "--fail-on-regression"])
    assert gated.exit_code == ExitCode.REGRESSED == 4
    same = run_cli(["diff", str(old), str(old), "--fail-on-regression"])
    assert same.exit_code == 0 and "No changes" in same.stdout
    as_json = json.loads(run_cli(["diff", str(old), str(worse), "-f", "json"]).stdout)
    assert as_json["regressed"] is True
    assert as_json["changes"][0]["new_status"] == "partial"
    rows = list(
        csv.DictReader(io.StringIO(run_cli(["diff", str(old), str(worse), "-f", "csv"]).stdout))
    )
    assert [(r["change"], r["layer"], r["regression"]) for r in rows] == [
        ("cell-changed", "data", "true")
    ]


def test_cli_unreadable_scan_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"not": "a scan"}')
    assert run_cli(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]).exit_code == 2
    assert run_cli(["diff", str(tmp_path / "none"), str(tmp_path / "x.json")]).exit_code == 2


def test_a_cell_that_exposes_more_resources_regresses() -> None:
    new = _new(matrix=[_cell("data", "covered"), _cell("logging-detection", "gap", exposed=2)])
    d = _diff(OLD, new)
    assert [
        (c.change, c.row["old_exposed"], c.row["new_exposed"], c.regression) for c in d.changes
    ] == [("cell-changed", 0, 2, True)]


def test_scans_of_different_scope_compare_only_what_both_covered() -> None:
    # The new scan covered EC2 too (and found a failing volume), but not IAM; its S3 rows
    # are the same. Nothing outside S3 is a change, and the diff says what it compared.
    volume = _finding(ENC, "vol-1", "fail") | {"service": "ec2", "resource_type": "ec2.volume"}
    volume["finding_id"] = "v1"
    new = _new(
        scope={"services": ["s3", "ec2"], "regions": ["us-east-1", "eu-west-1"]},
        regions=["us-east-1", "eu-west-1"],
        findings=[*OLD["findings"], volume],
        matrix=[*OLD["matrix"], _cell("data", "gap", 1, service="ec2")],
    )
    d = _diff(OLD, new)
    assert d.changes == ()
    assert d.notes[0].startswith(
        "compared only what both scans covered (services s3; regions us-east-1)"
    )
    assert "only the old scan covered services iam" in d.notes[0]
    assert "only the new scan covered services ec2, regions eu-west-1" in d.notes[0]
    assert "different regions" in d.notes[1]
    assert "Note: compared only" in render_diff(d, "table")


def test_a_scan_of_the_first_gap_rule_is_refused_by_name(tmp_path: Path) -> None:
    v1 = _new(schema_version=1, matrix=[_cell("data", "gap"), _cell("logging-detection", "gap")])
    del v1["scope"]
    with pytest.raises(ScanFileError, match=r"schema version 1; .* scan again") as err:
        load_scan(str(_write(tmp_path, "v1", v1)))
    assert "\n" not in str(err.value)


def test_other_json_is_refused_by_name(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"manifest_version": 1, "objects": {}}))
    with pytest.raises(ScanFileError, match=r"manifest\.json is not an awsresp scan\.json"):
        load_scan(str(manifest))


def test_a_scan_from_a_newer_awsresp_is_refused_by_name(tmp_path: Path) -> None:
    newer = _write(tmp_path, "newer", _new(schema_version=99))
    with pytest.raises(AwsrespError, match="schema version 99"):
        load_scan(str(newer))


@mock_aws
def test_diff_from_s3() -> None:
    from awsresp.export.partitions import S3Store, publish_set

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scans")
    store = S3Store(s3, "scans", "a")
    new = _new(findings=[*OLD["findings"], _finding(ENC, "beta", "fail")])
    for day, doc in (("2026-11-27", OLD), ("2026-11-28", new)):
        base = f"account=1/date={day}/run={day.replace('-', '')}T000000Z-0/"
        publish_set(store, base, [("scan.json", json.dumps(doc).encode())], {})
    assert load_scan("s3://scans/a/account=1/date=2026-11-27/") == parse_scan(OLD)
    result = run_cli(
        [
            "diff",
            "s3://scans/a/account=1/date=2026-11-27/",
            "s3://scans/a/account=1/date=2026-11-28/run=20261128T000000Z-0/scan.json",
            "--fail-on-regression",
        ]
    )
    assert result.exit_code == 4 and "finding-new" in result.stdout
    with pytest.raises(AwsrespError, match="NoSuchKey"):
        load_scan("s3://scans/missing/scan.json")
    with pytest.raises(AwsrespError, match="no finished run"):
        load_scan("s3://scans/missing/")


def test_finding_id_is_stable_and_distinct(definitions: Any) -> None:
    bucket = make_resource("s3.bucket", {"Name": "b"}, id="b", arn="arn:aws:s3:::b")
    inv = Inventory(ACCOUNT, "aws", ("us-east-1",), (bucket,), ())
    first = [finding_row(f, "t1") for f in findings(inv, definitions.catalog, GOLDEN_NOW)]
    later = GOLDEN_NOW + dt.timedelta(days=1)
    second = [finding_row(f, "t2") for f in findings(inv, definitions.catalog, later)]
    ids = [r["finding_id"] for r in first]
    assert len(set(ids)) == len(ids) > 1
    assert ids == [r["finding_id"] for r in second]
    other = finding_id("210987654321", first[0]["control_id"], "arn:aws:s3:::b", "", "", "")
    assert other != ids[0]


def test_output_dir_pattern_expands_in_utc() -> None:
    now = dt.datetime(2026, 11, 28, 3, 4, tzinfo=dt.UTC)
    assert expand_output_dir(Path("scans/%Y-%m-%d/%H%M"), now) == Path("scans/2026-11-28/0304")
    assert expand_output_dir(Path("plain"), now) == Path("plain")


def test_template_read_actions_equal_the_specs() -> None:
    # Fails when a spec gains an operation and `make deploy-policy` was not run.
    assert template_actions(TEMPLATE.read_text()) == read_actions(load_specs())


def test_regenerating_the_template_rewrites_only_the_block() -> None:
    text = TEMPLATE.read_text()
    changed = with_actions(text, ["s3:GetBucketAcl", "zz:Extra"])
    assert template_actions(changed) == ["s3:GetBucketAcl", "zz:Extra"]
    assert with_actions(changed, read_actions(load_specs())) == text
    with pytest.raises(ValueError, match="exactly one"):
        template_actions("Resources: {}\n")


def test_read_actions_fit_an_inline_role_policy() -> None:
    # IAM caps a role's inline policies at 10,240 characters (whitespace not counted); the
    # other statements take about 1,000 of them.
    actions = json.dumps(read_actions(load_specs()), separators=(",", ":"))
    assert len(actions) < 9_000


def test_a_new_cell_regresses_only_when_it_is_worse_than_covered() -> None:
    scope = {"services": ["s3", "iam", "dynamodb", "rds"], "regions": ["us-east-1"]}
    old = _new(scope=scope)
    new = _new(
        scope=scope,
        matrix=[
            *OLD["matrix"],
            _cell("data", "covered", service="dynamodb"),
            _cell("data", "partial", 1, service="rds"),
        ],
    )
    d = _diff(old, new)
    assert {(c.row["service"], c.regression) for c in d.changes} == {
        ("dynamodb", False),
        ("rds", True),
    }


def test_the_diff_table_shows_escapes_not_terminal_codes() -> None:
    hostile = _finding(ENC, "bucket\x1b[31m\u202e", "fail")
    d = _diff(OLD, _new(findings=[*OLD["findings"], hostile]))
    for fmt in ("table", "csv", "json"):
        text = render_diff(d, fmt)
        assert "\x1b" not in text and "\u202e" not in text, fmt
    assert "bucket\\x1b[31m\\u202e" in render_diff(d, "table")
