"""EC2, VPC and ELBv2 collectors against moto: shapes, joins, and what is never read."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs

REGION = "us-east-1"


def _collect(services: set[str], regions: tuple[str, ...] = (REGION,)) -> Any:
    specs = [s for s in load_specs() if s.service in services]
    target = Target(boto3.Session(region_name=regions[0]))
    return Collector(target, specs, "123456789012", "aws", list(regions)).run(), target


def _of(inv: Any, rtype: str) -> dict[str, Any]:
    return {r.name: r for r in inv.resources if r.type == rtype}


def _tag(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


@mock_aws
def test_instances_come_from_reservations_and_user_data_is_never_read() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.register_image(Name="base", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        UserData="#!/bin/sh\nexport DB_PASSWORD=hunter2\n",
        MetadataOptions={"HttpTokens": "required"},
        TagSpecifications=_tag("web", "instance"),
    )
    inv, target = _collect({"ec2"})
    instances = [r for r in inv.resources if r.type == "ec2.instance"]
    assert len(instances) == 2 and {r.name for r in instances} == {"web"}
    assert all(r.config["MetadataOptions"]["HttpTokens"] == "required" for r in instances)
    assert all(r.arn.endswith(f":instance/{r.id}") for r in instances)
    assert not any(op == "DescribeInstanceAttribute" for _, op in target.stats.calls)
    assert "hunter2" not in repr([r.config for r in inv.resources])
    assert inv.complete


@mock_aws
def test_vpc_flow_logs_are_joined_from_one_read_per_region() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    logged = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=_tag("logged", "vpc"))
    ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=_tag("quiet", "vpc"))
    ec2.create_flow_logs(
        ResourceIds=[logged["Vpc"]["VpcId"]],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="flow",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow",
    )
    inv, target = _collect({"ec2"})
    vpcs = _of(inv, "ec2.vpc")
    assert [f["TrafficType"] for f in vpcs["logged"].config["FlowLogs"]] == ["REJECT"]
    assert vpcs["quiet"].config["FlowLogs"] == []
    assert len([r for r in inv.resources if r.type == "ec2.flow-log"]) == 1
    # The ec2.flow-log list and the VPC hook share one call.
    assert target.stats.calls[("ec2", "DescribeFlowLogs")] == 1


@mock_aws
def test_own_snapshots_with_public_permission_and_default_encryption_per_region() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    boto3.client("ec2", region_name="eu-west-1").enable_ebs_encryption_by_default()
    inv, _ = _collect({"ec2"}, (REGION, "eu-west-1"))
    snapshot = next(r for r in inv.resources if r.type == "ec2.snapshot")
    assert snapshot.id == snap
    assert snapshot.config["CreateVolumePermissions"] == [{"Group": "all"}]
    defaults = {r.id: r for r in inv.resources if r.type == "ec2.ebs-encryption-default"}
    assert {k: r.config["EbsEncryptionByDefault"] for k, r in defaults.items()} == {
        "123456789012/us-east-1": False,
        "123456789012/eu-west-1": True,
    }
    assert all(r.account_fact for r in defaults.values())
    volumes = [r for r in inv.resources if r.type == "ec2.volume"]
    assert [v.config["Encrypted"] for v in volumes] == [False]


@mock_aws
def test_load_balancer_listeners_and_waf_association() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.3.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    elb = boto3.client("elbv2", region_name=REGION)
    arns = {
        name: elb.create_load_balancer(Name=name, Subnets=subnets, Type=kind)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        for name, kind in (("guarded", "application"), ("bare", "application"), ("nlb", "network"))
    }
    elb.create_listener(
        LoadBalancerArn=arns["bare"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
        ],
    )
    waf = boto3.client("wafv2", region_name=REGION)
    acl = waf.create_web_acl(
        Name="core",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": "core",
        },
        Rules=[],
    )["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=arns["guarded"])
    inv, target = _collect({"elbv2"})
    lbs = _of(inv, "elbv2.load-balancer")
    assert lbs["guarded"].config["WebAcl"] == {"Name": "core", "Id": acl["Id"], "ARN": acl["ARN"]}
    assert lbs["bare"].config["WebAcl"] is None
    assert lbs["nlb"].config["WebAcl"] is None
    # Only the two ALBs are asked about WAF.
    assert target.stats.calls[("wafv2", "GetWebACLForResource")] == 2
    listeners = lbs["bare"].config["Listeners"]
    assert [(x["Protocol"], x["Port"]) for x in listeners] == [("HTTP", 80)]
    assert listeners[0]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    assert lbs["guarded"].config["Listeners"] == []
    assert inv.complete


@mock_aws
def test_a_region_without_load_balancers_is_empty_not_an_error() -> None:
    inv, _ = _collect({"elbv2"}, ("eu-west-1",))
    assert [r for r in inv.resources if r.type == "elbv2.load-balancer"] == []
    assert inv.complete


def test_denied_waf_read_names_the_wafv2_action(monkeypatch: Any) -> None:
    from botocore.exceptions import ClientError

    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.4.{i}.0/24", AvailabilityZone=zone)[
                "Subnet"
            ]["SubnetId"]
            for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
        ]
        boto3.client("elbv2", region_name=REGION).create_load_balancer(Name="alb", Subnets=subnets)
        real = boto3.Session.client

        def client(self: Any, service: str, *a: Any, **kw: Any) -> Any:
            c = real(self, service, *a, **kw)
            if service == "wafv2":

                def deny(**_: Any) -> Any:
                    raise ClientError(
                        {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                        "GetWebACLForResource",
                    )

                c.get_web_acl_for_resource = deny
            return c

        monkeypatch.setattr(boto3.Session, "client", client)
        inv, _ = _collect({"elbv2"})
    lb = next(r for r in inv.resources if r.type == "elbv2.load-balancer")
    assert "WebAcl" in lb.unreadable and lb.config["Listeners"] == []
    assert [(i.iam_action, i.kind.value) for i in inv.issues] == [
        ("wafv2:GetWebACLForResource", "access-denied")
    ]
