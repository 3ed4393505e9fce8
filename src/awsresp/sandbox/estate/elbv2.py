"""Elastic Load Balancing in the sandbox: two internet-facing ALBs in the EC2 estate's VPC,
one with plain HTTP, a TLS 1.0 policy, no WAF and desync mitigation in monitor mode, one
redirecting to HTTPS behind a WAF with a restricted TLS policy, dropping invalid headers and
reaching its targets over HTTPS; and a partner NLB terminating TLS."""

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
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=web,
        Attributes=[{"Key": "routing.http.desync_mitigation_mode", "Value": "monitor"}],
    )
    # acme-api-alb: HTTP redirects to HTTPS, a restricted TLS 1.2+ policy, a WAF web ACL,
    # invalid headers dropped, and HTTPS to its targets (health checks included).
    api = alb("acme-api-alb")
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=api,
        Attributes=[
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "routing.http.desync_mitigation_mode", "Value": "strictest"},
        ],
    )
    api_targets = elb.create_target_group(
        Name="acme-api",
        Protocol="HTTPS",
        Port=8443,
        VpcId=ids["vpc"],
        TargetType="instance",
        HealthCheckProtocol="HTTPS",
    )["TargetGroups"][0]["TargetGroupArn"]
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
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        Certificates=certificates,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": api_targets}],
    )
    # acme-partner-nlb: terminates TLS for a partner feed; TLS to the targets, but plain TCP
    # health checks and no access logs.
    nlb = str(
        elb.create_load_balancer(
            Name="acme-partner-nlb", Subnets=subnets, Scheme="internet-facing", Type="network"
        )["LoadBalancers"][0]["LoadBalancerArn"]
    )
    partner_targets = elb.create_target_group(
        Name="acme-partner-tls",
        Protocol="TLS",
        Port=9443,
        VpcId=ids["vpc"],
        TargetType="ip",
        HealthCheckProtocol="TCP",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=nlb,
        Protocol="TLS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06",
        Certificates=certificates,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": partner_targets}],
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
