"""ssm: the collector against moto in-process (a Stubber where moto lacks an answer)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    collect_inventory,
    judge,
    one_fact,
)

# Details moto (in-process) raises NotImplementedError for.
MOTO_LACKS = (
    "ManagedInstances",
    "PatchCompliance",
    "AssociationCompliance",
    "DocumentPublicSharing",
    "AutomationLogDestination",
)


def test_ssm_patch_compliance_is_collected() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ssm")
    stub.add_response(
        "list_resource_compliance_summaries",
        {
            "ResourceComplianceSummaryItems": [
                {
                    "ComplianceType": "Patch",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": "i-0abc",
                    "Status": "NON_COMPLIANT",
                    "OverallSeverity": "CRITICAL",
                }
            ]
        },
    )
    with stub:
        inv = collect_only(target, "ssm.managed-fleet", "PatchCompliance")
    stub.assert_no_pending_responses()
    assert one_fact(inv, "ssm.managed-fleet").config["PatchCompliance"] == [
        {
            "ResourceId": "i-0abc",
            "ResourceType": "ManagedInstance",
            "Status": "NON_COMPLIANT",
            "OverallSeverity": "CRITICAL",
        }
    ]


def test_running_instances_are_joined_with_the_managed_fleet() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, ssm = stubbed(target, "ssm")
    _, ec2 = stubbed(target, "ec2")
    ssm.add_response(
        "describe_instance_information",
        {"InstanceInformationList": [{"InstanceId": "i-1", "PingStatus": "Online"}]},
    )
    ec2.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "Instances": [
                        {"InstanceId": "i-1", "State": {"Name": "running"}},
                        {"InstanceId": "i-2", "State": {"Name": "running"}},
                    ]
                },
                {"Instances": [{"InstanceId": "i-3", "State": {"Name": "stopped"}}]},
            ]
        },
    )
    with ssm, ec2:
        inv = collect_only(target, "ssm.managed-fleet", "ManagedInstances", "Ec2Instances")
    ssm.assert_no_pending_responses()
    ec2.assert_no_pending_responses()
    fact = one_fact(inv, "ssm.managed-fleet")
    assert fact.config["Ec2Instances"] == [
        {"InstanceId": "i-1", "State": "running"},
        {"InstanceId": "i-2", "State": "running"},
        {"InstanceId": "i-3", "State": "stopped"},
    ]
    import datetime as dt

    from awsresp.evaluate.findings import evaluate_control
    from awsresp.scan import Definitions

    control = Definitions.load().catalog.controls["operating-system.ssm.ec2-instances-managed"]
    outcome = evaluate_control(control, fact, dt.datetime.now(dt.UTC))
    assert outcome is not None and outcome[0].value == "fail"
    # The evidence names the running instance SSM does not manage, not the stopped one.
    assert list(outcome[1].values())[-1] == ["i-2"]


@mock_aws
def test_the_fleet_join_reuses_the_ec2_collectors_read() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.register_image(Name="base", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)
    target = Target(boto3.Session(region_name=REGION))
    inv = collect_inventory({"ec2", "ssm"}, target=target, skip=MOTO_LACKS)
    fleet = one_fact(inv, "ssm.managed-fleet").config["Ec2Instances"]
    assert sorted(i["InstanceId"] for i in fleet) == sorted(
        r.id for r in inv.resources if r.type == "ec2.instance"
    )
    assert target.stats.calls[("ec2", "DescribeInstances")] == 1


def test_ssm_association_compliance_is_collected() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ssm")
    item = {
        "ComplianceType": "Association",
        "ResourceType": "ManagedInstance",
        "ResourceId": "i-0abc",
        "Status": "NON_COMPLIANT",
        "OverallSeverity": "HIGH",
    }
    stub.add_response(
        "list_resource_compliance_summaries",
        {"ResourceComplianceSummaryItems": [item]},
        {"Filters": [{"Key": "ComplianceType", "Values": ["Association"], "Type": "EQUAL"}]},
    )
    with stub:
        inv = collect_only(target, "ssm.managed-fleet", "AssociationCompliance")
    stub.assert_no_pending_responses()
    fact = one_fact(inv, "ssm.managed-fleet")
    assert fact.config["AssociationCompliance"][0]["Status"] == "NON_COMPLIANT"
    assert judge("operating-system.ssm.association-compliant", fact) == "fail"


@pytest.mark.parametrize(
    ("detail", "setting_id", "value", "control", "expect"),
    [
        (
            "DocumentPublicSharing",
            "/ssm/documents/console/public-sharing-permission",
            "Disable",
            "application.ssm.documents-block-public-sharing",
            "pass",
        ),
        (
            "DocumentPublicSharing",
            "/ssm/documents/console/public-sharing-permission",
            "Enable",
            "application.ssm.documents-block-public-sharing",
            "fail",
        ),
        (
            "AutomationLogDestination",
            "/ssm/automation/customer-script-log-destination",
            "CloudWatch",
            "logging-detection.ssm.automation-cloudwatch-logging",
            "pass",
        ),
    ],
)
def test_ssm_service_settings_are_read(
    detail: str, setting_id: str, value: str, control: str, expect: str
) -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ssm")
    stub.add_response(
        "get_service_setting",
        {
            "ServiceSetting": {
                "SettingId": setting_id,
                "SettingValue": value,
                "Status": "Customized",
                "ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:servicesetting{setting_id}",
            }
        },
        {"SettingId": setting_id},
    )
    with stub:
        inv = collect_only(target, "ssm.service-settings", detail)
    stub.assert_no_pending_responses()
    fact = one_fact(inv, "ssm.service-settings")
    assert fact.config[detail] == {"SettingValue": value, "Status": "Customized"}
    assert judge(control, fact) == expect


@mock_aws
def test_owned_documents_are_listed_with_who_they_are_shared_with() -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    content = json.dumps(
        {
            "schemaVersion": "2.2",
            "description": "restart",
            "mainSteps": [
                {"action": "aws:runShellScript", "name": "r", "inputs": {"runCommand": ["true"]}}
            ],
        }
    )
    for name in ("acme-private", "acme-public", "acme-partner"):
        ssm.create_document(Content=content, Name=name, DocumentType="Command")
    ssm.modify_document_permission(
        Name="acme-public", PermissionType="Share", AccountIdsToAdd=["all"]
    )
    ssm.modify_document_permission(
        Name="acme-partner", PermissionType="Share", AccountIdsToAdd=["111122223333"]
    )
    inv = collect_inventory({"ssm"}, skip=(*MOTO_LACKS, "Ec2Instances"))
    docs = {r.id: r for r in inv.resources if r.type == "ssm.document"}
    # Only the account's own documents, never AWS's, and never their content.
    assert set(docs) == {"acme-private", "acme-public", "acme-partner"}
    assert "Content" not in json.dumps(docs["acme-public"].config)
    results = {n: judge("application.ssm.document-not-public", d) for n, d in docs.items()}
    assert results == {"acme-private": "pass", "acme-public": "fail", "acme-partner": "pass"}
