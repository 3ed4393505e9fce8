"""DynamoDB in the sandbox: an on-demand orders table with point-in-time recovery and
deletion protection, a provisioned sessions table with neither and no auto scaling, and a
provisioned audit table whose capacity (table and index) scales."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

REGION = "eu-west-1"
_KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
_CAPACITY = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def _scale(autoscaling: Any, resource: str, kind: str) -> None:
    for unit in ("ReadCapacityUnits", "WriteCapacityUnits"):
        autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource,
            ScalableDimension=f"dynamodb:{kind}:{unit}",
            MinCapacity=5,
            MaxCapacity=100,
        )


def seed(sb: Sandbox) -> None:
    ddb = sb.client("dynamodb", REGION)
    ddb.create_table(
        TableName="acme-orders",
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
        **_KEY,
    )
    ddb.update_continuous_backups(
        TableName="acme-orders",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    ddb.create_table(TableName="acme-sessions", ProvisionedThroughput=_CAPACITY, **_KEY)
    ddb.create_table(
        TableName="acme-audit",
        ProvisionedThroughput=_CAPACITY,
        AttributeDefinitions=[
            *_KEY["AttributeDefinitions"],
            {"AttributeName": "actor", "AttributeType": "S"},
        ],
        KeySchema=_KEY["KeySchema"],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-actor",
                "KeySchema": [{"AttributeName": "actor", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": _CAPACITY,
            }
        ],
    )
    ddb.update_continuous_backups(
        TableName="acme-audit",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    autoscaling = sb.client("application-autoscaling", REGION)
    _scale(autoscaling, "table/acme-audit", "table")
    _scale(autoscaling, "table/acme-audit/index/by-actor", "index")
