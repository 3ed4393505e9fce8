"""GuardDuty: detectors with their protection plans and agents."""

from __future__ import annotations

import boto3
from moto import mock_aws

from ..stubs import REGION
from .conftest import (
    collect_inventory,
    judge,
    one_fact,
)


@mock_aws
def test_guardduty_protection_plans_are_read_with_their_agents() -> None:
    boto3.client("guardduty", region_name=REGION).create_detector(
        Enable=True,
        Features=[
            {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
            {"Name": "RDS_LOGIN_EVENTS", "Status": "DISABLED"},
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
    fact = one_fact(collect_inventory({"guardduty"}), "guardduty.detection")
    (detector,) = fact.config["Detectors"]
    runtime = next(f for f in detector["Features"] if f["Name"] == "RUNTIME_MONITORING")
    assert runtime["AdditionalConfiguration"][1] == {
        "Name": "EC2_AGENT_MANAGEMENT",
        "Status": "DISABLED",
    }
    results = {
        cid: judge(f"logging-detection.guardduty.{cid}", fact)
        for cid in (
            "s3-protection-enabled",
            "rds-protection-enabled",
            "lambda-protection-enabled",
            "runtime-monitoring-enabled",
            "ec2-runtime-agent-enabled",
        )
    }
    assert results == {
        "s3-protection-enabled": "pass",
        "rds-protection-enabled": "fail",
        "lambda-protection-enabled": "fail",  # not in the answer at all
        "runtime-monitoring-enabled": "pass",
        "ec2-runtime-agent-enabled": "fail",
    }
