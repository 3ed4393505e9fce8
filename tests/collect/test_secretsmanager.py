"""Secrets Manager: secrets with their rotation, never their values."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from ..stubs import REGION
from .conftest import by_name, collect


@mock_aws
def test_secrets_carry_their_rotation_and_never_their_value() -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="db-password", SecretString="unit-test-secret-value")
    inv, _ = collect({"secretsmanager"})
    secret = by_name(inv, "secretsmanager.secret")["db-password"]
    assert "unit-test-secret-value" not in json.dumps(secret.config)
    assert secret.config.get("RotationEnabled") in (None, False)
    assert inv.complete
