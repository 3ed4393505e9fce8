"""DynamoDB: tables with their settings and the Application Auto Scaling of provisioned ones."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from ..stubs import ACCOUNT, REGION
from .conftest import (
    by_name,
    collect,
)

_TABLE_KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}


_UNITS = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


class _Tables:
    """A hook context whose DescribeTable fails for the table named 'gone'."""

    account, partition, region = ACCOUNT, "aws", REGION

    def call(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        if operation == "DescribeTable":
            if params["TableName"] == "gone":
                error = {"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}
                raise ClientError(error, operation)
            return {"Table": {"TableName": params["TableName"]}}
        scalable = {"ResourceId": "table/kept", "ScalableDimension": "dynamodb:table:Read"}
        return [{"ScalableTargets": [scalable]}]


@mock_aws
def test_tables_carry_their_arn_and_point_in_time_recovery() -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    inv, _ = collect({"dynamodb"})
    table = by_name(inv, "dynamodb.table")["orders"]
    assert table.arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    pitr = table.config["ContinuousBackups"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"
    assert inv.complete


@mock_aws
def test_on_demand_tables_make_no_auto_scaling_read() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", **_TABLE_KEY)
    inv, target = collect({"dynamodb"})
    table = by_name(inv, "dynamodb.table")["orders"]
    assert table.config["AutoScaling"] == {"Table": [], "Indexes": []}
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 0
    # The hook reads the same DescribeTable answer as the table's own detail: one call.
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 1


@mock_aws
def test_provisioned_tables_get_the_scaling_of_the_table_and_each_index() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    index = {
        "IndexName": "by-who",
        "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": _UNITS,
    }
    ddb.create_table(
        TableName="audit",
        ProvisionedThroughput=_UNITS,
        GlobalSecondaryIndexes=[index],
        KeySchema=_TABLE_KEY["KeySchema"],
        AttributeDefinitions=[
            *_TABLE_KEY["AttributeDefinitions"],
            {"AttributeName": "who", "AttributeType": "S"},
        ],
    )
    ddb.create_table(TableName="sessions", ProvisionedThroughput=_UNITS, **_TABLE_KEY)
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    for resource, dimension in [
        ("table/audit", "dynamodb:table:ReadCapacityUnits"),
        ("table/audit", "dynamodb:table:WriteCapacityUnits"),
        ("table/audit/index/by-who", "dynamodb:index:ReadCapacityUnits"),
    ]:
        scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource,
            ScalableDimension=dimension,
            MinCapacity=1,
            MaxCapacity=10,
        )
    inv, target = collect({"dynamodb"})
    tables = by_name(inv, "dynamodb.table")
    assert tables["audit"].config["AutoScaling"] == {
        "Table": ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"],
        "Indexes": [{"IndexName": "by-who", "Dimensions": ["dynamodb:index:ReadCapacityUnits"]}],
    }
    assert tables["sessions"].config["AutoScaling"] == {"Table": [], "Indexes": []}
    assert tables["audit"].config["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-who"
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 1
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 2
    assert inv.complete


def test_a_table_that_cannot_be_described_has_no_scaling_and_spoils_no_other() -> None:
    from awsresp.collect.hooks.dynamodb import dynamodb_table_autoscaling

    out = dynamodb_table_autoscaling(_Tables(), [{"Value": "gone"}, {"Value": "kept"}])  # type: ignore[arg-type]
    # The table's own Table detail records the failure; its scaling is unknown, not empty.
    assert out == [None, {"Table": ["dynamodb:table:Read"], "Indexes": []}]
