"""DynamoDB in the sandbox: one table with point-in-time recovery, one without."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
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
