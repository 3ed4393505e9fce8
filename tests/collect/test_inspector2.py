"""Amazon Inspector: the account's scan types per region."""

from __future__ import annotations

import boto3
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    EU,
    collect_inventory,
    judge,
    one_fact,
)


@mock_aws
def test_inspector_status_is_read_and_a_missing_one_is_an_issue() -> None:
    boto3.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2"]
    )
    inv = collect_inventory({"inspector2"}, (REGION, EU))
    status = one_fact(inv, "inspector2.account-status", REGION).config["Status"]
    assert status["resourceState"]["ec2"]["status"] == "ENABLED"
    # moto answers nothing for an account it never enabled; AWS would say DISABLED.
    eu = one_fact(inv, "inspector2.account-status", EU)
    assert eu.unreadable == frozenset({"Status"})
    assert [(i.region, i.error_code) for i in inv.issues] == [(EU, "MissingResult")]


@mock_aws
def test_inspector_lambda_scan_types_are_read() -> None:
    boto3.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2", "LAMBDA"]
    )
    fact = one_fact(collect_inventory({"inspector2"}), "inspector2.account-status")
    assert judge("operating-system.inspector2.ec2-scanning-enabled", fact) == "pass"
    assert judge("application.inspector2.lambda-standard-scanning-enabled", fact) == "pass"
    assert judge("application.inspector2.lambda-code-scanning-enabled", fact) == "fail"


def test_a_refused_account_status_is_an_issue_named_by_the_answer() -> None:
    """A 200 answer whose failedAccounts holds the account asked for: the read failed,
    with the code the answer gives, and the status is unreadable, never "disabled"."""
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "inspector2")
    stub.add_response(
        "batch_get_account_status",
        {
            "accounts": [],
            "failedAccounts": [
                {
                    "accountId": ACCOUNT,
                    "errorCode": "ACCESS_DENIED",
                    "errorMessage": "not allowed",
                }
            ],
        },
        {"accountIds": [ACCOUNT]},
    )
    with stub:
        inv = collect_only(target, "inspector2.account-status", "Status")
    fact = one_fact(inv, "inspector2.account-status")
    assert fact.unreadable == frozenset({"Status"})
    assert [(i.error_code, i.message) for i in inv.issues] == [("ACCESS_DENIED", "not allowed")]
    assert judge("operating-system.inspector2.ec2-scanning-enabled", fact) == "unknown"
