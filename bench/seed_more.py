"""Bench seeders beyond IAM and S3: EC2/VPC, KMS, RDS, Lambda, Secrets Manager, DynamoDB,
CloudTrail and CloudWatch. Each takes (client factory, scale, seeded RNG, thread pool) and
returns how many resources it made; everything is in the bench region and deterministic for
a seed. The counts per scale unit are in each docstring; `make bench` adds them up."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from awsresp.sandbox.estate.lambda_ import LAMBDA_TRUST, zip_source

Client = Callable[[str], Any]
ACCOUNT = "123456789012"
REGION = "us-east-1"


def seed_ec2(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 1 VPC, 2 subnets, 3 security groups (one open to SSH from anywhere),
    3 instances (each with its root volume; IMDSv2 and public IPs mixed), 2 data volumes
    (half encrypted)."""
    ec2 = client("ec2")
    # moto starts without images (MOTO_EC2_LOAD_DEFAULT_AMIS=false): register one.
    image = ec2.register_image(
        Name="bench-base", Architecture="x86_64", RootDeviceName="/dev/xvda"
    )["ImageId"]

    # Each unit's choices come from its own generator, seeded before the threads start, so
    # the account is the same for a seed whatever order the units run in.
    seeds = [rng.random() for _ in range(scale)]

    def unit(i: int) -> None:
        local = random.Random(seeds[i])
        vpc = ec2.create_vpc(CidrBlock=f"10.{i % 250}.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i % 250}.{n}.0/24")["Subnet"]["SubnetId"]
            for n in range(2)
        ]
        groups = []
        for n in range(3):
            gid = ec2.create_security_group(
                GroupName=f"bench-sg-{i}-{n}", Description="bench", VpcId=vpc
            )["GroupId"]
            cidr = "0.0.0.0/0" if n == 0 and local.random() < 0.5 else "10.0.0.0/8"
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": cidr}],
                    }
                ],
            )
            groups.append(gid)
        for n in range(3):
            ec2.run_instances(
                ImageId=image,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.micro",
                SubnetId=subnets[n % 2],
                SecurityGroupIds=[groups[n]],
                MetadataOptions={
                    "HttpTokens": "required" if local.random() < 0.6 else "optional",
                    "HttpEndpoint": "enabled",
                },
            )
        for _n in range(2):
            ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=local.random() < 0.5)

    list(pool.map(unit, range(scale)))
    return (1 + 2 + 3 + 3 + 3 + 2) * scale


def seed_kms(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 2 customer keys, rotation on for about half."""
    kms = client("kms")
    plans = [(i, rng.random()) for i in range(2 * scale)]

    def key(plan: tuple[int, float]) -> None:
        i, roll = plan
        key_id = kms.create_key(Description=f"bench key {i}")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/bench-{i}", TargetKeyId=key_id)
        if roll < 0.5:
            kms.enable_key_rotation(KeyId=key_id)

    list(pool.map(key, plans))
    return 2 * scale


def seed_rds(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 1 PostgreSQL instance, encryption and public access mixed."""
    rds = client("rds")
    plans = [(i, rng.random()) for i in range(scale)]

    def db(plan: tuple[int, float]) -> None:
        i, roll = plan
        rds.create_db_instance(
            DBInstanceIdentifier=f"bench-db-{i}",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="bench",
            MasterUserPassword="bench-password-not-real",
            PubliclyAccessible=roll < 0.2,
            StorageEncrypted=roll > 0.3,
            BackupRetentionPeriod=7 if roll > 0.5 else 1,
        )

    list(pool.map(db, plans))
    return scale


def seed_lambda(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 2 .zip functions, some on a deprecated runtime."""
    role = client("iam").create_role(
        RoleName="bench-lambda-exec", AssumeRolePolicyDocument=LAMBDA_TRUST
    )["Role"]["Arn"]
    lam = client("lambda")
    code = {"ZipFile": zip_source("def handler(event, context):\n    return 1\n")}
    plans = [(i, rng.random()) for i in range(2 * scale)]

    def function(plan: tuple[int, float]) -> None:
        i, roll = plan
        lam.create_function(
            FunctionName=f"bench-fn-{i}",
            Runtime="python3.8" if roll < 0.3 else "python3.12",
            Role=role,
            Handler="index.handler",
            Code=code,
            Environment={"Variables": {"TOKEN": "bench-secret-not-real"}},
        )

    list(pool.map(function, plans))
    return 2 * scale


def seed_secretsmanager(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 2 secrets (no rotation: moto would need a Lambda to rotate)."""
    sm = client("secretsmanager")
    list(
        pool.map(
            lambda i: sm.create_secret(Name=f"bench/secret-{i}", SecretString="not-real"),
            range(2 * scale),
        )
    )
    return 2 * scale


def seed_dynamodb(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 2 tables, point-in-time recovery on for about half."""
    ddb = client("dynamodb")
    plans = [(i, rng.random()) for i in range(2 * scale)]

    def table(plan: tuple[int, float]) -> None:
        i, roll = plan
        name = f"bench-table-{i}"
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        if roll < 0.5:
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )

    list(pool.map(table, plans))
    return 2 * scale


def seed_cloudtrail(client: Client, scale: int, rng: random.Random, pool: Any) -> int:
    """One multi-region trail to CloudWatch Logs (an account has one or a few, whatever its
    size), plus per scale unit 2 CloudWatch alarms on metric filters of its log group."""
    group = "bench-trail"
    client("logs").create_log_group(logGroupName=group)
    client("s3").create_bucket(Bucket="bench-trail-logs")
    trail = client("cloudtrail")
    trail.create_trail(
        Name="bench-main",
        S3BucketName="bench-trail-logs",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/bench-trail-to-logs",
    )
    # AWS gives a new trail a selector for all management events; moto gives it none.
    trail.put_event_selectors(
        TrailName="bench-main",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    trail.start_logging(Name="bench-main")
    logs, cloudwatch = client("logs"), client("cloudwatch")
    for i in range(2 * scale):
        logs.put_metric_filter(
            logGroupName=group,
            filterName=f"bench-filter-{i}",
            filterPattern='{ ($.errorCode = "*UnauthorizedOperation") }',
            metricTransformations=[
                {"metricName": f"bench-{i}", "metricNamespace": "Bench", "metricValue": "1"}
            ],
        )
        cloudwatch.put_metric_alarm(
            AlarmName=f"bench-alarm-{i}",
            MetricName=f"bench-{i}",
            Namespace="Bench",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    return 1 + 2 * scale


SEEDERS_MORE: dict[str, Callable[[Client, int, random.Random, Any], int]] = {
    "ec2": seed_ec2,
    "kms": seed_kms,
    "rds": seed_rds,
    "lambda": seed_lambda,
    "secretsmanager": seed_secretsmanager,
    "dynamodb": seed_dynamodb,
    "cloudtrail": seed_cloudtrail,
}
