"""securityhub: the collector against moto in-process (a Stubber where moto lacks an answer)."""

from __future__ import annotations

import boto3

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    one_fact,
)

HUB = {"HubArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"}


def test_security_hub_standards_are_read_when_there_is_a_hub() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_response("describe_hub", HUB)
    fsbp = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices"
    stub.add_response(
        "get_enabled_standards",
        {
            "StandardsSubscriptions": [
                {
                    "StandardsSubscriptionArn": f"{fsbp}/sub",
                    "StandardsArn": fsbp,
                    "StandardsInput": {},
                    "StandardsStatus": "READY",
                }
            ]
        },
    )
    with stub:
        # Standards waits for Hub (its `when`), so the Stubber's order is the engine's.
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    assert one_fact(inv, "securityhub.hub").config["Standards"] == [
        {"StandardsArn": fsbp, "StandardsStatus": "READY"}
    ]


def test_security_hub_standards_are_not_asked_without_a_hub() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_client_error("describe_hub", "InvalidAccessException", "not subscribed")
    with stub:
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    hub = one_fact(inv, "securityhub.hub")
    assert (hub.config["Hub"], hub.config["Standards"], hub.unreadable) == (None, None, set())
    assert inv.complete


def test_security_hub_standards_are_unreadable_when_the_hub_is() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_client_error("describe_hub", "AccessDeniedException", "denied")
    with stub:
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    assert one_fact(inv, "securityhub.hub").unreadable == {"Hub", "Standards"}
    (issue,) = inv.issues  # the hub's, once
    assert issue.operation == "DescribeHub"
