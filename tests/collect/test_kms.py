"""KMS: keys with metadata, rotation, policy and aliases joined from one listing."""

from __future__ import annotations

import boto3
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    by_name,
    collect,
)


@mock_aws
def test_kms_keys_carry_metadata_rotation_policy_and_aliases() -> None:
    kms = boto3.client("kms", region_name=REGION)
    rotating = kms.create_key(Description="rotating")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotating)
    kms.create_alias(AliasName="alias/app", TargetKeyId=rotating)
    kms.create_key(Description="plain")
    inv, target = collect({"kms"})
    keys = by_name(inv, "kms.key")
    app = keys["alias/app"]
    assert app.id == rotating and app.config["Aliases"] == ["alias/app"]
    assert app.config["RotationEnabled"] is True
    assert app.config["Metadata"]["KeyManager"] == "CUSTOMER"
    assert app.config["Policy"]["Statement"][0]["Effect"] == "Allow"  # parsed, not text
    (plain,) = (k for name, k in keys.items() if name != "alias/app")
    assert plain.config["RotationEnabled"] is False and plain.config["Aliases"] == []
    # One ListAliases for the region, not one per key.
    assert target.stats.calls[("kms", "ListAliases")] == 1
    assert inv.complete


@mock_aws
def test_a_region_without_keys_makes_no_alias_call() -> None:
    inv, target = collect({"kms"})
    assert by_name(inv, "kms.key") == {} and inv.complete
    assert target.stats.calls[("kms", "ListAliases")] == 0


def test_rotation_status_of_a_key_that_cannot_rotate_is_absent_not_unreadable() -> None:
    # moto answers KeyRotationEnabled false for asymmetric keys; AWS refuses the call.
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "kms")
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"
    stub.add_response("list_keys", {"Keys": [{"KeyId": key, "KeyArn": arn}], "Truncated": False})
    stub.add_client_error(
        "get_key_rotation_status", "UnsupportedOperationException", "asymmetric key"
    )
    with stub:
        inv = collect_only(target, "kms.key", "RotationEnabled")
    stub.assert_no_pending_responses()
    (resource,) = inv.resources
    assert resource.config["RotationEnabled"] is None
    assert resource.unreadable == frozenset() and inv.complete
