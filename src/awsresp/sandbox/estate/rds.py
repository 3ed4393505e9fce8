"""RDS in the sandbox: a public, unencrypted reporting database and a private, encrypted,
protected orders database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate.kms import APP_KEY_ALIAS

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
    key_arn = sb.client("kms").describe_key(KeyId=APP_KEY_ALIAS)["KeyMetadata"]["Arn"]
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
