"""The sandbox estate: one seeding module per service, run in this order (later services use
what earlier ones made: roles, buckets, keys, the VPC). The order also fixes the ids that
moto's seeded generator hands out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from awsresp.sandbox.estate import (
    cloudtrail,
    cloudwatch,
    config,
    dax,
    dynamodb,
    ec2,
    elb,
    elbv2,
    guardduty,
    iam,
    inspector2,
    kms,
    lambda_,
    rds,
    s3,
    secretsmanager,
    ssm,
    workspaces,
)

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

SEEDERS: tuple[Callable[[Sandbox], None], ...] = (
    iam.seed,
    s3.seed,
    kms.seed,
    rds.seed,
    lambda_.seed,
    secretsmanager.seed,
    dynamodb.seed,
    dax.seed,
    workspaces.seed,
    ec2.seed,
    elbv2.seed,
    elb.seed,
    cloudtrail.seed,
    cloudwatch.seed,
    config.seed,
    guardduty.seed,
    inspector2.seed,
    ssm.seed,
)


def seed_all(sandbox: Sandbox) -> None:
    for seed in SEEDERS:
        seed(sandbox)
