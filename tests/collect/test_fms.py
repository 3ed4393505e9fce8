"""Firewall Manager: policies with this account's violators (Stubber: moto lacks the service)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from awsresp.collect.session import Target
from awsresp.model import Resource

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    judge,
    one_fact,
)

POLICY_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"


def _fms_policies(violators: list[dict[str, Any]]) -> Resource:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_response(
        "list_policies",
        {
            "PolicyList": [
                {
                    "PolicyId": POLICY_ID,
                    "PolicyName": "sg-baseline",
                    "SecurityServiceType": "SECURITY_GROUPS_COMMON",
                    "RemediationEnabled": True,
                }
            ]
        },
    )
    stub.add_response(
        "get_compliance_detail",
        {
            "PolicyComplianceDetail": {
                "PolicyId": POLICY_ID,
                "MemberAccount": ACCOUNT,
                "Violators": violators,
                "EvaluationLimitExceeded": False,
            }
        },
        {"PolicyId": POLICY_ID, "MemberAccount": ACCOUNT},
    )
    with stub:
        inv = collect_only(target, "fms.admin", "Policies")
    stub.assert_no_pending_responses()
    return one_fact(inv, "fms.admin")


def test_firewall_manager_policies_pass_and_fail() -> None:
    clean = _fms_policies([])
    assert clean.config["Policies"][0]["Violators"] == []
    assert judge("network-controls.fms.policies-cover-account", clean) == "pass"
    violator = {
        "ResourceId": "sg-0123",
        "ViolationReason": "RESOURCE_VIOLATES_AUDIT_SECURITY_GROUP",
        "ResourceType": "AWS::EC2::SecurityGroup",
    }
    dirty = _fms_policies([violator])
    assert judge("network-controls.fms.policies-cover-account", dirty) == "fail"


def test_firewall_manager_without_an_administrator_is_absent_not_unreadable() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_client_error("get_admin_account", "ResourceNotFoundException", "no admin")
    with stub:
        inv = collect_only(target, "fms.admin", "AdminAccount")
    fact = one_fact(inv, "fms.admin")
    assert fact.config["AdminAccount"] is None and inv.complete


def test_firewall_manager_denied_to_a_member_account_is_unknown() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_client_error("list_policies", "AccessDeniedException", "not the FMS admin")
    with stub:
        inv = collect_only(target, "fms.admin", "Policies")
    fact = one_fact(inv, "fms.admin")
    assert fact.unreadable == frozenset({"Policies"})
    assert [i.kind.value for i in inv.issues] == ["access-denied"]
    assert judge("network-controls.fms.policies-cover-account", fact) == "unknown"
    assert json.dumps(fact.config)  # JSON-safe


def test_one_policys_compliance_denied_makes_the_policies_unknown_not_fewer() -> None:
    """`each`: a failed read for one element leaves the whole list unreadable; a list
    without that policy would read as "no violators"."""
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    policies = [
        {"PolicyId": f"{POLICY_ID[:-1]}{n}", "PolicyName": f"p{n}", "SecurityServiceType": "WAFV2"}
        for n in (1, 2)
    ]
    stub.add_response("list_policies", {"PolicyList": policies})
    stub.add_response(
        "get_compliance_detail",
        # The two reads run concurrently: either may get the answer, the other the error.
        {"PolicyComplianceDetail": {"Violators": []}},
    )
    stub.add_client_error("get_compliance_detail", "AccessDeniedException", "no")
    with stub:
        inv = collect_only(target, "fms.admin", "Policies")
    fact = one_fact(inv, "fms.admin")
    assert fact.config["Policies"] is None and fact.unreadable == frozenset({"Policies"})
    assert [(i.operation, i.kind.value) for i in inv.issues] == [
        ("GetComplianceDetail", "access-denied")
    ]
    assert judge("network-controls.fms.policies-cover-account", fact) == "unknown"
