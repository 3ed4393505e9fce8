"""CloudWatch: the metric filters of the log groups trails deliver to, with the alarms on
their metrics and the subscriptions of the topics those notify (data only: which filter
counts for which benchmark check is the controls' business)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from awsresp.collect.hooks.cloudtrail import TRAIL_CONDITIONAL, TRAIL_OPERATIONS, trails_once
from awsresp.collect.hooks.registry import HookContext, arn_region, hook, pages


def _sns_subscriptions(ctx: HookContext, topic: str) -> list[dict[str, Any]]:
    """A topic's subscriptions (ARN and protocol; the endpoint, an address, is not kept),
    read in the topic's region."""
    answer = ctx.call_in(
        arn_region(topic, ctx.region), "sns", "ListSubscriptionsByTopic", {"TopicArn": topic}
    )
    return [
        {"SubscriptionArn": s.get("SubscriptionArn"), "Protocol": s.get("Protocol")}
        for page in pages(answer)
        for s in page.get("Subscriptions", [])
    ]


def _alarm(ctx: HookContext, alarm: Mapping[str, Any]) -> dict[str, Any]:
    actions = [str(a) for a in alarm.get("AlarmActions") or []]
    return {
        "AlarmName": alarm.get("AlarmName"),
        "ActionsEnabled": alarm.get("ActionsEnabled"),
        "AlarmActions": actions,
        "SnsSubscriptions": [
            {"TopicArn": topic, **sub}
            for topic in actions
            if topic.split(":")[2:3] == ["sns"]
            for sub in _sns_subscriptions(ctx, topic)
        ],
    }


def _metric_filters(ctx: HookContext) -> dict[str, Any]:
    """The metric filters of every log group a trail delivers to, each with the trails
    that feed the group and the alarms on the filter's metrics (with the subscriptions of
    the SNS topics they notify), read in the log group's region."""
    feeding: dict[str, list[dict[str, Any]]] = {}
    for trail in trails_once(ctx):
        if trail.get("CloudWatchLogsLogGroupArn"):
            feeding.setdefault(str(trail["CloudWatchLogsLogGroupArn"]), []).append(
                {
                    key: trail.get(key)
                    for key in (
                        "Name",
                        "IsMultiRegionTrail",
                        "IsLogging",
                        "RecordsAllManagementEvents",
                    )
                }
            )
    out: list[dict[str, Any]] = []
    for arn, trails in feeding.items():
        region = arn_region(arn, ctx.region)
        name = arn.split(":")[6] if len(arn.split(":")) > 6 else arn
        filters = [
            f
            for page in pages(
                ctx.call_in(region, "logs", "DescribeMetricFilters", {"logGroupName": name})
            )
            for f in page.get("metricFilters", [])
        ]
        if not filters:
            continue
        alarms = [
            a
            for page in pages(ctx.call_in(region, "cloudwatch", "DescribeAlarms", {}))
            for a in page.get("MetricAlarms", [])
        ]
        for filt in filters:
            metrics = {
                (m.get("metricName"), m.get("metricNamespace"))
                for m in filt.get("metricTransformations", [])
            }
            out.append(
                {
                    "LogGroupArn": arn,
                    "LogGroupName": name,
                    "Region": region,
                    "FilterName": filt.get("filterName"),
                    "FilterPattern": filt.get("filterPattern"),
                    "Trails": trails,
                    "Alarms": [
                        _alarm(ctx, a)
                        for a in alarms
                        if (a.get("MetricName"), a.get("Namespace")) in metrics
                    ],
                }
            )
    return {"MetricFilters": out}


@hook(
    "cloudwatch",
    [
        *TRAIL_OPERATIONS,
        ("logs", "DescribeMetricFilters"),
        ("cloudwatch", "DescribeAlarms"),
        ("sns", "ListSubscriptionsByTopic"),
    ],
    # Only for trails delivering to CloudWatch Logs, groups with filters, alarms notifying.
    conditional=[
        *TRAIL_CONDITIONAL,
        ("logs", "DescribeMetricFilters"),
        ("cloudwatch", "DescribeAlarms"),
        ("sns", "ListSubscriptionsByTopic"),
    ],
)
def cloudwatch_trail_metric_filters(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    result = _metric_filters(ctx)
    return [result for _ in items]
