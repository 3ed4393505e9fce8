"""Classic Load Balancers in the sandbox: a legacy one with plain HTTP beside HTTPS (an ACM
certificate), no access logs and desync mitigation left unset; a partner one terminating
SSL only, with an IAM server certificate, access logs and defensive desync mitigation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate.ec2 import REGION

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

# A placeholder certificate body: moto stores what it is given and checks nothing.
_PEM = "-----BEGIN CERTIFICATE-----\nc2FuZGJveA==\n-----END CERTIFICATE-----\n"


def seed(sb: Sandbox) -> None:
    ec2 = sb.client("ec2", REGION)
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(
            Filters=[{"Name": "tag:Name", "Values": ["acme-prod-public-*"]}]
        )["Subnets"]
    ]
    # The ALB security group (80 and 443): without one, moto invents a group per load balancer.
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["acme-alb"]}])[
        "SecurityGroups"
    ]
    alb_group = [groups[0]["GroupId"]]
    acm = sb.client("acm", REGION).request_certificate(DomainName="legacy.acme.example")
    iam_cert = sb.client("iam").upload_server_certificate(
        ServerCertificateName="acme-partner-2019", CertificateBody=_PEM, PrivateKey=_PEM
    )["ServerCertificateMetadata"]["Arn"]
    elb = sb.client("elb", REGION)
    elb.create_load_balancer(
        LoadBalancerName="acme-legacy-clb",
        Subnets=subnets,
        SecurityGroups=alb_group,
        Listeners=[
            {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080},
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 8080,
                "SSLCertificateId": acm["CertificateArn"],
            },
        ],
    )
    elb.create_load_balancer(
        LoadBalancerName="acme-partner-clb",
        Subnets=subnets,
        SecurityGroups=alb_group,
        Listeners=[
            {
                "Protocol": "SSL",
                "LoadBalancerPort": 8443,
                "InstanceProtocol": "TCP",
                "InstancePort": 8443,
                "SSLCertificateId": iam_cert,
            }
        ],
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="acme-partner-clb",
        LoadBalancerAttributes={
            "AccessLog": {"Enabled": True, "S3BucketName": "acme-access-logs", "EmitInterval": 60},
            "AdditionalAttributes": [
                {"Key": "elb.http.desyncmitigationmode", "Value": "defensive"}
            ],
        },
    )
