"""End to end: crafted names, tags and owners reach the CSV files neutralized; Unicode survives."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from awsresp.export.tables import FINDING_COLUMNS
from awsresp.sandbox import SANDBOX_REGIONS, Sandbox

from .conftest import run_cli

pytestmark = pytest.mark.e2e

# IAM user names may start with '+', '=', '@' and '-' (the pattern is [\w+=,.@-]+).
CRAFTED_USERS = ["=SUM", "+SUM", "-SUM", "@SUM"]
UNICODE = "Zürich ☃ 東京"
OWNERS = """\
parties:
  - {name: '=HYPERLINK(1)', contact: '@evil', contract: '+1 MSA'}
  - {name: Müller & Söhne GmbH}
rules:
  - {party: '=HYPERLINK(1)', services: [s3], layers: [data]}
  - {party: Müller & Söhne GmbH, services: [iam], layers: [identity-directory]}
"""
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = b"\xef\xbb\xbf"


def test_crafted_values_are_neutralized_and_unicode_survives(tmp_path: Path) -> None:
    owners_file = tmp_path / "owners.yaml"
    owners_file.write_text(OWNERS, encoding="utf-8")
    out = tmp_path / "out"
    with Sandbox() as sb:
        iam = sb.client("iam")
        for name in CRAFTED_USERS:
            iam.create_user(UserName=name, Tags=[{"Key": "city", "Value": UNICODE}])
        sb.client("s3").put_bucket_tagging(
            Bucket="acme-access-logs",
            Tagging={"TagSet": [{"Key": "cost", "Value": "=1+2"}, {"Key": "c", "Value": UNICODE}]},
        )
        region_args = [arg for r in SANDBOX_REGIONS for arg in ("-r", r)]
        args = ["scan", "--endpoint-url", sb.endpoint_url, *region_args, "--owners"]
        result = run_cli([*args, str(owners_file), "--excel", "-o", str(out)])
        as_csv = run_cli([*args, str(owners_file), "-q", "-f", "csv", "-o", str(tmp_path / "o2")])
    assert result.exit_code == 0 and as_csv.exit_code == 0, result.output

    names = sorted(p.name for p in out.glob("*.csv"))
    assert names == [
        "findings.csv",
        "frameworks.csv",
        "gaps.csv",
        "issues.csv",
        "matrix.csv",
        "owners.csv",
    ]
    cells: dict[str, list[dict[str, str]]] = {}
    for name in names:
        raw = (out / name).read_bytes()
        assert raw.startswith(BOM), f"{name}: --excel writes a byte-order mark"
        cells[name] = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert not (out / "scan.json").read_bytes().startswith(BOM)
    assert not (tmp_path / "o2" / "findings.csv").read_bytes().startswith(BOM)
    stdout_rows = list(csv.DictReader(as_csv.stdout.splitlines()))
    assert list(stdout_rows[0]) == FINDING_COLUMNS
    for name, rows in [*cells.items(), ("stdout", stdout_rows)]:
        for row in rows:
            for column, value in row.items():
                assert not value.startswith(DANGEROUS), f"{name} {column}: {value!r}"

    users = {r["resource_id"] for r in cells["findings.csv"] if r["resource_type"] == "iam.user"}
    assert {"'" + u for u in CRAFTED_USERS} <= users
    assert {"'" + u for u in CRAFTED_USERS} <= {r["resource_name"] for r in stdout_rows}
    parties = {(r["service"], r["layer"]): r["party"] for r in cells["matrix.csv"]}
    assert parties[("s3", "data")] == "'=HYPERLINK(1)"
    assert parties[("iam", "identity-directory")] == "Müller & Söhne GmbH"
    listed = {r["party"]: r for r in cells["owners.csv"]}
    assert (listed["'=HYPERLINK(1)"]["contact"], listed["'=HYPERLINK(1)"]["contract"]) == (
        "'@evil",
        "'+1 MSA",
    )

    doc = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    tags = {r["id"]: r["tags"] for r in doc["resources"]}
    assert tags["acme-access-logs"] == {"cost": "=1+2", "c": UNICODE}  # data, not a sheet
    assert tags["=SUM"] == {"city": UNICODE}

    # Not a terminal: progress is plain lines on stderr, one per resource type and region.
    progress = [
        line for line in result.stderr.splitlines() if re.match(r"awsresp: \[\d+/\d+\]", line)
    ]
    assert any(re.fullmatch(r"awsresp: \[\d+/\d+\] s3\.bucket global: 4", p) for p in progress)
    assert "\x1b[" not in result.stderr
