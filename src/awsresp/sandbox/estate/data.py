"""Sandbox data stores, runtimes, endpoints: KMS, RDS, Lambda, secrets, DynamoDB, WorkSpaces."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

# Values that look like credentials; the end-to-end tests check none reaches the outputs.
LAMBDA_SECRET_VALUE = "sandbox-lambda-secret-value-do-not-leak"
SECRET_STRING = "sandbox-secretsmanager-value-do-not-leak"
ACCOUNT = "123456789012"


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


def _seed_kms(sb: Sandbox) -> str:
    kms = sb.client("kms")
    # Application data: rotating, default key policy.
    app = kms.create_key(Description="acme-app-data")["KeyMetadata"]
    kms.create_alias(AliasName="alias/acme-app-data", TargetKeyId=app["KeyId"])
    kms.enable_key_rotation(KeyId=app["KeyId"])
    # A legacy export key: no rotation, and a policy that lets anyone decrypt.
    legacy = kms.create_key(Description="acme-legacy-export", Policy=_open_key_policy())
    legacy_id = legacy["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-legacy-export", TargetKeyId=legacy_id)
    # A retired key someone scheduled for deletion.
    retired = kms.create_key(Description="acme-retired")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-retired", TargetKeyId=retired)
    kms.schedule_key_deletion(KeyId=retired, PendingWindowInDays=30)
    return str(app["Arn"])


def _seed_rds(sb: Sandbox, key_arn: str) -> None:
    rds = sb.client("rds")
    # A reporting database: public, unencrypted, one day of backups, no auto minor upgrades.
    rds.create_db_instance(
        DBInstanceIdentifier="acme-reports-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="reports",
        MasterUserPassword="sandbox-rds-password-not-real",
        PubliclyAccessible=True,
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
        AutoMinorVersionUpgrade=False,
    )
    # The orders database: private, encrypted with the rotating key, protected.
    rds.create_db_instance(
        DBInstanceIdentifier="acme-orders-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="orders",
        MasterUserPassword="sandbox-rds-password-not-real",
        PubliclyAccessible=False,
        StorageEncrypted=True,
        KmsKeyId=key_arn,
        BackupRetentionPeriod=7,
        AutoMinorVersionUpgrade=True,
        DeletionProtection=True,
    )


# The trust policy of a Lambda execution role (also used by the bench's seeders).
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def zip_source(source: str) -> bytes:
    """A .zip deployment package with `source` as index.py."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", source)
    return buf.getvalue()


def _seed_lambda(sb: Sandbox) -> None:
    iam = sb.client("iam")
    role = iam.create_role(RoleName="acme-lambda-exec", AssumeRolePolicyDocument=LAMBDA_TRUST)
    role_arn = role["Role"]["Arn"]
    lam = sb.client("lambda")
    code = {"ZipFile": zip_source("def handler(event, context):\n    return {'ok': True}\n")}
    # A legacy report builder: deprecated runtime, a password in its environment, and a
    # function URL anyone can call.
    lam.create_function(
        FunctionName="legacy-report-builder",
        Runtime="python3.7",
        Role=role_arn,
        Handler="index.handler",
        Code=code,
        Environment={"Variables": {"DB_PASSWORD": LAMBDA_SECRET_VALUE, "LOG_LEVEL": "info"}},
    )
    lam.create_function_url_config(FunctionName="legacy-report-builder", AuthType="NONE")
    lam.add_permission(
        FunctionName="legacy-report-builder",
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    # The orders API: a supported runtime behind an IAM-authenticated function URL.
    lam.create_function(
        FunctionName="orders-api",
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code=code,
    )
    lam.create_function_url_config(FunctionName="orders-api", AuthType="AWS_IAM")
    # An image resizer shipped as a container image (customer-patched runtime).
    lam.create_function(
        FunctionName="image-resizer",
        Role=role_arn,
        PackageType="Image",
        Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/image-resizer:1.4"},
    )


def _seed_secrets(sb: Sandbox) -> None:
    sm = sb.client("secretsmanager")
    sm.create_secret(Name="acme/reports/db-password", SecretString=SECRET_STRING)
    sm.create_secret(Name="acme/orders/db-password", SecretString=SECRET_STRING)
    # Managed-style rotation every 30 days (no rotation function to invoke in the sandbox).
    sm.rotate_secret(
        SecretId="acme/orders/db-password",
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )


def _seed_dynamodb(sb: Sandbox) -> None:
    ddb = sb.client("dynamodb", "eu-west-1")
    table: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName="acme-orders", **table)
    ddb.update_continuous_backups(
        TableName="acme-orders",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    ddb.create_table(TableName="acme-sessions", **table)


def _seed_workspaces(sb: Sandbox) -> None:
    # WorkSpaces needs a directory, which needs two subnets: the default VPC's.
    ec2 = sb.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    chosen = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[:2]
    directory = sb.client("ds").create_directory(
        Name="corp.acme.example",
        Password="Sandbox-Directory-Passw0rd",
        Size="Small",
        VpcSettings={
            "VpcId": chosen[0]["VpcId"],
            "SubnetIds": [s["SubnetId"] for s in chosen],
        },
    )["DirectoryId"]
    ws = sb.client("workspaces")
    ws.register_workspace_directory(DirectoryId=directory)
    bundle = "wsb-0123456789"  # moto does not check bundle ids
    ws.create_workspaces(
        Workspaces=[
            # Finance desktops: both volumes encrypted with the account's key.
            {
                "DirectoryId": directory,
                "UserName": "finance-analyst",
                "BundleId": bundle,
                "VolumeEncryptionKey": "alias/aws/workspaces",
                "RootVolumeEncryptionEnabled": True,
                "UserVolumeEncryptionEnabled": True,
            },
            # A contractor desktop created without volume encryption.
            {"DirectoryId": directory, "UserName": "contractor", "BundleId": bundle},
        ]
    )


def seed(sb: Sandbox) -> None:
    key_arn = _seed_kms(sb)
    _seed_rds(sb, key_arn)
    _seed_lambda(sb)
    _seed_secrets(sb)
    _seed_dynamodb(sb)
    _seed_workspaces(sb)
    # AWS Client VPN is not implemented by moto: no endpoint is seeded, and the scan
    # reports the Client VPN controls as unknown (the read fails) rather than faking one.
