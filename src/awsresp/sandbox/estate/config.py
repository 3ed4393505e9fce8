"""AWS Config in the sandbox: a recorder for every resource type in us-east-1 only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate.cloudtrail import ACCOUNT, TRAIL_BUCKET

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
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
