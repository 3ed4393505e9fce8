"""Firewall Manager: the policies, each with this account's violators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from awsresp.collect.hooks.registry import HookContext, hook, pages


@hook(
    "fms",
    [("fms", "ListPolicies"), ("fms", "GetComplianceDetail")],
    conditional=[("fms", "GetComplianceDetail")],
)
def fms_policies(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Firewall Manager policies, each with this account's violators."""
    policies = []
    for page in pages(ctx.call("fms", "ListPolicies", {})):
        for policy in page.get("PolicyList", []):
            detail = ctx.call(
                "fms",
                "GetComplianceDetail",
                {"PolicyId": policy.get("PolicyId"), "MemberAccount": ctx.account},
            ).get("PolicyComplianceDetail", {})
            policies.append(
                {
                    "PolicyId": policy.get("PolicyId"),
                    "PolicyName": policy.get("PolicyName"),
                    "SecurityServiceType": policy.get("SecurityServiceType"),
                    "RemediationEnabled": policy.get("RemediationEnabled"),
                    "Violators": detail.get("Violators", []),
                    "EvaluationLimitExceeded": detail.get("EvaluationLimitExceeded"),
                }
            )
    return [policies for _ in items]


# Every trail of the account (cloudtrail_trails), shared by the hooks that start from it.
