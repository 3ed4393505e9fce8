"""AWS Config: recorders with their own status, per region, and rule compliance across pages."""

from __future__ import annotations

from dataclasses import replace

import boto3
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    EU,
    ROLE,
    collect_inventory,
    judge,
    one_fact,
)


@mock_aws
def test_config_guardduty_and_security_hub_per_region() -> None:
    config = boto3.client("config", region_name=REGION)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": ROLE,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="cfg")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "cfg"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    boto3.client("guardduty", region_name=REGION).create_detector(Enable=True)
    inv = collect_inventory(
        {"config", "guardduty", "securityhub"}, (REGION, EU), ("RuleCompliance",)
    )
    us = one_fact(inv, "config.recorder", REGION).config
    (recorder,) = us["Recorders"]
    assert recorder["recordingGroup"]["allSupported"] is True
    # Each recorder carries its own status (moto says PENDING where AWS says Pending).
    assert (recorder["recording"], recorder["lastStatus"]) == (True, "PENDING")
    fact = one_fact(inv, "config.recorder", REGION)
    assert judge("settings.config.recorder-recording-all", fact) == "pass"
    assert judge("settings.config.recorder-uses-service-linked-role", fact) == "fail"
    assert one_fact(inv, "config.recorder", EU).config["Recorders"] == []
    (detector,) = one_fact(inv, "guardduty.detection", REGION).config["Detectors"]
    assert detector["Status"] == "ENABLED"
    assert one_fact(inv, "guardduty.detection", EU).config["Detectors"] == []
    # No hub: "not subscribed" is data, and the standards are not asked for.
    hub = one_fact(inv, "securityhub.hub", REGION)
    assert hub.config == {"Hub": None, "Standards": None} and not hub.unreadable
    assert inv.complete, inv.issues


def test_config_rule_compliance_is_flattened_across_pages() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "config")
    rule = {"ConfigRuleName": "restricted-ssh", "Compliance": {"ComplianceType": "NON_COMPLIANT"}}
    stub.add_response(
        "describe_compliance_by_config_rule",
        {"ComplianceByConfigRules": [rule], "NextToken": "t"},
    )
    ok = {"ConfigRuleName": "s3-versioning", "Compliance": {"ComplianceType": "COMPLIANT"}}
    stub.add_response(
        "describe_compliance_by_config_rule", {"ComplianceByConfigRules": [ok]}, {"NextToken": "t"}
    )
    with stub:
        inv = collect_only(target, "config.recorder", "RuleCompliance")
    stub.assert_no_pending_responses()
    fact = one_fact(inv, "config.recorder")
    assert fact.config["RuleCompliance"] == [rule, ok]
    assert judge("settings.config.rules-compliant", fact) == "fail"


def test_config_recorders_are_joined_with_their_own_status() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "config")
    linked = {
        "name": "AWSConfigurationRecorderForSecurityHub",
        "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
        "AWSServiceRoleForConfig",
        "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::EC2::Instance"]},
        "servicePrincipal": "securityhub.amazonaws.com",
    }
    mine = {"name": "default", "roleARN": ROLE, "recordingGroup": {"allSupported": True}}
    stub.add_response(
        "describe_configuration_recorders", {"ConfigurationRecorders": [mine, linked]}
    )
    stub.add_response(
        "describe_configuration_recorder_status",
        {
            "ConfigurationRecordersStatus": [
                {"name": linked["name"], "recording": True, "lastStatus": "Success"},
                {"name": "default", "recording": False, "lastStatus": "Failure"},
            ]
        },
    )
    with stub:
        inv = collect_only(target, "config.recorder", "Recorders")
    stub.assert_no_pending_responses()
    fact = one_fact(inv, "config.recorder")
    by_name = {r["name"]: r for r in fact.config["Recorders"]}
    assert (by_name["default"]["recording"], by_name["default"]["lastStatus"]) == (False, "Failure")
    assert by_name[linked["name"]]["recording"] is True
    # A service-linked recorder recording a few types is not Config recording everything.
    fact = replace(fact, config={**fact.config, "DeliveryChannels": [{"name": "default"}]})
    assert judge("settings.config.recorder-recording-all", fact) == "fail"
    assert judge("settings.config.recorder-uses-service-linked-role", fact) == "pass"
