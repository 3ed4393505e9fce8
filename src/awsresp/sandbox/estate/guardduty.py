"""GuardDuty in the sandbox: a detector in us-east-1 only (and no Security Hub anywhere),
with S3 Protection, Malware Protection for EC2 and Runtime Monitoring on, but RDS and
Lambda Protection off and the EC2 runtime agent left to the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
    sb.client("guardduty").create_detector(
        Enable=True,
        Features=[
            {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
            {"Name": "EBS_MALWARE_PROTECTION", "Status": "ENABLED"},
            {"Name": "RDS_LOGIN_EVENTS", "Status": "DISABLED"},
            {"Name": "LAMBDA_NETWORK_LOGS", "Status": "DISABLED"},
            {
                "Name": "RUNTIME_MONITORING",
                "Status": "ENABLED",
                "AdditionalConfiguration": [
                    {"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"},
                    {"Name": "EC2_AGENT_MANAGEMENT", "Status": "DISABLED"},
                ],
            },
        ],
    )
