"""DynamoDB Accelerator in the sandbox: a cache encrypted at rest and on its endpoint, and a
legacy cache with neither."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ACCOUNT = "123456789012"


def seed(sb: Sandbox) -> None:
    dax = sb.client("dax", "eu-west-1")
    role = f"arn:aws:iam::{ACCOUNT}:role/acme-dax"
    dax.create_cluster(
        ClusterName="acme-orders-cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role,
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    dax.create_cluster(
        ClusterName="acme-legacy-cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role,
    )
