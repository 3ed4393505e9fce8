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
    judge,
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
    actions = [_subscribed_topic(region)] if action else []
    _alarm(region, f"alarm-{check}", check, "CIS", actions=actions, enabled=enabled)


def _alarm(
    region: str,
    name: str,
    metric: str,
    namespace: str,
    actions: list[str] | None = None,
    enabled: bool = True,
) -> None:
    boto3.client("cloudwatch", region_name=region).put_metric_alarm(
        AlarmName=name,
        MetricName=metric,
        Namespace=namespace,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions or [],
        ActionsEnabled=enabled,
    )


def _subscribed_topic(region: str) -> str:
    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    return topic


def _trails(inv: Inventory) -> dict[str, dict[str, Any]]:
    trails = one_fact(inv, "cloudwatch.cis-alarms").config["Trails"]
    return {t["Name"]: t for t in trails}


@mock_aws
def test_trails_and_alarms_are_read_in_their_own_regions() -> None:
    # The multi-region trail lives in eu-west-1 with its log group; the scan's home
    # region is us-east-1, so status, selectors, filters and alarms are read in eu-west-1.
    boto3.client("logs", region_name=EU).create_log_group(logGroupName="trail-logs")
    make_trail(EU, "org-main", "trail-logs", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    make_trail(REGION, "local", None)
    _filter_and_alarm(EU, "trail-logs", "UnauthorizedApiCalls", action=True)
    _filter_and_alarm(EU, "trail-logs", "CmkDisableOrDeletion", action=False)
    # An alarm on a metric no filter of the group counts is not joined in.
    _alarm(EU, "cpu", "CPUUtilization", "AWS/EC2")
    target = Target(boto3.Session(region_name=REGION))
    inv = collect_inventory({"cloudtrail", "cloudwatch"}, target=target)
    assert inv.complete, inv.issues
    trails = {t["Name"]: t for t in one_fact(inv, "cloudtrail.account").config["Trails"]}
    main = trails["org-main"]
    assert (main["HomeRegion"], main["IsMultiRegionTrail"], main["IsLogging"]) == (EU, True, True)
    assert main["EventSelectors"][0]["ReadWriteType"] == "All" and main["LogFileValidationEnabled"]
    assert trails["local"]["IsMultiRegionTrail"] is False
    # Only the trail that delivers to CloudWatch Logs, with its group's data.
    (watched,) = _trails(inv).values()
    topic = f"arn:aws:sns:{EU}:{ACCOUNT}:alerts"
    assert (watched["Name"], watched["HomeRegion"], watched["IsLogging"]) == ("org-main", EU, True)
    assert watched["LogGroupArn"].endswith(":log-group:trail-logs:*")
    filters = {f["filterName"]: f for f in watched["MetricFilters"]}
    assert set(filters) == {"UnauthorizedApiCalls", "CmkDisableOrDeletion"}
    unauthorized = filters["UnauthorizedApiCalls"]
    assert unauthorized["filterPattern"] == metric_filters.checks()["UnauthorizedApiCalls"].pattern
    assert unauthorized["metricTransformations"] == [
        {"metricName": "UnauthorizedApiCalls", "metricNamespace": "CIS"}
    ]
    alarms = {a["AlarmName"]: a for a in watched["Alarms"]}
    assert set(alarms) == {"alarm-UnauthorizedApiCalls", "alarm-CmkDisableOrDeletion"}
    alarm = alarms["alarm-UnauthorizedApiCalls"]
    assert (alarm["MetricName"], alarm["ActionsEnabled"], alarm["AlarmActions"]) == (
        "UnauthorizedApiCalls",
        True,
        [topic],
    )
    # An alarm without an action is collected as it is; the controls judge it.
    assert alarms["alarm-CmkDisableOrDeletion"]["AlarmActions"] == []
    (sub,) = watched["Subscriptions"]
    assert (sub["TopicArn"], sub["Protocol"]) == (topic, "email")
    assert sub["SubscriptionArn"].startswith(topic + ":") and "Endpoint" not in sub
    fact = one_fact(inv, "cloudwatch.cis-alarms")
    assert judge("logging-detection.cloudwatch.alarm-unauthorized-api-calls", fact) == "pass"
    assert judge("logging-detection.cloudwatch.alarm-cmk-disable-or-deletion", fact) == "fail"
    # Subscriptions per topic (CIS's audit), read in the topic's region: ListSubscriptions
    # would leave out those another account made to the topic.
    assert target.stats.calls[("sns", "ListSubscriptionsByTopic")] == 1
    assert ("sns", "ListSubscriptions") not in target.stats.calls


@mock_aws
def test_a_trail_that_does_not_log_management_events_is_collected_and_judged() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    make_trail(REGION, "main", "g", IsMultiRegionTrail=True)
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="main",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    _filter_and_alarm(REGION, "g", "UnauthorizedApiCalls", action=True)
    inv = collect_inventory({"cloudtrail", "cloudwatch"})
    (trail,) = one_fact(inv, "cloudtrail.account").config["Trails"]
    assert trail["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    # Collected all the same, with its selectors as CloudTrail answers them: the controls
    # judge it.
    (watched,) = _trails(inv).values()
    assert watched["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    fact = one_fact(inv, "cloudwatch.cis-alarms")
    assert judge("logging-detection.cloudwatch.alarm-unauthorized-api-calls", fact) == "fail"


def test_a_failed_trail_listing_names_cloudtrails_action() -> None:
    # The CIS alarm fact is a CloudWatch resource, but its failing read is CloudTrail's.
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "cloudtrail")
    stub.add_client_error("describe_trails", "AccessDeniedException", "denied")
    with stub:
        inv = collect_only(target, "cloudwatch.cis-alarms", "Trails")
    (issue,) = inv.issues
    assert (issue.iam_action, issue.kind.value) == ("cloudtrail:DescribeTrails", "access-denied")
    fact = one_fact(inv, "cloudwatch.cis-alarms")
    assert fact.unreadable == frozenset({"Trails"})
    assert judge("logging-detection.cloudwatch.alarm-root-usage", fact) == "unknown"


@mock_aws
def test_an_alarm_with_its_actions_turned_off_is_collected_as_such() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    make_trail(REGION, "main", "g", IsMultiRegionTrail=True)
    _filter_and_alarm(REGION, "g", "IamPolicyChanges", action=True, enabled=False)
    inv = collect_inventory({"cloudtrail", "cloudwatch"})
    (watched,) = _trails(inv).values()
    (alarm,) = watched["Alarms"]
    assert alarm["ActionsEnabled"] is False and watched["Subscriptions"]
    fact = one_fact(inv, "cloudwatch.cis-alarms")
    assert judge("logging-detection.cloudwatch.alarm-iam-policy-changes", fact) == "fail"
