"""CloudWatch: the metric filters of the trails' log groups, alarms and SNS subscriptions."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from awsresp.collect.session import Target
from awsresp.evaluate import metric_filters
from awsresp.model import Inventory

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    EU,
    collect_inventory,
    make_trail,
    one_fact,
)


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
    monitoring = one_fact(inv, "cloudwatch.cis-alarms").config["Monitoring"]
    return {f["FilterName"]: f for f in monitoring["MetricFilters"]}


@mock_aws
def test_trails_and_alarms_are_read_in_their_own_regions() -> None:
    # The multi-region trail lives in eu-west-1 with its log group; the scan's home
    # region is us-east-1, so status, selectors, filters and alarms are read in eu-west-1.
    boto3.client("logs", region_name=EU).create_log_group(logGroupName="trail-logs")
    make_trail(EU, "org-main", "trail-logs", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    make_trail(REGION, "local", None)
    _filter_and_alarm(EU, "trail-logs", "UnauthorizedApiCalls", action=True)
    _filter_and_alarm(EU, "trail-logs", "CmkDisableOrDeletion", action=False)
    inv = collect_inventory({"cloudtrail", "cloudwatch"})
    assert inv.complete, inv.issues
    trails = {t["Name"]: t for t in one_fact(inv, "cloudtrail.account").config["Trails"]}
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
    make_trail(REGION, "main", "g", IsMultiRegionTrail=True)
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="main",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    _filter_and_alarm(REGION, "g", "UnauthorizedApiCalls", action=True)
    inv = collect_inventory({"cloudtrail", "cloudwatch"})
    (trail,) = one_fact(inv, "cloudtrail.account").config["Trails"]
    assert trail["RecordsAllManagementEvents"] is False
    # Collected all the same, with the trail that feeds the group: the controls judge it.
    (filt,) = _filters(inv).values()
    assert filt["Trails"][0]["RecordsAllManagementEvents"] is False


def test_a_hook_failure_names_the_action_the_hook_declared() -> None:
    # The CIS alarm fact is a CloudWatch resource, but its failing read is CloudTrail's.
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "cloudtrail")
    stub.add_client_error("describe_trails", "AccessDeniedException", "denied")
    with stub:
        inv = collect_only(target, "cloudwatch.cis-alarms", "Monitoring")
    (issue,) = inv.issues
    assert (issue.iam_action, issue.kind.value) == ("cloudtrail:DescribeTrails", "access-denied")


@mock_aws
def test_an_alarm_with_its_actions_turned_off_is_collected_as_such() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    make_trail(REGION, "main", "g", IsMultiRegionTrail=True)
    _filter_and_alarm(REGION, "g", "IamPolicyChanges", action=True, enabled=False)
    filters = _filters(collect_inventory({"cloudtrail", "cloudwatch"}))
    (alarm,) = filters["IamPolicyChanges"]["Alarms"]
    assert alarm["ActionsEnabled"] is False and alarm["SnsSubscriptions"]
