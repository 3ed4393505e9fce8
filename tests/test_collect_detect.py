"""Logging, detection and governance collectors: moto in-process, Stubber where moto lacks them."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.evaluate import metric_filters
from awsresp.model import Inventory, Resource

from .stubs import ACCOUNT, REGION, collect_only, stubbed

EU = "eu-west-1"
# Details moto (in-process) raises NotImplementedError for.
MOTO_LACKS = (
    "ManagedInstances",
    "PatchCompliance",
    "AssociationCompliance",
    "DocumentPublicSharing",
    "AutomationLogDestination",
)


def _collect(
    services: set[str],
    regions: tuple[str, ...] = (REGION,),
    skip: tuple[str, ...] = (),
    target: Target | None = None,
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
    target = target or Target(boto3.Session(region_name=REGION))
    return Collector(target, specs, ACCOUNT, "aws", list(regions)).run()


def _fact(inv: Inventory, rtype: str, region: str | None = None) -> Resource:
    (found,) = (r for r in inv.resources if r.type == rtype and region in (None, r.region))
    return found


# --- CloudTrail and the metric filters of its log groups, with moto ---------------------

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


def _filter_and_alarm(
    region: str, group: str, check: str, action: bool, enabled: bool = True
) -> None:
    """The check's documented pattern as a filter, and an alarm on its metric notifying
    (when `action`) a topic with one subscriber."""
    logs = boto3.client("logs", region_name=region)
    logs.put_metric_filter(
        logGroupName=group,
        filterName=check,
        filterPattern=metric_filters.checks()[check].pattern,
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
        AlarmActions=[_subscribed_topic(region)] if action else [],
        ActionsEnabled=enabled,
    )


def _subscribed_topic(region: str) -> str:
    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    return topic


def _filters(inv: Inventory) -> dict[str, dict[str, Any]]:
    monitoring = _fact(inv, "cloudwatch.cis-alarms").config["Monitoring"]
    return {f["FilterName"]: f for f in monitoring["MetricFilters"]}


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
    filters = _filters(inv)
    assert set(filters) == {"UnauthorizedApiCalls", "CmkDisableOrDeletion"}
    unauthorized = filters["UnauthorizedApiCalls"]
    topic = f"arn:aws:sns:{EU}:{ACCOUNT}:alerts"
    assert unauthorized["LogGroupArn"].endswith(":log-group:trail-logs:*")
    assert (unauthorized["LogGroupName"], unauthorized["Region"]) == ("trail-logs", EU)
    assert unauthorized["FilterPattern"] == metric_filters.checks()["UnauthorizedApiCalls"].pattern
    assert unauthorized["Trails"] == [
        {
            "Name": "org-main",
            "IsMultiRegionTrail": True,
            "IsLogging": True,
            "RecordsAllManagementEvents": True,
        }
    ]
    ((alarm,),) = [unauthorized["Alarms"]]
    assert (alarm["AlarmName"], alarm["ActionsEnabled"], alarm["AlarmActions"]) == (
        "alarm-UnauthorizedApiCalls",
        True,
        [topic],
    )
    ((sub,),) = [alarm["SnsSubscriptions"]]
    assert (sub["TopicArn"], sub["Protocol"]) == (topic, "email")
    assert sub["SubscriptionArn"].startswith(topic + ":") and "Endpoint" not in sub
    # An alarm without an action is collected as it is; the controls judge it.
    (cmk,) = filters["CmkDisableOrDeletion"]["Alarms"]
    assert (cmk["AlarmActions"], cmk["SnsSubscriptions"]) == ([], [])


@mock_aws
def test_a_trail_that_does_not_log_management_events_is_named_with_its_filters() -> None:
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
    # Collected all the same, with the trail that feeds the group: the controls judge it.
    (filt,) = _filters(inv).values()
    assert filt["Trails"][0]["RecordsAllManagementEvents"] is False


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
    (recorder,) = us["Recorders"]
    assert recorder["recordingGroup"]["allSupported"] is True
    # Each recorder carries its own status (moto says PENDING where AWS says Pending).
    assert (recorder["recording"], recorder["lastStatus"]) == (True, "PENDING")
    fact = _fact(inv, "config.recorder", REGION)
    assert _evaluate("settings.config.recorder-recording-all", fact) == "pass"
    assert _evaluate("settings.config.recorder-uses-service-linked-role", fact) == "fail"
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
        # Standards waits for Hub (its `when`), so the Stubber's order is the engine's.
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    assert _fact(inv, "securityhub.hub").config["Standards"] == [
        {"StandardsArn": fsbp, "StandardsStatus": "READY"}
    ]


def test_security_hub_standards_are_not_asked_without_a_hub() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_client_error("describe_hub", "InvalidAccessException", "not subscribed")
    with stub:
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    hub = _fact(inv, "securityhub.hub")
    assert (hub.config["Hub"], hub.config["Standards"], hub.unreadable) == (None, None, set())
    assert inv.complete


def test_security_hub_standards_are_unreadable_when_the_hub_is() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "securityhub")
    stub.add_client_error("describe_hub", "AccessDeniedException", "denied")
    with stub:
        inv = collect_only(target, "securityhub.hub", "Hub", "Standards")
    stub.assert_no_pending_responses()
    assert _fact(inv, "securityhub.hub").unreadable == {"Hub", "Standards"}
    (issue,) = inv.issues  # the hub's, once
    assert issue.operation == "DescribeHub"


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


# --- CloudTrail: every trail, data events, the trail buckets -------------------------------


def _stub_in(target: Target, service: str, region: str) -> Stubber:
    """A stubbed client where the collector looks for (service, region)."""
    client = boto3.Session(region_name=region).client(service, region_name=region)
    target._clients[(service, region)] = client
    return Stubber(client)


def _trail_answer(name: str, region: str, multi: bool, bucket: str = "logs") -> dict[str, Any]:
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}",
        "HomeRegion": region,
        "IsMultiRegionTrail": multi,
        "S3BucketName": bucket,
        "LogFileValidationEnabled": False,
    }


def test_single_region_trails_of_other_regions_are_read_in_their_region() -> None:
    # DescribeTrails in the home region answers its own and multi-region trails only;
    # ListTrails names the eu-west-1 trail, which is described (and read) in eu-west-1.
    target = Target(boto3.Session(region_name=REGION))
    main = _trail_answer("main", REGION, True)
    local = _trail_answer("eu-local", EU, False)
    us, eu = _stub_in(target, "cloudtrail", REGION), _stub_in(target, "cloudtrail", EU)
    us.add_response("describe_trails", {"trailList": [main]}, {"includeShadowTrails": True})
    us.add_response(
        "list_trails",
        {
            "Trails": [
                {"TrailARN": t["TrailARN"], "Name": t["Name"], "HomeRegion": t["HomeRegion"]}
                for t in (main, local)
            ]
        },
    )
    us.add_response("get_trail_status", {"IsLogging": True}, {"Name": main["TrailARN"]})
    us.add_response("get_event_selectors", {"EventSelectors": []}, {"TrailName": main["TrailARN"]})
    eu.add_response("describe_trails", {"trailList": [local]}, {"includeShadowTrails": False})
    eu.add_response("get_trail_status", {"IsLogging": True}, {"Name": local["TrailARN"]})
    eu.add_response(
        "get_event_selectors",
        {
            "AdvancedEventSelectors": [
                {
                    "Name": "s3",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    ],
                }
            ]
        },
        {"TrailName": local["TrailARN"]},
    )
    with us, eu:
        inv = collect_only(target, "cloudtrail.account", "Trails")
    us.assert_no_pending_responses()
    eu.assert_no_pending_responses()
    fact = _fact(inv, "cloudtrail.account")
    trails = {t["Name"]: t for t in fact.config["Trails"]}
    assert set(trails) == {"main", "eu-local"} and trails["eu-local"]["HomeRegion"] == EU
    assert trails["eu-local"]["AdvancedEventSelectors"][0]["Name"] == "s3"
    assert _evaluate("logging-detection.cloudtrail.trail-logging", fact) == "pass"
    # S3 data events on a single-region trail do not meet CIS 3.8.
    assert _evaluate("logging-detection.cloudtrail.s3-object-write-events", fact) == "fail"


@mock_aws
def test_s3_data_events_and_cloudwatch_delivery_from_moto() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    _trail(REGION, "main", "g", IsMultiRegionTrail=True)
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="main",
        AdvancedEventSelectors=[
            {
                "Name": "mgmt",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            },
            {
                "Name": "s3-writes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ],
            },
        ],
    )
    inv = _collect({"cloudtrail"})
    fact = _fact(inv, "cloudtrail.account")
    assert _evaluate("logging-detection.cloudtrail.s3-object-write-events", fact) == "pass"
    assert _evaluate("logging-detection.cloudtrail.s3-object-read-events", fact) == "fail"
    (trail,) = fact.config["Trails"]
    assert trail["RecordsAllManagementEvents"] is True
    # moto reports no CloudWatch Logs delivery time: judged on the log group alone.
    assert trail["LatestCloudWatchLogsDeliveryTime"] is None
    assert _evaluate("logging-detection.cloudtrail.cloudwatch-logs-delivery", fact) == "pass"


@mock_aws
def test_trail_buckets_reuse_the_s3_collectors_reads() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    _trail(REGION, "main", None, IsMultiRegionTrail=True)  # delivers to main-bucket
    s3.create_bucket(Bucket="access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="main-bucket",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "t/"}
        },
    )
    s3.put_bucket_acl(Bucket="main-bucket", ACL="authenticated-read")
    target = Target(boto3.Session(region_name=REGION))
    inv = _collect({"cloudtrail", "s3"}, target=target)
    assert inv.complete, inv.issues
    fact = _fact(inv, "cloudtrail.account")
    (bucket,) = fact.config["TrailBuckets"]
    assert (bucket["Bucket"], bucket["InAccount"], bucket["Region"]) == (
        "main-bucket",
        True,
        REGION,
    )
    assert bucket["Logging"]["TargetBucket"] == "access-logs"
    assert bucket["PublicGrants"] == ["http://acs.amazonaws.com/groups/global/AuthenticatedUsers"]
    assert _evaluate("logging-detection.cloudtrail.trail-bucket-access-logging", fact) == "pass"
    assert _evaluate("logging-detection.cloudtrail.trail-bucket-not-public", fact) == "fail"
    # The trail bucket's reads are the S3 collector's: one call per bucket, not two.
    buckets = len([r for r in inv.resources if r.type == "s3.bucket"])
    for op in ("GetBucketLogging", "GetBucketAcl", "GetBucketPolicyStatus", "GetPublicAccessBlock"):
        assert target.stats.calls[("s3", op)] == buckets, op
    assert target.stats.calls[("s3", "ListBuckets")] == 1


@mock_aws
def test_a_trail_bucket_of_another_account_is_named_not_read() -> None:
    _trail(REGION, "org", None, IsMultiRegionTrail=True)
    # The bucket is gone from this account's listing (as another account's would be).
    boto3.client("s3", region_name=REGION).delete_bucket(Bucket="org-bucket")
    target = Target(boto3.Session(region_name=REGION))
    inv = _collect({"cloudtrail"}, target=target)
    fact = _fact(inv, "cloudtrail.account")
    assert fact.config["TrailBuckets"] == [{"Bucket": "org-bucket", "InAccount": False}]
    assert _evaluate("logging-detection.cloudtrail.trail-bucket-access-logging", fact) == (
        "not-applicable"
    )
    assert not any(op.startswith("GetBucket") for _svc, op in target.stats.calls)


@mock_aws
def test_an_alarm_with_its_actions_turned_off_is_collected_as_such() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    _trail(REGION, "main", "g", IsMultiRegionTrail=True)
    _filter_and_alarm(REGION, "g", "IamPolicyChanges", action=True, enabled=False)
    filters = _filters(_collect({"cloudtrail", "cloudwatch"}))
    (alarm,) = filters["IamPolicyChanges"]["Alarms"]
    assert alarm["ActionsEnabled"] is False and alarm["SnsSubscriptions"]


# --- Config: each recorder with its own status ---------------------------------------------


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
    fact = _fact(inv, "config.recorder")
    by_name = {r["name"]: r for r in fact.config["Recorders"]}
    assert (by_name["default"]["recording"], by_name["default"]["lastStatus"]) == (False, "Failure")
    assert by_name[linked["name"]]["recording"] is True
    # A service-linked recorder recording a few types is not Config recording everything.
    fact = replace(fact, config={**fact.config, "DeliveryChannels": [{"name": "default"}]})
    assert _evaluate("settings.config.recorder-recording-all", fact) == "fail"
    assert _evaluate("settings.config.recorder-uses-service-linked-role", fact) == "pass"


# --- GuardDuty protection plans and Inspector scan types ---------------------------------


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
    fact = _fact(_collect({"guardduty"}), "guardduty.detection")
    (detector,) = fact.config["Detectors"]
    runtime = next(f for f in detector["Features"] if f["Name"] == "RUNTIME_MONITORING")
    assert runtime["AdditionalConfiguration"][1] == {
        "Name": "EC2_AGENT_MANAGEMENT",
        "Status": "DISABLED",
    }
    results = {
        cid: _evaluate(f"logging-detection.guardduty.{cid}", fact)
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


@mock_aws
def test_inspector_lambda_scan_types_are_read() -> None:
    boto3.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2", "LAMBDA"]
    )
    fact = _fact(_collect({"inspector2"}), "inspector2.account-status")
    assert _evaluate("operating-system.inspector2.ec2-scanning-enabled", fact) == "pass"
    assert _evaluate("application.inspector2.lambda-standard-scanning-enabled", fact) == "pass"
    assert _evaluate("application.inspector2.lambda-code-scanning-enabled", fact) == "fail"


# --- Systems Manager: the fleet joined with EC2, settings, documents ------------------------


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
    fact = _fact(inv, "ssm.managed-fleet")
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
    inv = _collect({"ec2", "ssm"}, target=target, skip=MOTO_LACKS)
    fleet = _fact(inv, "ssm.managed-fleet").config["Ec2Instances"]
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
    fact = _fact(inv, "ssm.managed-fleet")
    assert fact.config["AssociationCompliance"][0]["Status"] == "NON_COMPLIANT"
    assert _evaluate("operating-system.ssm.association-compliant", fact) == "fail"


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
    fact = _fact(inv, "ssm.service-settings")
    assert fact.config[detail] == {"SettingValue": value, "Status": "Customized"}
    assert _evaluate(control, fact) == expect


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
    inv = _collect({"ssm"}, skip=(*MOTO_LACKS, "Ec2Instances"))
    docs = {r.id: r for r in inv.resources if r.type == "ssm.document"}
    # Only the account's own documents, never AWS's, and never their content.
    assert set(docs) == {"acme-private", "acme-public", "acme-partner"}
    assert "Content" not in json.dumps(docs["acme-public"].config)
    results = {n: _evaluate("application.ssm.document-not-public", d) for n, d in docs.items()}
    assert results == {"acme-private": "pass", "acme-public": "fail", "acme-partner": "pass"}
