"""The hook registry: @hook declares a hook's operations once, and its IAM actions follow."""

from __future__ import annotations

from typing import Any

import pytest

from awsresp.collect.hooks import registry
from awsresp.collect.iam_actions import action_for


def test_a_hooks_actions_are_derived_from_its_operations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "HOOKS", {})
    ops = [("s3", "ListBuckets"), ("s3control", "GetPublicAccessBlock"), ("s3", "GetBucketAcl")]

    @registry.hook("s3", ops)
    def s3_example(ctx: Any, items: Any) -> list[Any]:
        return [None for _ in items]

    found = registry.HOOKS["s3_example"]
    assert found.iam_actions == tuple(dict.fromkeys(action_for(c, op) for c, op in ops))
    # Actions named otherwise than their operation, and clients signing as another prefix.
    assert found.iam_actions == (
        "s3:ListAllMyBuckets",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketAcl",
    )
    assert action_for("elbv2", "DescribeLoadBalancers") == (
        "elasticloadbalancing:DescribeLoadBalancers"
    )


def test_registering_declares_the_operations_once_and_refuses_a_second_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "HOOKS", {})

    @registry.hook("kms", [("kms", "ListKeys"), ("kms", "DescribeKey")], [("kms", "DescribeKey")])
    def kms_example(ctx: Any, items: Any) -> list[Any]:
        return [None for _ in items]

    found = registry.HOOKS["kms_example"]
    assert (found.service, found.fn) == ("kms", kms_example)
    assert found.iam_actions == ("kms:ListKeys", "kms:DescribeKey")
    assert found.conditional == (("kms", "DescribeKey"),)
    with pytest.raises(ValueError, match="registered twice"):
        registry.hook("kms", [("kms", "ListKeys")])(kms_example)
    with pytest.raises(ValueError, match="not declared"):
        registry.hook("kms", [("kms", "ListKeys")], [("kms", "GetKeyPolicy")])


def test_a_ready_hook_is_registered_as_its_own_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "HOOKS", {})

    @registry.ready_hook("iam", [("iam", "GenerateCredentialReport")])
    def iam_example_ready(ctx: Any) -> None:
        return None

    found = registry.HOOKS["iam_example_ready"]
    assert (found.kind, found.service, found.fn) == ("ready", "iam", iam_example_ready)
    assert found.iam_actions == ("iam:GenerateCredentialReport",)
    assert found.conditional == ()
    with pytest.raises(ValueError, match="registered twice"):
        registry.hook("iam", [("iam", "GetCredentialReport")])(iam_example_ready)  # type: ignore[arg-type]
