"""CloudTrail in the sandbox: a multi-region trail with log file validation, sent to
CloudWatch Logs, logging S3 object writes but not reads, encrypted with SSE-S3 only, and
delivering to a bucket that does not log its own access."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ACCOUNT = "123456789012"
# The trail and Config deliver to the access-log bucket the S3 estate already has.
TRAIL_BUCKET = "acme-access-logs"
LOG_GROUP = "acme-cloudtrail"


def seed(sb: Sandbox) -> None:
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
    # AWS gives a new trail a selector for all management events; moto gives it none. S3
    # object-level writes of every bucket are logged too (CIS 3.8), reads are not (3.9).
    trail.put_event_selectors(
        TrailName="acme-main",
        AdvancedEventSelectors=[
            {
                "Name": "management",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            },
            {
                "Name": "s3-object-writes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ],
            },
        ],
    )
    trail.start_logging(Name="acme-main")
