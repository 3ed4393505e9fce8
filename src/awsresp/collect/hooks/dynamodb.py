"""DynamoDB: the Application Auto Scaling dimensions of each table and of its indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect.calls import CallFailed
from awsresp.collect.hooks.registry import HookContext, hook, pages


def _on_demand(table: Mapping[str, Any]) -> bool:
    return (table.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST"


@hook(
    "dynamodb",
    operations=[
        ("dynamodb", "DescribeTable"),
        ("application-autoscaling", "DescribeScalableTargets"),
    ],
    # DescribeTable is the table detail's own call (same parameters, made once);
    # DescribeScalableTargets only when some table has provisioned capacity.
    conditional=[
        ("dynamodb", "DescribeTable"),
        ("application-autoscaling", "DescribeScalableTargets"),
    ],
)
def dynamodb_table_autoscaling(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The capacity dimensions registered with Application Auto Scaling for each table and
    each of its global secondary indexes (from the DescribeTable answers the table's own
    detail reads, so no call is repeated). DescribeScalableTargets is read once per region,
    and only when some table has provisioned capacity."""
    tables: list[Mapping[str, Any] | None] = []
    for item in items:
        try:
            answer = ctx.call("dynamodb", "DescribeTable", {"TableName": item["Value"]})
        except (ClientError, CallFailed):
            # The table's own Table detail fails with the same error and records it; without
            # the table's indexes its scaling is not known either.
            tables.append(None)
            continue
        tables.append(answer.get("Table", {}))
    targets: dict[str, list[str]] = {}
    if any(t is not None and not _on_demand(t) for t in tables):
        params = {"ServiceNamespace": "dynamodb"}
        for page in pages(ctx.call("application-autoscaling", "DescribeScalableTargets", params)):
            for target in page.get("ScalableTargets", []):
                targets.setdefault(str(target.get("ResourceId")), []).append(
                    str(target.get("ScalableDimension"))
                )
    out: list[Any] = []
    for item, table in zip(items, tables, strict=True):
        if table is None:
            out.append(None)
            continue
        resource = f"table/{item['Value']}"
        out.append(
            {
                "Table": sorted(targets.get(resource, [])),
                "Indexes": [
                    {
                        "IndexName": index.get("IndexName"),
                        "Dimensions": sorted(
                            targets.get(f"{resource}/index/{index.get('IndexName')}", [])
                        ),
                    }
                    for index in table.get("GlobalSecondaryIndexes") or []
                ],
            }
        )
    return out
