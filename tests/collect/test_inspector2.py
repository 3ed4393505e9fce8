"""Amazon Inspector: the account's scan types per region."""

from __future__ import annotations

import boto3
from moto import mock_aws

from ..stubs import ACCOUNT, REGION
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
    assert [(i.region, i.error_code) for i in inv.issues] == [(EU, "AccountStatusMissing")]


@mock_aws
def test_inspector_lambda_scan_types_are_read() -> None:
    boto3.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2", "LAMBDA"]
    )
    fact = one_fact(collect_inventory({"inspector2"}), "inspector2.account-status")
    assert judge("operating-system.inspector2.ec2-scanning-enabled", fact) == "pass"
    assert judge("application.inspector2.lambda-standard-scanning-enabled", fact) == "pass"
    assert judge("application.inspector2.lambda-code-scanning-enabled", fact) == "fail"
