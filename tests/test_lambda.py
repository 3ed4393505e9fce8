"""The Lambda entry point against moto: S3 output, assumed roles and the time budget."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.lambda_handler import handler, write_s3
from awsresp.model import ScanResult
from awsresp.scan import Definitions, scan_account

OUT = "awsresp-out-bucket"
# What a run publishes, in order: the manifest last.
PUBLISHED = [
    "findings.csv",
    "matrix.csv",
    "gaps.csv",
    "issues.csv",
    "owners.csv",
    "frameworks.csv",
    "report.html",
    "scan.json",
    "manifest.json",
]


@dataclass
class FakeContext:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=OUT)
        s3.create_bucket(Bucket="scanned-bucket")
        key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
        monkeypatch.setenv("AWSRESP_BUCKET", OUT)
        monkeypatch.setenv("AWSRESP_PREFIX", "scans/nightly")
        monkeypatch.setenv("AWSRESP_KMS_KEY_ID", key)
        monkeypatch.setenv("AWSRESP_SERVICES", "s3")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        yield {"s3": s3, "key": key}


def _objects(s3: Any, keys: list[str]) -> dict[str, str]:
    return {
        k.rsplit("/", 1)[1]: s3.get_object(Bucket=OUT, Key=k)["Body"].read().decode() for k in keys
    }


def test_handler_scans_own_account_and_writes_encrypted_outputs(aws: dict[str, Any]) -> None:
    summary = handler({}, FakeContext(900_000))
    assert summary["account"] == "123456789012"
    assert summary["complete"] is True
    assert summary["regions"] == ["us-east-1"]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    prefix = f"scans/nightly/account=123456789012/date={day}/"
    run = summary["s3_keys"][0].removeprefix(prefix).split("/")[0]
    assert run.startswith(f"run={day.replace('-', '')}T")
    assert summary["s3_keys"] == [f"{prefix}{run}/{n}" for n in PUBLISHED]
    assert summary["manifest"] == summary["s3_keys"][-1]
    for key in summary["s3_keys"]:
        head = aws["s3"].head_object(Bucket=OUT, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == aws["key"]
    files = _objects(aws["s3"], summary["s3_keys"])
    doc = json.loads(files["scan.json"])
    assert doc["complete"] is True
    assert summary["gaps"] == len(doc["gaps"]) and summary["issues"] == 0
    scanned = [r for r in doc["resources"] if r["type"] == "s3.bucket"]
    assert {r["id"] for r in scanned} == {OUT, "scanned-bucket"}
    rows = list(csv.DictReader(io.StringIO(files["findings.csv"])))
    assert rows and all(len(r["finding_id"]) == 16 for r in rows)
    assert files["report.html"].startswith("<!DOCTYPE html>")
    # The manifest, written last, vouches for every other object of the run.
    manifest = json.loads(files["manifest.json"])
    assert manifest["account_id"] == "123456789012" and manifest["complete"] is True
    assert list(manifest["objects"]) == PUBLISHED[:-1]
    for name, entry in manifest["objects"].items():
        body = aws["s3"].get_object(Bucket=OUT, Key=prefix + f"{run}/{name}")["Body"].read()
        assert entry["sha256"] == hashlib.sha256(body).hexdigest(), name
        assert entry["bytes"] == len(body)


def test_handler_assumes_the_role_from_the_event(aws: dict[str, Any]) -> None:
    role = "arn:aws:iam::111122223333:role/awsresp-scan"
    summary = handler({"role_arn": role, "external_id": "ext-1"}, FakeContext(900_000))
    # moto answers GetCallerIdentity for the assumed role's account.
    assert summary["account"] == "111122223333"
    assert all("/account=111122223333/" in k for k in summary["s3_keys"])


def test_handler_regions_from_event(aws: dict[str, Any]) -> None:
    summary = handler({"regions": ["eu-west-1", "us-east-1"]}, FakeContext(900_000))
    assert summary["regions"] == ["eu-west-1", "us-east-1"]
    assert handler({"regions": "eu-west-1"}, FakeContext(900_000))["regions"] == ["eu-west-1"]


def test_handler_out_of_time_writes_incomplete_output(aws: dict[str, Any]) -> None:
    # 5 s left with a 60 s margin: the deadline has passed before the first read.
    summary = handler({}, FakeContext(5_000))
    assert summary["complete"] is False
    assert summary["issues"] > 0
    files = _objects(aws["s3"], summary["s3_keys"])
    doc = json.loads(files["scan.json"])
    assert doc["complete"] is False
    assert {i["error_code"] for i in doc["issues"]} == {"DeadlineExceeded"}
    assert {i["kind"] for i in doc["issues"]} == {"error"}
    assert doc["findings"] and all(f["status"] == "unknown" for f in doc["findings"])
    issues = list(csv.DictReader(io.StringIO(files["issues.csv"])))
    assert len(issues) == summary["issues"]


OWNERS = """\
tag_key: team
parties: [{name: Storage team, contract: OLA-7}]
rules: [{party: Storage team, tag: storage}]
"""
ACCEPT = """\
accepted:
  - control: logging-detection.s3.bucket-access-logging
    resource: arn:aws:s3:::scanned-bucket
    reason: test data only
    approver: CISO
    expires: 2999-01-01
"""


def test_handler_reads_owners_from_s3_and_accepted_risks_from_its_package(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    s3 = aws["s3"]
    s3.put_object(Bucket=OUT, Key="config/owners.yaml", Body=OWNERS.encode())
    s3.put_bucket_tagging(
        Bucket="scanned-bucket", Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]}
    )
    (tmp_path / "accept.yaml").write_text(ACCEPT)
    monkeypatch.setenv("AWSRESP_OWNERS", f"s3://{OUT}/config/owners.yaml")
    monkeypatch.setenv("AWSRESP_ACCEPT", "accept.yaml")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    summary = handler({}, FakeContext(900_000))
    files = _objects(s3, summary["s3_keys"])
    findings = list(csv.DictReader(io.StringIO(files["findings.csv"])))
    logging = {
        r["resource_id"]: (r["party"], r["status"])
        for r in findings
        if r["control_id"] == "logging-detection.s3.bucket-access-logging"
    }
    assert logging["scanned-bucket"] == ("Storage team", "accepted")
    assert logging[OUT] == ("customer", "fail")
    owners = {r["party"]: r for r in csv.DictReader(io.StringIO(files["owners.csv"]))}
    assert owners["Storage team"]["contract"] == "OLA-7"


def test_handler_with_an_unreadable_owners_file_fails_the_run(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from awsresp.errors import AwsrespError

    monkeypatch.setenv("AWSRESP_OWNERS", f"s3://{OUT}/config/missing.yaml")
    with pytest.raises(AwsrespError, match=r"cannot read s3://.*/config/missing.yaml: NoSuchKey"):
        handler({}, FakeContext(900_000))


def test_handler_needs_a_bucket(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWSRESP_BUCKET")
    from awsresp.errors import AwsrespError

    with pytest.raises(AwsrespError, match="AWSRESP_BUCKET"):
        handler({}, FakeContext(900_000))


@mock_aws
def test_deadline_reached_mid_scan_skips_only_later_calls() -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bucket-one")
    specs = [s for s in Definitions.load().specs if s.service == "s3"]
    assert len(specs[0].resources) > 1
    target = Target(boto3.Session(region_name="us-east-1"), max_workers=1)
    collector = Collector(target, specs, "123456789012", "aws", ["us-east-1"])
    first_type = specs[0].resources[0].type

    def progress(message: str) -> None:
        # The budget runs out as soon as the first resource type is done (one worker: in order).
        collector.deadline = 0.0

    collector.progress = progress
    inv = collector.run()
    assert not inv.complete
    assert {i.error_code for i in inv.issues} == {"DeadlineExceeded"}
    assert first_type not in {i.resource_type for i in inv.issues}
    done = [r for r in inv.resources if r.type == first_type]
    assert done and not any(r.unreadable or r.unlisted for r in done)
    later = [r for r in inv.resources if r.type != first_type]
    assert later and all(r.unreadable or r.unlisted for r in later)


def test_lambda_abandons_a_hung_call_and_writes_before_its_time_is_up(
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bucket ACL read hangs (as a dead connection would); 14 s left, 10 s margin.
    class Hanging(Target):
        def client(self, service: str, region: str) -> Any:
            client = super().client(service, region)

            def hang(request: Any, **_: Any) -> None:
                if request.url.endswith("?acl"):  # GetBucketAcl
                    time.sleep(120)

            client.meta.events.register("before-send", hang, unique_id="test-hang")
            return client

    monkeypatch.setattr("awsresp.lambda_handler.Target", Hanging)
    monkeypatch.setenv("AWSRESP_MARGIN_SECONDS", "10")
    started = time.monotonic()
    summary = handler({}, FakeContext(14_000))
    elapsed = time.monotonic() - started
    assert elapsed < 14, elapsed
    assert summary["complete"] is False
    doc = json.loads(_objects(aws["s3"], summary["s3_keys"])["scan.json"])
    hung = [i for i in doc["issues"] if i["operation"] == "GetBucketAcl"]
    assert hung and {i["error_code"] for i in hung} == {"DeadlineExceeded"}


class FailingPuts:
    """An S3 client whose `fail_at`-th PutObject fails (and, with `deletes_fail`, every
    DeleteObjects too); everything else goes to the real (moto) client."""

    def __init__(self, client: Any, fail_at: int, deletes_fail: bool = False) -> None:
        self.client, self.fail_at, self.deletes_fail, self.puts = client, fail_at, deletes_fail, 0

    def put_object(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.puts == self.fail_at:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "PutObject")
        return self.client.put_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        if self.deletes_fail:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "x"}}, "Delete")
        return self.client.delete_objects(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _keys(s3: Any, prefix: str = "scans/") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=OUT, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="module")
def one_scan() -> Iterator[ScanResult]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="scanned-bucket")
        definitions = Definitions.load().select(["s3"])
        yield scan_account(Target(boto3.Session(region_name="us-east-1")), definitions, [])


@pytest.mark.parametrize("fail_at", range(1, len(PUBLISHED) + 1))
def test_a_failed_upload_leaves_nothing_behind(
    aws: dict[str, Any], one_scan: ScanResult, fail_at: int
) -> None:
    client = FailingPuts(aws["s3"], fail_at)
    with pytest.raises(ClientError, match="InternalError"):
        write_s3(one_scan, client, OUT, "scans/nightly", aws["key"])
    assert client.puts == fail_at
    assert _keys(aws["s3"]) == []


def test_when_the_cleanup_fails_too_the_first_error_is_reported(
    aws: dict[str, Any], one_scan: ScanResult
) -> None:
    # The manifest's put fails, then the deletes: the run stays without a manifest, which
    # no reader takes.
    client = FailingPuts(aws["s3"], len(PUBLISHED), deletes_fail=True)
    with pytest.raises(ClientError, match="InternalError"):
        write_s3(one_scan, client, OUT, "scans/nightly", aws["key"])
    left = _keys(aws["s3"])
    assert len(left) == len(PUBLISHED) - 1
    assert not any(k.endswith("manifest.json") for k in left)


def test_diff_of_a_prefix_reads_the_latest_run_with_a_manifest(
    aws: dict[str, Any], one_scan: ScanResult
) -> None:
    from awsresp.diff import load_scan
    from awsresp.errors import AwsrespError

    s3 = aws["s3"]
    day = one_scan.scanned_at[:10]
    base = f"s3://{OUT}/scans/nightly/account={one_scan.inventory.account}/date={day}/"
    with pytest.raises(AwsrespError, match="no finished run"):
        load_scan(base)
    keys = write_s3(one_scan, s3, OUT, "scans/nightly", aws["key"])
    assert load_scan(base).findings == load_scan(f"s3://{OUT}/{keys[-2]}").findings
    # A later run that failed midway (its cleanup failing too) has no manifest: not read.
    later = dataclasses.replace(one_scan, scanned_at=one_scan.scanned_at[:10] + "T23:59:59+00:00")
    with pytest.raises(ClientError):
        write_s3(later, FailingPuts(s3, len(PUBLISHED), True), OUT, "scans/nightly", None)
    assert load_scan(base).scanned_at == one_scan.scanned_at
    # A scan.json changed after its run no longer matches the manifest.
    s3.put_object(Bucket=OUT, Key=keys[-2], Body=b"{}")
    with pytest.raises(AwsrespError, match="does not match its run's manifest"):
        load_scan(base)
