"""Sandbox logging and detection: a multi-region trail, some CIS alarms, Config, GuardDuty."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ACCOUNT = "123456789012"
# The trail and Config deliver to the access-log bucket the S3 estate already has.
TRAIL_BUCKET = "acme-access-logs"
LOG_GROUP = "acme-cloudtrail"
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


def _seed_trail(sb: Sandbox) -> None:
    logs = sb.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}:*"
    role = sb.client("iam").create_role(
        RoleName="acme-cloudtrail-to-logs",
        AssumeRolePolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        ),
    )["Role"]["Arn"]
    trail = sb.client("cloudtrail")
    # Multi-region, validated, sent to CloudWatch Logs, but encrypted with SSE-S3 only.
    trail.create_trail(
        Name="acme-main",
        S3BucketName=TRAIL_BUCKET,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=role,
    )
    # AWS gives a new trail a selector for all management events; moto gives it none.
    trail.put_event_selectors(
        TrailName="acme-main",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    trail.start_logging(Name="acme-main")
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


def _seed_config(sb: Sandbox) -> None:
    # Config records everything in us-east-1 only; eu-west-1 has no recorder.
    config = sb.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
            "AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": TRAIL_BUCKET})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def seed(sb: Sandbox) -> None:
    _seed_trail(sb)
    _seed_config(sb)
    # GuardDuty in us-east-1 only; no Security Hub anywhere.
    sb.client("guardduty").create_detector(Enable=True)
