"""CloudWatch in the sandbox: four of the CIS section 4 metric filters on the trail's log
group, three of them with an alarm that notifies a subscribed topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.evaluate import metric_filters
from awsresp.sandbox.estate.cloudtrail import LOG_GROUP

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

NAMESPACE = "CISBenchmark"

# Four of the CIS section 4 filters, in the benchmark's own patterns (as
# mappings/cis-metric-filters.yaml documents them). The first three get an alarm that
# notifies a topic with a subscriber; the console-failure filter has an alarm without an
# action, so it does not count.
FILTERS = {
    "unauthorized-api-calls": "UnauthorizedApiCalls",
    "root-usage": "RootUsage",
    "cloudtrail-changes": "CloudTrailChanges",
    "console-auth-failures": "ConsoleAuthFailures",
}
ALARMED = ("unauthorized-api-calls", "root-usage", "cloudtrail-changes")


def seed(sb: Sandbox) -> None:
    logs = sb.client("logs")
    sns = sb.client("sns")
    topic = sns.create_topic(Name="acme-security-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    cloudwatch = sb.client("cloudwatch")
    checks = metric_filters.checks()
    for name, check in FILTERS.items():
        logs.put_metric_filter(
            logGroupName=LOG_GROUP,
            filterName=name,
            filterPattern=checks[check].pattern,
            metricTransformations=[
                {"metricName": name, "metricNamespace": NAMESPACE, "metricValue": "1"}
            ],
        )
        cloudwatch.put_metric_alarm(
            AlarmName=f"cis-{name}",
            MetricName=name,
            Namespace=NAMESPACE,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic] if name in ALARMED else [],
        )
