"""Elastic Load Balancing in the sandbox: two internet-facing ALBs in the EC2 estate's VPC,
one with plain HTTP, a TLS 1.0 policy and no WAF, one redirecting to HTTPS behind a WAF."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from awsresp.sandbox.estate.ec2 import REGION

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

_NO_METRICS = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False}


def _network_of(sb: Sandbox) -> tuple[dict[str, str], dict[str, str]]:
    """The EC2 estate's VPC, public subnets and ALB security group, found by name."""
    ec2 = sb.client("ec2", REGION)

    def named(name: str) -> list[dict[str, Any]]:
        return [{"Name": "tag:Name", "Values": [name]}]

    subnets = {
        s["Tags"][0]["Value"]: s["SubnetId"]
        for s in ec2.describe_subnets(Filters=named("acme-prod-public-*"))["Subnets"]
    }
    alb = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["acme-alb"]}])
    ids = {
        "vpc": ec2.describe_vpcs(Filters=named("acme-prod"))["Vpcs"][0]["VpcId"],
        "public-a": subnets["acme-prod-public-a"],
        "public-b": subnets["acme-prod-public-b"],
    }
    return ids, {"alb": alb["SecurityGroups"][0]["GroupId"]}


def seed(sb: Sandbox) -> None:
    ids, groups = _network_of(sb)
    elb = sb.client("elbv2", REGION)
    subnets = [ids["public-a"], ids["public-b"]]
    target_group = elb.create_target_group(
        Name="acme-web", Protocol="HTTP", Port=8080, VpcId=ids["vpc"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": target_group}]
    # moto needs the listener's certificate to exist (in ACM or IAM).
    cert = sb.client("acm", REGION).request_certificate(DomainName="www.acme.example")
    certificates = [{"CertificateArn": cert["CertificateArn"]}]

    def alb(name: str) -> str:
        return str(
            elb.create_load_balancer(
                Name=name,
                Subnets=subnets,
                SecurityGroups=[groups["alb"]],
                Scheme="internet-facing",
                Type="application",
            )["LoadBalancers"][0]["LoadBalancerArn"]
        )

    # acme-web-alb: plain HTTP to the targets, HTTPS with a TLS 1.0 policy, no WAF.
    web = alb("acme-web-alb")
    elb.create_listener(LoadBalancerArn=web, Protocol="HTTP", Port=80, DefaultActions=forward)
    elb.create_listener(
        LoadBalancerArn=web,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-2016-08",
        Certificates=certificates,
        DefaultActions=forward,
    )
    # acme-api-alb: HTTP redirects to HTTPS, a TLS 1.2+ policy, and a WAF web ACL.
    api = alb("acme-api-alb")
    elb.create_listener(
        LoadBalancerArn=api,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    elb.create_listener(
        LoadBalancerArn=api,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=certificates,
        DefaultActions=forward,
    )
    waf = sb.client("wafv2", REGION)
    acl = waf.create_web_acl(
        Name="acme-core",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={**_NO_METRICS, "MetricName": "acme-core"},
        Rules=[],
    )["Summary"]["ARN"]
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=api)
