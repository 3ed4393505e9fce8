"""Logging, detection and governance collectors: moto in-process, Stubber where moto lacks them."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.hooks import CIS_METRIC_FILTERS, cis_pattern_matches
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import Inventory, Resource

from .stubs import ACCOUNT, REGION, collect_only, stubbed

EU = "eu-west-1"


def _collect(
    services: set[str], regions: tuple[str, ...] = (REGION,), skip: tuple[str, ...] = ()
) -> Inventory:
    """Collects the services; `skip` leaves out details moto in-process cannot answer
    (there it raises NotImplementedError instead of the server's HTTP 500)."""
    specs = []
    for spec in load_specs():
        if spec.service in services:
            kept = tuple(
                replace(r, details=tuple(d for d in r.details if d.key not in skip))
                for r in spec.resources
            )
            specs.append(replace(spec, resources=kept))
    target = Target(boto3.Session(region_name=REGION))
    return Collector(target, specs, ACCOUNT, "aws", list(regions)).run()


def _fact(inv: Inventory, rtype: str, region: str | None = None) -> Resource:
    (found,) = (r for r in inv.resources if r.type == rtype and region in (None, r.region))
    return found


# --- CIS metric filter patterns ----------------------------------------------------------

CIS_PATTERNS = {
    "UnauthorizedApiCalls": '{ ($.errorCode = "*UnauthorizedOperation") || '
    '($.errorCode = "AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") '
    '&& ($.eventName!="HeadBucket") }',
    "ConsoleSignInWithoutMfa": '{ ($.eventName = "ConsoleLogin") && '
    '($.additionalEventData.MFAUsed != "Yes") }',
    "IamPolicyChanges": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
    "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||"
    "($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
    "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||"
    "($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
    "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "CmkDisableOrDeletion": "{($.eventSource = kms.amazonaws.com) && "
    "(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "RouteTableChanges": "{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || "
    "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
    "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || "
    "($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    "OrganizationsChanges": "{ ($.eventSource = organizations.amazonaws.com) && "
    "(($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || "
    "($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || "
    "($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || "
    "($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || "
    "($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || "
    "($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || "
    "($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || "
    "($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || "
    "($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
}


@pytest.mark.parametrize("check", sorted(CIS_PATTERNS))
def test_the_benchmark_patterns_match_their_check_and_no_other(check: str) -> None:
    pattern = CIS_PATTERNS[check]
    assert cis_pattern_matches(check, pattern)
    # Whitespace and quoting are not significant.
    assert cis_pattern_matches(check, " ".join(pattern.replace('"', "").split(" ")))
    others = [k for k in CIS_METRIC_FILTERS if k != check and cis_pattern_matches(k, pattern)]
    assert others == []


def test_a_pattern_missing_a_term_does_not_match() -> None:
    # Only the Version events: CreatePolicy / DeletePolicy themselves are not watched.
    partial = CIS_PATTERNS["IamPolicyChanges"].replace("($.eventName=CreatePolicy)||", "")
    partial = partial.replace("($.eventName=DeletePolicy)||", "")
    assert "CreatePolicyVersion" in partial
    assert not cis_pattern_matches("IamPolicyChanges", partial)
    # A negated term is not the term.
    assert not cis_pattern_matches("ConsoleSignInWithoutMfa", '{ $.eventName != "ConsoleLogin" }')


# --- CloudTrail and the CIS alarms, with moto ----------------------------------------------

ROLE = f"arn:aws:iam::{ACCOUNT}:role/trail"


def _trail(region: str, name: str, group: str | None = None, **kw: Any) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=f"{name}-bucket")
    extra: dict[str, Any] = {}
    if group:
        extra = {
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{group}:*",
            "CloudWatchLogsRoleArn": ROLE,
        }
    ct = boto3.client("cloudtrail", region_name=region)
    ct.create_trail(Name=name, S3BucketName=f"{name}-bucket", **extra, **kw)
    ct.put_event_selectors(
        TrailName=name,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    ct.start_logging(Name=name)


def _filter_and_alarm(region: str, group: str, check: str, action: bool) -> None:
    logs = boto3.client("logs", region_name=region)
    logs.put_metric_filter(
        logGroupName=group,
        filterName=check,
        filterPattern=CIS_PATTERNS[check],
        metricTransformations=[{"metricName": check, "metricNamespace": "CIS", "metricValue": "1"}],
    )
    boto3.client("cloudwatch", region_name=region).put_metric_alarm(
        AlarmName=f"alarm-{check}",
        MetricName=check,
        Namespace="CIS",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[f"arn:aws:sns:{region}:{ACCOUNT}:alerts"] if action else [],
    )


@mock_aws
def test_trails_and_alarms_are_read_in_their_own_regions() -> None:
    # The multi-region trail lives in eu-west-1 with its log group; the scan's home
    # region is us-east-1, so status, selectors, filters and alarms are read in eu-west-1.
    boto3.client("logs", region_name=EU).create_log_group(logGroupName="trail-logs")
    _trail(EU, "org-main", "trail-logs", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    _trail(REGION, "local", None)
    _filter_and_alarm(EU, "trail-logs", "UnauthorizedApiCalls", action=True)
    _filter_and_alarm(EU, "trail-logs", "CmkDisableOrDeletion", action=False)
    inv = _collect({"cloudtrail", "cloudwatch"})
    assert inv.complete, inv.issues
    trails = {t["Name"]: t for t in _fact(inv, "cloudtrail.account").config["Trails"]}
    main = trails["org-main"]
    assert (main["HomeRegion"], main["IsMultiRegionTrail"], main["IsLogging"]) == (EU, True, True)
    assert main["RecordsAllManagementEvents"] and main["LogFileValidationEnabled"]
    assert trails["local"]["IsMultiRegionTrail"] is False
    monitoring = _fact(inv, "cloudwatch.cis-alarms").config["Monitoring"]
    assert monitoring["UnauthorizedApiCalls"] == {
        "Cis": "4.1",
        "Filter": "trail-logs:UnauthorizedApiCalls",
        "Alarm": "alarm-UnauthorizedApiCalls",
        "Alarmed": True,
    }
    # A filter whose alarm has no action does not count.
    cmk = monitoring["CmkDisableOrDeletion"]
    assert (cmk["Filter"], cmk["Alarmed"]) == ("trail-logs:CmkDisableOrDeletion", False)
    assert monitoring["RootUsage"]["Filter"] is None


@mock_aws
def test_a_trail_that_does_not_log_management_events_feeds_no_alarm() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    _trail(REGION, "main", "g", IsMultiRegionTrail=True)
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="main",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    _filter_and_alarm(REGION, "g", "UnauthorizedApiCalls", action=True)
    inv = _collect({"cloudtrail", "cloudwatch"})
    (trail,) = _fact(inv, "cloudtrail.account").config["Trails"]
    assert trail["RecordsAllManagementEvents"] is False
    monitoring = _fact(inv, "cloudwatch.cis-alarms").config["Monitoring"]
    assert monitoring["LogGroups"] == [] and not monitoring["UnauthorizedApiCalls"]["Alarmed"]


# --- Config, GuardDuty, Security Hub and Inspector, with moto ----------------------------


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
    inv = _collect({"config", "guardduty", "securityhub"}, (REGION, EU), ("RuleCompliance",))
    us = _fact(inv, "config.recorder", REGION).config
    assert us["Recorders"][0]["recordingGroup"]["allSupported"] is True
    assert us["RecorderStatus"][0]["recording"] is True
    assert _fact(inv, "config.recorder", EU).config["Recorders"] == []
    (detector,) = _fact(inv, "guardduty.detection", REGION).config["Detectors"]
    assert detector["Status"] == "ENABLED"
    assert _fact(inv, "guardduty.detection", EU).config["Detectors"] == []
    # No hub: "not subscribed" is data, and the standards are not asked for.
    hub = _fact(inv, "securityhub.hub", REGION)
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
    fact = _fact(inv, "config.recorder")
    assert fact.config["RuleCompliance"] == [rule, ok]
    assert _evaluate("settings.config.rules-compliant", fact) == "fail"


@mock_aws
def test_inspector_status_is_read_and_a_missing_one_is_an_issue() -> None:
    boto3.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2"]
    )
    inv = _collect({"inspector2"}, (REGION, EU))
    status = _fact(inv, "inspector2.account-status", REGION).config["Status"]
    assert status["resourceState"]["ec2"]["status"] == "ENABLED"
    # moto answers nothing for an account it never enabled; AWS would say DISABLED.
    eu = _fact(inv, "inspector2.account-status", EU)
    assert eu.unreadable == frozenset({"Status"})
    assert [(i.region, i.error_code) for i in inv.issues] == [(EU, "AccountStatusMissing")]


# --- Security Hub standards, SSM and Firewall Manager, with Stubber ---------------------

HUB = {"HubArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"}


def test_security_hub_standards_are_read_when_there_is_a_hub() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_response("describe_hub", HUB)
    fsbp = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices"
    stub.add_response(
        "get_enabled_standards",
        {
            "StandardsSubscriptions": [
                {
                    "StandardsSubscriptionArn": f"{fsbp}/sub",
                    "StandardsArn": fsbp,
                    "StandardsInput": {},
                    "StandardsStatus": "READY",
                }
            ]
        },
    )
    with stub:
        inv = collect_only(target, "securityhub.hub", "Standards")
    stub.assert_no_pending_responses()
    assert _fact(inv, "securityhub.hub").config["Standards"] == [
        {"StandardsArn": fsbp, "StandardsStatus": "READY"}
    ]


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
    assert _fact(inv, "ssm.managed-fleet").config["PatchCompliance"] == [
        {
            "ResourceId": "i-0abc",
            "ResourceType": "ManagedInstance",
            "Status": "NON_COMPLIANT",
            "OverallSeverity": "CRITICAL",
        }
    ]


POLICY_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"


def _fms_policies(violators: list[dict[str, Any]]) -> Resource:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_response(
        "list_policies",
        {
            "PolicyList": [
                {
                    "PolicyId": POLICY_ID,
                    "PolicyName": "sg-baseline",
                    "SecurityServiceType": "SECURITY_GROUPS_COMMON",
                    "RemediationEnabled": True,
                }
            ]
        },
    )
    stub.add_response(
        "get_compliance_detail",
        {
            "PolicyComplianceDetail": {
                "PolicyId": POLICY_ID,
                "MemberAccount": ACCOUNT,
                "Violators": violators,
                "EvaluationLimitExceeded": False,
            }
        },
        {"PolicyId": POLICY_ID, "MemberAccount": ACCOUNT},
    )
    with stub:
        inv = collect_only(target, "fms.admin", "Policies")
    stub.assert_no_pending_responses()
    return _fact(inv, "fms.admin")


def _evaluate(control_id: str, resource: Resource) -> str:
    import datetime as dt

    from awsresp.evaluate.findings import evaluate_control
    from awsresp.scan import Definitions

    control = Definitions.load().catalog.controls[control_id]
    outcome = evaluate_control(control, resource, dt.datetime.now(dt.UTC))
    return "not-applicable" if outcome is None else outcome[0].value


def test_firewall_manager_policies_pass_and_fail() -> None:
    clean = _fms_policies([])
    assert clean.config["Policies"][0]["Violators"] == []
    assert _evaluate("network-controls.fms.policies-cover-account", clean) == "pass"
    violator = {
        "ResourceId": "sg-0123",
        "ViolationReason": "RESOURCE_VIOLATES_AUDIT_SECURITY_GROUP",
        "ResourceType": "AWS::EC2::SecurityGroup",
    }
    dirty = _fms_policies([violator])
    assert _evaluate("network-controls.fms.policies-cover-account", dirty) == "fail"


def test_firewall_manager_without_an_administrator_is_absent_not_unreadable() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_client_error("get_admin_account", "ResourceNotFoundException", "no admin")
    with stub:
        inv = collect_only(target, "fms.admin", "AdminAccount")
    fact = _fact(inv, "fms.admin")
    assert fact.config["AdminAccount"] is None and inv.complete


def test_firewall_manager_denied_to_a_member_account_is_unknown() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "fms")
    stub.add_client_error("list_policies", "AccessDeniedException", "not the FMS admin")
    with stub:
        inv = collect_only(target, "fms.admin", "Policies")
    fact = _fact(inv, "fms.admin")
    assert fact.unreadable == frozenset({"Policies"})
    assert [i.kind.value for i in inv.issues] == ["access-denied"]
    assert _evaluate("network-controls.fms.policies-cover-account", fact) == "unknown"
    assert json.dumps(fact.config)  # JSON-safe


def test_a_hook_failure_names_the_action_the_hook_declared() -> None:
    # The CIS alarm fact is a CloudWatch resource, but its failing read is CloudTrail's.
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "cloudtrail")
    stub.add_client_error("describe_trails", "AccessDeniedException", "denied")
    with stub:
        inv = collect_only(target, "cloudwatch.cis-alarms", "Monitoring")
    (issue,) = inv.issues
    assert (issue.iam_action, issue.kind.value) == ("cloudtrail:DescribeTrails", "access-denied")
