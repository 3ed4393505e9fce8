"""Secrets Manager in the sandbox: one secret without rotation, one rotating every 30 days."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

# A value that looks like a credential; the end-to-end tests check it reaches no output.
SECRET_STRING = "sandbox-secretsmanager-value-do-not-leak"


def seed(sb: Sandbox) -> None:
    sm = sb.client("secretsmanager")
    sm.create_secret(Name="acme/reports/db-password", SecretString=SECRET_STRING)
    sm.create_secret(Name="acme/orders/db-password", SecretString=SECRET_STRING)
    # Managed-style rotation every 30 days (no rotation function to invoke in the sandbox).
    sm.rotate_secret(
        SecretId="acme/orders/db-password",
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
