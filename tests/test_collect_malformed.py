"""Malformed answers through the fault proxy: a 2xx that is not the protocol's format is a
failed read (an issue, unknown findings), never "nothing there", and never a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.model import IssueKind
from awsresp.sandbox import Sandbox
from awsresp.scan import Definitions

from .conftest import run_cli
from .faultproxy import MALFORMED, FaultProxy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _collect(sandbox: Sandbox, proxy: FaultProxy, *services: str) -> Any:
    specs = [s for s in Definitions.load().specs if s.service in services]
    target = Target(sandbox.session(), endpoint_url=proxy.url, max_attempts=2)
    return Collector(target, specs, "123456789012", "aws", ["us-east-1"]).run()


def test_an_empty_kms_listing_is_an_issue_unknown_findings_and_exit_3(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    faults = frozenset({("kms", "ListKeys")})
    with FaultProxy(sandbox.endpoint_url, down_answer="empty-200", operations=faults) as proxy:
        args = ["scan", "--endpoint-url", proxy.url, "-r", "us-east-1", "-s", "kms"]
        result = run_cli([*args, "-q", "-o", str(tmp_path), "--fail-on-incomplete"])
    assert result.exit_code == 3, result.output
    doc = json.loads((tmp_path / "scan.json").read_text())
    assert doc["complete"] is False
    issues = [i for i in doc["issues"] if i["operation"] == "ListKeys"]
    assert [(i["kind"], i["error_code"], i["region"]) for i in issues] == [
        ("error", "MalformedResponse", "us-east-1")
    ]
    keys = [f for f in doc["findings"] if f["resource_type"] == "kms.key"]
    assert keys and {f["status"] for f in keys} == {"unknown"}
    # Retried like a transient error first: every attempt (5 by default) was answered empty.
    assert proxy.injected["empty-200"] == 5


@pytest.mark.parametrize("answer", MALFORMED)
def test_html_truncated_or_random_ec2_instances_are_a_failed_read(
    sandbox: Sandbox, answer: str
) -> None:
    faults = frozenset({("ec2", "DescribeInstances")})
    with FaultProxy(sandbox.endpoint_url, down_answer=answer, operations=faults) as proxy:
        inventory = _collect(sandbox, proxy, "ec2")
    failed = [i for i in inventory.issues if i.operation == "DescribeInstances"]
    assert failed, inventory.issues
    assert {(i.kind, i.error_code) for i in failed} == {(IssueKind.ERROR, "MalformedResponse")}
    instances = [r for r in inventory.resources if r.type == "ec2.instance"]
    assert instances and all(r.unlisted for r in instances)
    assert not inventory.complete


@pytest.mark.parametrize("answer", MALFORMED)
def test_malformed_json_and_xml_details_are_unreadable_not_absent(
    sandbox: Sandbox, answer: str
) -> None:
    # KMS (JSON) and S3's bucket location (REST-XML, parsed again by botocore's handler).
    faults = frozenset({("kms", "GetKeyRotationStatus")})

    def location(service: str, method: str, path: str) -> bool:
        return service == "s3" and "location" in path

    with FaultProxy(
        sandbox.endpoint_url, down=location, down_answer=answer, operations=faults
    ) as proxy:
        inventory = _collect(sandbox, proxy, "kms", "s3")
    codes = {(i.operation, i.error_code) for i in inventory.issues}
    if answer != "empty-200":  # an empty location answer is us-east-1's: well formed
        assert ("GetBucketLocation", "MalformedResponse") in codes, codes
    assert ("GetKeyRotationStatus", "MalformedResponse") in codes, codes
    keys = [r for r in inventory.resources if r.type == "kms.key"]
    assert keys and all("RotationEnabled" in k.unreadable for k in keys)
