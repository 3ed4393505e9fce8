"""The spec executor under faults: bodiless denials, hooks that lose the network."""

from __future__ import annotations

import dataclasses
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from awsresp.collect import hooks
from awsresp.collect.executor import Collector, classify, error_code
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import IssueKind


def test_a_403_without_an_error_code_is_access_denied() -> None:
    # moto's S3 Control (and AWS for HEAD requests) answer 403 with no parsable code.
    exc = ClientError(
        {"Error": {"Code": "", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "GetPublicAccessBlock",
    )
    assert error_code(exc) == "403"
    assert classify(error_code(exc)) == IssueKind.ACCESS_DENIED


def test_hook_that_cannot_reach_aws_becomes_an_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(ctx: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")

    original = hooks.HOOKS["iam_credential_report_ready"]
    broken = dataclasses.replace(original, fn=unreachable)
    monkeypatch.setitem(hooks.HOOKS, "iam_credential_report_ready", broken)
    with mock_aws():
        boto3.client("iam", region_name="us-east-1").create_user(UserName="carol")
        specs = [s for s in load_specs() if s.service == "iam"]
        target = Target(boto3.Session(region_name="us-east-1"))
        inv = Collector(target, specs, "123456789012", "aws", ["us-east-1"]).run()
    user = next(r for r in inv.resources if r.type == "iam.user")
    account = next(r for r in inv.resources if r.type == "iam.account")
    assert user.unreadable == frozenset({"Credentials"})
    assert account.unreadable == frozenset({"CredentialReport"})
    # The ready hook's failure, once for each type whose read waited for it.
    assert [(i.resource_type, i.error_code, i.kind, i.iam_action) for i in inv.issues] == [
        ("iam.account", "EndpointConnectionError", IssueKind.ERROR, "iam:GenerateCredentialReport"),
        ("iam.user", "EndpointConnectionError", IssueKind.ERROR, "iam:GenerateCredentialReport"),
    ]


def test_hook_issues_name_the_iam_action_of_the_called_service() -> None:
    from awsresp.collect.iam_actions import action_for

    # IAM names actions after the signing name, not the client's name.
    assert action_for("elbv2", "DescribeLoadBalancers") == (
        "elasticloadbalancing:DescribeLoadBalancers"
    )
    assert action_for("accessanalyzer", "ListAnalyzers") == "access-analyzer:ListAnalyzers"
    # A hook of CloudTrail's resource reading S3: the S3 action, never "cloudtrail:...".
    assert action_for("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert action_for("s3control", "GetPublicAccessBlock") == ("s3:GetAccountPublicAccessBlock")
    assert action_for("s3", "GetPublicAccessBlock") == ("s3:GetBucketPublicAccessBlock")


def test_budget_and_deadline_are_typed_outcomes_not_client_errors() -> None:
    from awsresp.collect.calls import BudgetExhausted, Calls, DeadlineExceeded

    calls = Calls(lambda _s, _r: None, service_budget=0.0, deadline=0.0)
    with pytest.raises(DeadlineExceeded) as late:
        calls.cached("kms", "us-east-1", "ListKeys", {})
    assert (late.value.issue.error_code, late.value.issue.kind) == (
        "DeadlineExceeded",
        IssueKind.ERROR,
    )
    calls.deadline = None
    calls.within_budget("kms", "us-east-1", "ListKeys")  # starts the budget's clock
    import time

    time.sleep(0.01)
    with pytest.raises(BudgetExhausted) as spent:
        calls.cached("kms", "us-east-1", "ListKeys", {})
    assert spent.value.issue.error_code == "ServiceTimeBudgetExceeded"
    assert not isinstance(spent.value, ClientError)
