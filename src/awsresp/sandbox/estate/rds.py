"""RDS in the sandbox: a public, unencrypted reporting database and a private, encrypted,
protected orders database; a well-kept Aurora MySQL cluster and a neglected one; manual
snapshots (one public); two RDS Proxies (one without TLS); and an event subscription for
instance events only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from awsresp.sandbox.estate.kms import APP_KEY_ALIAS
from awsresp.sandbox.estate.lambda_ import default_vpc

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ACCOUNT = "123456789012"
PASSWORD = "sandbox-rds-password-not-real"


def _instances(rds: Any, key_arn: str) -> None:
    # A reporting database: public, unencrypted, one day of backups, no auto minor upgrades,
    # the default master user name on the default port, nothing exported or monitored.
    rds.create_db_instance(
        DBInstanceIdentifier="acme-reports-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="postgres",
        MasterUserPassword=PASSWORD,
        Port=5432,
        PubliclyAccessible=True,
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
        AutoMinorVersionUpgrade=False,
    )
    # The orders database: private, encrypted with the rotating key, protected, Multi-AZ,
    # monitored, exporting its logs, IAM authentication, its own port and master user name.
    rds.create_db_instance(
        DBInstanceIdentifier="acme-orders-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="orders",
        MasterUserPassword=PASSWORD,
        Port=5433,
        PubliclyAccessible=False,
        StorageEncrypted=True,
        KmsKeyId=key_arn,
        BackupRetentionPeriod=7,
        AutoMinorVersionUpgrade=True,
        DeletionProtection=True,
        MultiAZ=True,
        MonitoringInterval=60,
        MonitoringRoleArn=f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring-role",
        EnableCloudwatchLogsExports=["postgresql", "upgrade"],
        EnableIAMDatabaseAuthentication=True,
        CopyTagsToSnapshot=True,
    )


def _clusters(rds: Any, key_arn: str) -> None:
    # Analytics on Aurora MySQL: encrypted, protected, backtracking, audit log exported, IAM
    # authentication, a custom port and master user, writer and reader in two zones.
    rds.create_db_cluster(
        DBClusterIdentifier="acme-analytics",
        Engine="aurora-mysql",
        MasterUsername="analytics_owner",
        MasterUserPassword=PASSWORD,
        Port=3307,
        StorageEncrypted=True,
        KmsKeyId=key_arn,
        BackupRetentionPeriod=7,
        DeletionProtection=True,
        BacktrackWindow=86400,
        EnableCloudwatchLogsExports=["audit", "error"],
        EnableIAMDatabaseAuthentication=True,
        CopyTagsToSnapshot=True,
    )
    for zone in ("us-east-1a", "us-east-1b"):
        rds.create_db_instance(
            DBInstanceIdentifier=f"acme-analytics-{zone[-1]}",
            DBClusterIdentifier="acme-analytics",
            Engine="aurora-mysql",
            DBInstanceClass="db.r6g.large",
            AvailabilityZone=zone,
            # moto leaves PubliclyAccessible out unless it is given (AWS always answers it).
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            MonitoringInterval=60,
            MonitoringRoleArn=f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring-role",
        )
    # A neglected Aurora MySQL cluster: unencrypted, a writer only (no instance at all),
    # the default user name and port, nothing exported, no IAM authentication.
    rds.create_db_cluster(
        DBClusterIdentifier="acme-legacy-aurora",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        Port=3306,
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
    )


def _snapshots(rds: Any) -> None:
    rds.create_db_snapshot(
        DBInstanceIdentifier="acme-orders-db", DBSnapshotIdentifier="acme-orders-before-migration"
    )
    # Shared with a partner account: not public.
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="acme-orders-before-migration",
        AttributeName="restore",
        ValuesToAdd=["210987654321"],
    )
    # An unencrypted export someone made public.
    rds.create_db_snapshot(
        DBInstanceIdentifier="acme-reports-db", DBSnapshotIdentifier="acme-reports-export"
    )
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="acme-reports-export", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier="acme-analytics", DBClusterSnapshotIdentifier="acme-analytics-monthly"
    )
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier="acme-legacy-aurora",
        DBClusterSnapshotIdentifier="acme-legacy-aurora-final",
    )
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="acme-legacy-aurora-final",
        AttributeName="restore",
        ValuesToAdd=["all"],
    )


def _proxies(sb: Sandbox, rds: Any) -> None:
    # In the default VPC: the proxies add no network resource to the estate.
    subnets, group = default_vpc(sb)
    for name, tls in (("acme-orders-proxy", True), ("acme-reports-proxy", False)):
        rds.create_db_proxy(
            DBProxyName=name,
            EngineFamily="POSTGRESQL",
            Auth=[
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}",
                    "IAMAuth": "DISABLED",
                }
            ],
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
            VpcSubnetIds=subnets,
            VpcSecurityGroupIds=[group],
            RequireTLS=tls,
        )


def seed(sb: Sandbox) -> None:
    key_arn = sb.client("kms").describe_key(KeyId=APP_KEY_ALIAS)["KeyMetadata"]["Arn"]
    rds = sb.client("rds")
    _instances(rds, key_arn)
    _clusters(rds, key_arn)
    _snapshots(rds)
    _proxies(sb, rds)
    # Operations hear about instance events only (cluster, parameter group and security
    # group events go unnoticed). moto defaults Enabled to false; AWS to true.
    rds.create_event_subscription(
        SubscriptionName="acme-db-instance-events",
        SnsTopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:acme-ops",
        SourceType="db-instance",
        EventCategories=["maintenance", "configuration change", "failure"],
        Enabled=True,
    )
