"""End to end: denied reads, transient faults and dead services never lose or falsify a result."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from awsresp.collect.executor import BUDGET_EXCEEDED, Collector
from awsresp.collect.policy import policy_document
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import IssueKind
from awsresp.sandbox import SANDBOX_REGIONS, Sandbox
from awsresp.scan import Definitions

from .conftest import run_cli
from .faultproxy import FaultProxy

pytestmark = pytest.mark.e2e

REGION_ARGS = [arg for r in SANDBOX_REGIONS for arg in ("-r", r)]
DENIED = {"s3:GetBucketAcl", "iam:ListSAMLProviders"}
# moto (5.2) authorizes some S3 reads under other action names than AWS does: bucket
# encryption, ownership controls and public access block as s3:ListBucket, and S3 Control's
# account-level public access block as s3:GetPublicAccessBlock. The scanner's test user gets
# those too, so that only the reads denied on purpose fail.
MOTO_ACTION_NAMES = ["s3:ListBucket", "s3:GetPublicAccessBlock"]
# The services the sandbox answers completely. moto has no Client VPN, Config rule
# compliance, Firewall Manager, Inspector2 account status or SSM inventory (those reads fail
# in every sandbox scan), so a test about *which* reads fail leaves them out.
COMPLETE = ["iam", "s3", "ec2", "elbv2", "kms", "rds", "dynamodb", "secretsmanager", "cloudtrail"]
# Under enforced IAM, moto (5.x) also denies CloudWatch, GuardDuty, Lambda and Security Hub
# reads that the policy allows (it derives other action names for their protocols).
ENFORCED = [arg for s in COMPLETE for arg in ("-s", s)]
FAULTED = [*ENFORCED, *(a for s in ("lambda", "guardduty", "securityhub") for a in ("-s", s))]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _scan(endpoint: str, out: Path, *extra: str) -> Any:
    return run_cli(["scan", "--endpoint-url", endpoint, *REGION_ARGS, "-o", str(out), *extra])


def _findings(out: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    doc = json.loads((out / "scan.json").read_text())
    return {
        (f["control_id"], f["resource_id"], f["region"]): (f["status"], f["evidence"])
        for f in doc["findings"]
    }


def test_denied_reads_are_unknown_and_named(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = policy_document(load_specs())
    for statement in doc["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a not in DENIED]
    doc["Statement"].append(
        {"Sid": "MotoNames", "Effect": "Allow", "Action": MOTO_ACTION_NAMES, "Resource": "*"}
    )
    iam = sandbox.client("iam")
    iam.create_user(UserName="awsresp-scanner")
    iam.put_user_policy(
        UserName="awsresp-scanner", PolicyName="awsresp", PolicyDocument=json.dumps(doc)
    )
    key = iam.create_access_key(UserName="awsresp-scanner")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    # From here on moto enforces IAM policies; moto's settings are process-wide, so this
    # test switches enforcement off again whatever happens.
    sandbox._post("/moto-api/reset-auth", b"0")
    try:
        result = _scan(sandbox.endpoint_url, tmp_path, "--fail-on-incomplete", *ENFORCED)
    finally:
        sandbox._post("/moto-api/reset-auth", b"inf")
        import moto.settings

        moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")

    assert result.exit_code == 3, result.output
    scan = json.loads((tmp_path / "scan.json").read_text())
    assert scan["complete"] is False
    denied = {(i["iam_action"], i["kind"]) for i in scan["issues"]}
    assert denied == {(a, "access-denied") for a in DENIED}, scan["issues"]
    with (tmp_path / "issues.csv").open(newline="", encoding="utf-8") as fh:
        assert {row["iam_action"] for row in csv.DictReader(fh)} == DENIED
    # The last line on stderr says what could not be read, by IAM action.
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("awsresp: incomplete scan") and all(a in last for a in DENIED), last

    found = {(f["control_id"], f["resource_id"]): f for f in scan["findings"]}
    buckets = ("acme-public-website", "acme-customer-data", "acme-access-logs")
    # Without the ACL nobody can say a bucket is not public: unknown, never pass; unless the
    # bucket's Block Public Access ignores public ACLs anyway.
    ignores_acls = {"acme-customer-data", "acme-access-logs"}
    for bucket in buckets:
        expected = "pass" if bucket in ignores_acls else "unknown"
        assert found[("data.s3.bucket-not-public", bucket)]["status"] == expected
        # Reads that were allowed still give their results.
        assert found[("data.s3.bucket-blocks-public-access", bucket)]["status"] != "unknown"
    federated = found[("identity-directory.iam.federated-identity-provider", "123456789012")]
    assert federated["status"] == "unknown"
    for cell in scan["matrix"]:
        if cell["unreadable"]:
            assert cell["status"] != "covered", cell
            if cell["unreadable"] == cell["resources"]:
                assert cell["status"] == "not-assessed", cell
                assert cell["reason"] in ("unreadable", "not-scanned"), cell
    # The denied federation read is one unreadable unit of the account's identity baseline.
    account_identity = [
        c for c in scan["matrix"] if (c["service"], c["layer"]) == ("account", "identity-directory")
    ]
    assert account_identity and account_identity[0]["unreadable"] >= 1


def test_transient_faults_do_not_change_findings(sandbox: Sandbox, tmp_path: Path) -> None:
    clean = _scan(sandbox.endpoint_url, tmp_path / "clean", "-q", "--fail-on-incomplete", *FAULTED)
    assert clean.exit_code == 0, clean.output
    with FaultProxy(sandbox.endpoint_url, rate=0.2, seed=7) as proxy:
        faulty = _scan(proxy.url, tmp_path / "faulty", "-q", "--fail-on-incomplete", *FAULTED)
    assert faulty.exit_code == 0, faulty.output
    assert set(proxy.injected) == {"throttle", "http-500", "http-503", "drop"}, proxy.injected
    assert sum(proxy.injected.values()) >= 10
    assert _findings(tmp_path / "faulty") == _findings(tmp_path / "clean")


def _collector(target: Target) -> Collector:
    specs = [s for s in Definitions.load().specs if s.service in ("iam", "s3")]
    return Collector(target, specs, "123456789012", "aws", ["us-east-1"])


def test_persistent_500_ends_as_an_issue_after_max_attempts(sandbox: Sandbox) -> None:
    def acl(service: str, method: str, path: str) -> bool:
        return service == "s3" and "acl" in path

    with FaultProxy(sandbox.endpoint_url, down=acl) as proxy:
        target = Target(sandbox.session(), endpoint_url=proxy.url, max_attempts=3)
        inventory = _collector(target).run()
    failed = [i for i in inventory.issues if i.operation == "GetBucketAcl"]
    assert len(failed) == 4 and all(i.error_code == "503" for i in failed), inventory.issues
    assert {i.operation for i in inventory.issues} == {"GetBucketAcl"}
    # Each of the four buckets' ACL was asked for exactly max_attempts times.
    assert proxy.injected["http-503"] == 4 * 3


def test_service_that_stays_down_ends_as_issues_in_bounded_time(sandbox: Sandbox) -> None:
    def s3_details(service: str, method: str, path: str) -> bool:
        return service == "s3" and path.startswith("/acme-")  # every bucket's detail calls

    with FaultProxy(sandbox.endpoint_url, down=s3_details, down_answer="hang") as proxy:
        target = Target(
            sandbox.session(),
            endpoint_url=proxy.url,
            max_attempts=2,
            read_timeout=0.5,
            service_budget=2.0,
            max_workers=4,
        )
        started = time.monotonic()
        inventory = _collector(target).run()
        elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    assert not inventory.complete
    s3_issues = [i for i in inventory.issues if i.service == "s3"]
    assert s3_issues and all(i.kind == IssueKind.ERROR for i in s3_issues)
    codes = {i.error_code for i in s3_issues}
    assert BUDGET_EXCEEDED in codes and "ReadTimeoutError" in codes, codes
    buckets = [r for r in inventory.resources if r.type == "s3.bucket"]
    assert len(buckets) == 4 and all(r.unreadable for r in buckets)
    # IAM did not share S3's fate.
    assert not [i for i in inventory.issues if i.service == "iam"]


def test_sandbox_names_what_moto_does_not_implement(sandbox: Sandbox) -> None:
    """moto answers Firewall Manager with an HTML 500 page: in the sandbox that is "not
    available" (not-enabled, not assessed), on any other endpoint a one-line error."""
    fms = [s for s in Definitions.load().specs if s.service == "fms"]
    for is_sandbox, kind, code in (
        (True, IssueKind.NOT_ENABLED, "NotImplementedBySandbox"),
        (False, IssueKind.ERROR, "500"),
    ):
        target = Target(
            sandbox.session(), endpoint_url=sandbox.endpoint_url, sandbox=is_sandbox, max_attempts=1
        )
        inventory = Collector(target, fms, "123456789012", "aws", ["us-east-1"]).run()
        assert inventory.issues and not inventory.complete
        for issue in inventory.issues:
            assert (issue.service, issue.kind, issue.error_code) == ("fms", kind, code), issue
            assert "\n" not in issue.message and "<" not in issue.message, issue.message
        assert all(r.unreadable for r in inventory.resources if r.type == "fms.admin")
