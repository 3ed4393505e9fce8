"""DAX: clusters with their encryption settings."""

from __future__ import annotations

import boto3
from moto import mock_aws

from ..stubs import ACCOUNT, REGION
from .conftest import (
    by_name,
    collect,
)


@mock_aws
def test_dax_clusters_carry_their_encryption_settings() -> None:
    dax = boto3.client("dax", region_name=REGION)
    dax.create_cluster(
        ClusterName="cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/dax",
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    inv, _ = collect({"dax"})
    cache = by_name(inv, "dax.cluster")["cache"]
    assert cache.arn == f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/cache"
    assert (cache.config["SSEDescription"], cache.config["ClusterEndpointEncryptionType"]) == (
        {"Status": "ENABLED"},
        "TLS",
    )
    assert inv.complete
