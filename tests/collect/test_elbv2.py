"""ELBv2: load balancers with listeners and their WAFv2 web ACL, and target groups."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from ..stubs import REGION
from .conftest import (
    by_name,
    collect,
)


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
    inv, target = collect({"elbv2"})
    lbs = by_name(inv, "elbv2.load-balancer")
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
    inv, _ = collect({"elbv2"}, ("eu-west-1",))
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
        inv, _ = collect({"elbv2"})
    lb = next(r for r in inv.resources if r.type == "elbv2.load-balancer")
    assert "WebAcl" in lb.unreadable and lb.config["Listeners"] == []
    assert [(i.iam_action, i.kind.value) for i in inv.issues] == [
        ("wafv2:GetWebACLForResource", "access-denied")
    ]


@mock_aws
def test_target_groups_carry_their_protocols() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    elb = boto3.client("elbv2", region_name=REGION)
    elb.create_target_group(
        Name="tls-backends", Protocol="HTTPS", Port=443, VpcId=vpc, HealthCheckProtocol="HTTPS"
    )
    elb.create_target_group(Name="plain", Protocol="HTTP", Port=80, VpcId=vpc)
    inv, _ = collect({"elbv2"})
    groups = by_name(inv, "elbv2.target-group")
    assert (groups["tls-backends"].config["Protocol"], groups["plain"].config["Protocol"]) == (
        "HTTPS",
        "HTTP",
    )
    assert groups["plain"].arn.startswith("arn:aws:elasticloadbalancing:")
    assert inv.complete
