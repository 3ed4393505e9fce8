"""KMS in the sandbox: a rotating application key, a legacy key anyone may decrypt with and
no rotation, and a retired key scheduled for deletion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ACCOUNT = "123456789012"
APP_KEY_ALIAS = "alias/acme-app-data"


def _open_key_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EnableRootPermissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "LetPartnersDecrypt",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                },
            ],
        }
    )


def seed(sb: Sandbox) -> None:
    kms = sb.client("kms")
    # Application data: rotating, default key policy.
    app = kms.create_key(Description="acme-app-data")["KeyMetadata"]
    kms.create_alias(AliasName=APP_KEY_ALIAS, TargetKeyId=app["KeyId"])
    kms.enable_key_rotation(KeyId=app["KeyId"])
    # A legacy export key: no rotation, and a policy that lets anyone decrypt.
    legacy = kms.create_key(Description="acme-legacy-export", Policy=_open_key_policy())
    legacy_id = legacy["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-legacy-export", TargetKeyId=legacy_id)
    # A retired key someone scheduled for deletion.
    retired = kms.create_key(Description="acme-retired")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-retired", TargetKeyId=retired)
    kms.schedule_key_deletion(KeyId=retired, PendingWindowInDays=30)
