"""Classic Load Balancers: listeners and attributes."""

from __future__ import annotations

import boto3
from moto import mock_aws

from ..stubs import REGION
from .conftest import (
    by_name,
    collect,
)


@mock_aws
def test_classic_load_balancers_carry_listeners_and_attributes() -> None:
    elb = boto3.client("elb", region_name=REGION)
    for name in ("legacy", "partner"):
        elb.create_load_balancer(
            LoadBalancerName=name,
            AvailabilityZones=["us-east-1a"],
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
        )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="partner",
        LoadBalancerAttributes={
            "AccessLog": {"Enabled": True, "S3BucketName": "logs"},
            "AdditionalAttributes": [
                {"Key": "elb.http.desyncmitigationmode", "Value": "strictest"}
            ],
        },
    )
    inv, target = collect({"elb"})
    lbs = by_name(inv, "elb.load-balancer")
    assert lbs["legacy"].config["ListenerDescriptions"][0]["Listener"]["Protocol"] == "HTTP"
    assert lbs["legacy"].config["Attributes"]["AccessLog"]["Enabled"] is False
    partner = lbs["partner"].config["Attributes"]
    assert partner["AccessLog"]["Enabled"] is True
    assert partner["AdditionalAttributes"] == [
        {"Key": "elb.http.desyncmitigationmode", "Value": "strictest"}
    ]
    assert lbs["partner"].arn.endswith(":loadbalancer/partner")
    # One attribute read per load balancer, nothing else.
    assert target.stats.calls[("elb", "DescribeLoadBalancerAttributes")] == 2
    assert inv.complete
