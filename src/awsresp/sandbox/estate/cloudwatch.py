"""CloudWatch in the sandbox: four of the CIS section 4 metric filters on the trail's log
group, three of them with an alarm that has an action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate.cloudtrail import LOG_GROUP

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

NAMESPACE = "CISBenchmark"

# Four of the CIS section 4 filters, in the benchmark's own patterns. The first three get
# an alarm with an action; the console-failure filter has an alarm without one, so it
# does not count.
FILTERS = {
    "unauthorized-api-calls": (
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") '
        '&& ($.eventName != "HeadBucket") }'
    ),
    "root-usage": (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }'
    ),
    "cloudtrail-changes": (
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
        "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
        "($.eventName = StopLogging) }"
    ),
    "console-auth-failures": (
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    ),
}
ALARMED = ("unauthorized-api-calls", "root-usage", "cloudtrail-changes")


def seed(sb: Sandbox) -> None:
    logs = sb.client("logs")
    topic = sb.client("sns").create_topic(Name="acme-security-alerts")["TopicArn"]
    cloudwatch = sb.client("cloudwatch")
    for name, pattern in FILTERS.items():
        logs.put_metric_filter(
            logGroupName=LOG_GROUP,
            filterName=name,
            filterPattern=pattern,
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
