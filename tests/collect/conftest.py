"""Shared helpers of the collector tests (one file per AWS service): collect some services
against moto or a Stubber, pick resources out of the inventory, judge one control."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import boto3

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.evaluate.findings import evaluate_control
from awsresp.model import Inventory, Resource
from awsresp.scan import Definitions

from ..stubs import ACCOUNT, REGION

EU = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/trail"


def make_trail(region: str, name: str, group: str | None = None, **kw: Any) -> None:
    """A trail logging all management events into its own bucket (and `group`)."""
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


def collect(
    services: set[str],
    regions: tuple[str, ...] = (REGION,),
    skip: tuple[str, ...] = (),
    target: Target | None = None,
) -> tuple[Inventory, Target]:
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
    return Collector(target, specs, ACCOUNT, "aws", list(regions)).run(), target


def collect_inventory(
    services: set[str],
    regions: tuple[str, ...] = (REGION,),
    skip: tuple[str, ...] = (),
    target: Target | None = None,
) -> Inventory:
    return collect(services, regions, skip, target)[0]


def by_name(inv: Inventory, rtype: str) -> dict[str, Resource]:
    return {r.name: r for r in inv.resources if r.type == rtype}


def by_id(inv: Inventory, rtype: str) -> dict[str, Resource]:
    return {r.id: r for r in inv.resources if r.type == rtype}


def one_fact(inv: Inventory, rtype: str, region: str | None = None) -> Resource:
    """The one resource of an account-fact type (in a region)."""
    (found,) = (r for r in inv.resources if r.type == rtype and region in (None, r.region))
    return found


def judge(control_id: str, resource: Resource) -> str:
    """A control's verdict on one collected resource, judged now."""
    control = Definitions.load().catalog.controls[control_id]
    outcome = evaluate_control(control, resource, dt.datetime.now(dt.UTC))
    return "not-applicable" if outcome is None else outcome[0].value
