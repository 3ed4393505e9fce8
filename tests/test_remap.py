"""awsresp remap: a saved scan re-judged with other mappings, owners or accepted risks, with
no AWS call; the same files give the same outputs, byte for byte."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from awsresp.cli import ExitCode

from .conftest import run_cli

LOGGING = "logging-detection.s3.bucket-access-logging"
TABLES = ("findings.csv", "matrix.csv", "gaps.csv", "issues.csv", "owners.csv", "frameworks.csv")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A one-service scan of a moto account: two buckets, neither logged."""
    out = tmp_path_factory.mktemp("saved")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for name in ("acme-site", "acme-data"):
            s3.create_bucket(Bucket=name)
        result = run_cli(["scan", "-q", "-s", "s3", "-r", "us-east-1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    yield out


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Any AWS call would go to a closed port and fail: remap must make none.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


def _findings(directory: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (directory / "findings.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["control_id"], r["resource_id"]): r for r in csv.DictReader(fh)}


def test_the_same_files_give_the_same_outputs(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    result = run_cli(["remap", str(saved / "scan.json"), "-o", str(out), "-q", "-f", "json"])
    assert result.exit_code == 0, result.output
    for name in TABLES:
        assert (out / name).read_bytes() == (saved / name).read_bytes(), name
    assert {p.name for p in out.iterdir()} == {p.name for p in saved.iterdir()}
    before = json.loads((saved / "scan.json").read_text())
    after = json.loads((out / "scan.json").read_text())
    # Everything but the output set's digests (report.html differs only in when it was made)
    # and the API call counts (a remap makes none).
    for doc in (before, after):
        doc.pop("files"), doc.pop("stats")
    assert after == before
    assert json.loads(result.stdout)["stats"] == {"api_calls": {}}


def test_other_mappings_change_the_judgement(saved: Path, tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    (mappings / "controls").mkdir(parents=True)
    (mappings / "controls" / "s3.yaml").write_text(f"- {{id: {LOGGING}, disabled: true}}\n")
    result = run_cli(["remap", str(saved), "--mappings", str(mappings), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    before, after = _findings(saved), _findings(tmp_path / "o")
    assert (LOGGING, "acme-site") in before
    assert not any(control == LOGGING for control, _ in after)
    assert set(after) == {k for k in before if k[0] != LOGGING}


def test_owners_and_accepted_risks_apply(saved: Path, tmp_path: Path) -> None:
    owners = tmp_path / "owners.yaml"
    owners.write_text(
        "parties: [{name: Acme MSP}]\nrules: [{party: Acme MSP, services: [s3], layers: [data]}]\n"
    )
    accept = tmp_path / "accept.yaml"
    accept.write_text(
        "accepted:\n"
        f"  - control: {LOGGING}\n"
        '    resource: "arn:aws:s3:::acme-site"\n'
        "    reason: logged at the CDN\n"
        "    approver: J. Doe\n"
        "    expires: 2999-01-01\n"
    )
    out = tmp_path / "o"
    args = ["remap", str(saved), "--owners", str(owners), "--accept", str(accept), "-o", str(out)]
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    after = _findings(out)
    assert after[(LOGGING, "acme-site")]["status"] == "accepted"
    assert after[(LOGGING, "acme-data")]["status"] == "fail"
    parties = {r["party"] for (control, _), r in after.items() if control.startswith("data.")}
    assert parties == {"Acme MSP"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"schema_version": 3}, "schema version 3; this awsresp reads version 2: upgrade"),
        ({"manifest_version": 1}, "is not an awsresp scan.json"),
        ("org", "is an organization's merged scan"),
        ("noinventory", "holds no inventory"),
    ],
)
def test_what_cannot_be_remapped_is_one_line(
    saved: Path, tmp_path: Path, doc: object, message: str
) -> None:
    body = json.loads((saved / "scan.json").read_text())
    if doc == "org":
        body["organization"] = {"accounts": [{"account_id": "111122223333"}]}
    elif doc == "noinventory":
        body["resources"] = []
    else:
        body = doc
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(body))
    result = run_cli(["remap", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "o").exists()


def test_the_saved_scan_is_never_overwritten(saved: Path, tmp_path: Path) -> None:
    result = run_cli(["remap", str(saved), "-o", str(saved)])
    assert result.exit_code == ExitCode.USAGE
    assert "is the saved scan's own folder" in result.stderr
    bad = tmp_path / "mappings" / "controls"
    bad.mkdir(parents=True)
    (bad / "s3.yaml").write_text("- {id: nope}\n")
    result = run_cli(["remap", str(saved), "--mappings", str(bad.parent), "-o", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE and result.stderr.count("\n") == 1
