"""The least-privilege IAM policy for exactly the reads that the collector specs and hooks make."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from awsresp.collect.iam_actions import ACTION_OPERATIONS
from awsresp.collect.specs import ServiceSpec

__all__ = ["ACTION_OPERATIONS", "SCANNER_ACTIONS", "actions", "policy_document"]

# Calls the scanner makes outside the specs: ec2:DescribeRegions lists the enabled regions for
# --all-regions. (sts:GetCallerIdentity, which names the account, needs no permission.)
SCANNER_ACTIONS = ("ec2:DescribeRegions",)


def actions(specs: Iterable[ServiceSpec]) -> list[str]:
    """Every IAM action the scan needs, sorted and without duplicates."""
    found = {a for spec in specs for a in spec.iam_actions()}
    return sorted(found | set(SCANNER_ACTIONS))


def _sid(prefix: str) -> str:
    return "Read" + "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", prefix))


def policy_document(specs: Sequence[ServiceSpec]) -> dict[str, Any]:
    """An identity-based policy allowing exactly those actions, one statement per service."""
    grouped: dict[str, list[str]] = {}
    for action in actions(specs):
        grouped.setdefault(action.split(":", 1)[0], []).append(action)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": _sid(prefix), "Effect": "Allow", "Action": acts, "Resource": "*"}
            for prefix, acts in sorted(grouped.items())
        ],
    }


# What `scan --org` calls in the management (or delegated administrator) account.
ORG_LISTING_ACTIONS = (
    "organizations:DescribeOrganization",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListRoots",
    "organizations:ListTagsForResource",
)


def org_scanner_policy(role_name: str) -> dict[str, Any]:
    """The principal running `scan --org`: list the organization, assume the member role
    (by name, in any account), and read its own account (scanned with its own rights)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOrganization",
                "Effect": "Allow",
                "Action": list(ORG_LISTING_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "AssumeMemberRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:*:iam::*:role/{role_name}",
            },
        ],
    }
