"""Client VPN: endpoints read through the EC2 client (Stubber: moto lacks them)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.parsers import ResponseParserError

from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import IssueKind

from ..stubs import REGION, stubbed
from .conftest import (
    collect,
)


def test_client_vpn_endpoints_are_read_through_the_ec2_client() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ec2")
    stub.add_response(
        "describe_client_vpn_endpoints",
        {
            "ClientVpnEndpoints": [
                {
                    "ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0",
                    "Description": "staff-vpn",
                    "AuthenticationOptions": [{"Type": "certificate-authentication"}],
                    "ConnectionLogOptions": {"Enabled": False},
                    "Tags": [{"Key": "team", "Value": "it"}],
                }
            ]
        },
    )
    with stub:
        inv, _ = collect({"clientvpn"}, target=target)
    (endpoint,) = inv.resources
    assert (endpoint.type, endpoint.name, endpoint.tags) == (
        "clientvpn.endpoint",
        "staff-vpn",
        {"team": "it"},
    )
    assert endpoint.arn.endswith(":client-vpn-endpoint/cvpn-endpoint-0123456789abcdef0")
    spec = next(s for s in load_specs() if s.service == "clientvpn")
    assert spec.iam_actions() == ["ec2:DescribeClientVpnEndpoints"]


def test_an_answer_that_cannot_be_parsed_is_an_issue_not_a_crash() -> None:
    # What moto's server sends for an operation it lacks: an HTML page botocore cannot parse.
    target = Target(boto3.Session(region_name=REGION))
    client, _ = stubbed(target, "ec2")

    def broken(*_: Any, **__: Any) -> Any:
        raise ResponseParserError("invalid XML received")

    client.get_paginator = lambda _name: type("P", (), {"paginate": broken})()
    inv, _ = collect({"clientvpn"}, target=target)
    (placeholder,) = inv.resources
    assert placeholder.unlisted
    (issue,) = inv.issues
    assert (issue.kind, issue.error_code, issue.iam_action) == (
        IssueKind.ERROR,
        "MalformedResponse",
        "ec2:DescribeClientVpnEndpoints",
    )
