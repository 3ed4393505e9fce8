"""EC2 and VPC: instances, snapshots, joins from one listing per region, and what is never read."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import MOTO_LACKS_EC2, REGION, collect_only, stubbed
from .conftest import (
    by_name,
    collect,
)


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
    inv, target = collect({"ec2"})
    instances = [r for r in inv.resources if r.type == "ec2.instance"]
    assert len(instances) == 2 and {r.name for r in instances} == {"web"}
    assert all(r.config["MetadataOptions"]["HttpTokens"] == "required" for r in instances)
    assert all(r.arn.endswith(f":instance/{r.id}") for r in instances)
    assert not any(op == "DescribeInstanceAttribute" for _, op in target.stats.calls)
    assert "hunter2" not in repr([r.config for r in inv.resources])
    # Everything but the Block Public Access reads moto does not implement was read.
    assert {i.operation for i in inv.issues} == MOTO_LACKS_EC2


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
    inv, target = collect({"ec2"})
    vpcs = by_name(inv, "ec2.vpc")
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
    inv, _ = collect({"ec2"}, (REGION, "eu-west-1"))
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
def test_launch_templates_are_read_at_their_default_version_without_user_data() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    secret = "IyEvYmluL3NoCmV4cG9ydCBUT0tFTj1odW50ZXIy"  # "export TOKEN=hunter2"
    ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={
            "UserData": secret,
            "MetadataOptions": {"HttpTokens": "optional"},
            "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": True}],
        },
    )
    # A newer version that is not the default: launches keep using version 1.
    ec2.create_launch_template_version(
        LaunchTemplateName="web",
        SourceVersion="1",
        LaunchTemplateData={"MetadataOptions": {"HttpTokens": "required"}},
    )
    ec2.create_launch_template(LaunchTemplateName="app", LaunchTemplateData={})
    inv, target = collect({"ec2"})
    templates = by_name(inv, "ec2.launch-template")
    assert set(templates) == {"web", "app"}
    web = templates["web"]
    assert web.config["VersionNumber"] == 1
    assert web.config["LaunchTemplateData"]["MetadataOptions"] == {"HttpTokens": "optional"}
    assert web.config["LaunchTemplateData"]["UserData"] == "<redacted>"
    assert secret not in repr([r.config for r in inv.resources])
    assert web.arn.endswith(f":launch-template/{web.id}")
    # All templates' default versions in one read, never one call per template.
    assert target.stats.calls[("ec2", "DescribeLaunchTemplateVersions")] == 1
    assert ("ec2", "DescribeLaunchTemplates") not in target.stats.calls


@mock_aws
def test_vpc_endpoints_are_joined_from_the_one_listing_read() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16", TagSpecifications=_tag("svc", "vpc"))
    vpc_id = vpc["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.5.1.0/24")["Subnet"]["SubnetId"]
    for service in ("ec2", "ssm"):
        ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=[subnet],
        )
    ec2.create_vpc(CidrBlock="10.6.0.0/16", TagSpecifications=_tag("bare", "vpc"))
    inv, target = collect({"ec2"})
    vpcs = by_name(inv, "ec2.vpc")
    names = sorted(e["ServiceName"] for e in vpcs["svc"].config["VpcEndpoints"])
    assert names == [f"com.amazonaws.{REGION}.ec2", f"com.amazonaws.{REGION}.ssm"]
    assert vpcs["bare"].config["VpcEndpoints"] == []
    assert target.stats.calls[("ec2", "DescribeVpcEndpoints")] == 1


@mock_aws
def test_interfaces_transit_gateways_and_vpn_connections_without_their_keys() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(
        SubnetId=subnet, TagSpecifications=_tag("router", "network-interface")
    )["NetworkInterface"]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    ec2.create_transit_gateway(
        Options={"AutoAcceptSharedAttachments": "enable"},
        TagSpecifications=_tag("hub", "transit-gateway"),
    )
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.7", BgpAsn=65001)
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.create_vpn_connection(
        Type="ipsec.1",
        CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
        VpnGatewayId=vgw,
        TagSpecifications=_tag("office", "vpn-connection"),
    )
    inv, _ = collect({"ec2"})
    router = by_name(inv, "ec2.network-interface")["router"]
    assert (router.config["SourceDestCheck"], router.tags) == (False, {"Name": "router"})
    hub = by_name(inv, "ec2.transit-gateway")["hub"]
    assert hub.config["Options"]["AutoAcceptSharedAttachments"] == "enable"
    assert hub.arn == hub.config["TransitGatewayArn"]
    office = by_name(inv, "ec2.vpn-connection")["office"]
    # The customer gateway configuration document carries the tunnels' pre-shared keys.
    assert office.config["CustomerGatewayConfiguration"] == "<redacted>"
    assert "pre_shared_key" not in repr(office.config)


def test_vpn_tunnel_options_keep_logging_and_ike_but_lose_the_keys() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ec2")
    tunnel = {
        "OutsideIpAddress": "203.0.113.1",
        "PreSharedKey": "not-for-your-eyes",
        "IkeVersions": [{"Value": "ikev2"}],
        "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": True}},
    }
    stub.add_response(
        "describe_vpn_connections",
        {
            "VpnConnections": [
                {
                    "VpnConnectionId": "vpn-0123456789abcdef0",
                    "State": "available",
                    "Type": "ipsec.1",
                    "CustomerGatewayId": "cgw-1",
                    "CustomerGatewayConfiguration": "<xml>not-for-your-eyes</xml>",
                    "Options": {"TunnelOptions": [tunnel, {**tunnel, "OutsideIpAddress": "x"}]},
                }
            ]
        },
    )
    with stub:
        inv = collect_only(target, "ec2.vpn-connection")
    (vpn,) = inv.resources
    assert "not-for-your-eyes" not in repr(vpn.config)
    tunnels = vpn.config["Options"]["TunnelOptions"]
    assert [t["PreSharedKey"] for t in tunnels] == ["<redacted>", "<redacted>"]
    assert tunnels[0]["IkeVersions"] == [{"Value": "ikev2"}]
    assert tunnels[0]["LogOptions"]["CloudWatchLogOptions"]["LogEnabled"] is True


def test_block_public_access_settings_are_account_facts_per_region() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ec2")
    stub.add_response("get_snapshot_block_public_access_state", {"State": "block-new-sharing"})
    with stub:
        snapshots = collect_only(target, "ec2.snapshot-block-public-access", "State")
    stub.add_response(
        "describe_vpc_block_public_access_options",
        {
            "VpcBlockPublicAccessOptions": {
                "AwsAccountId": "123456789012",
                "AwsRegion": REGION,
                "State": "update-complete",
                "InternetGatewayBlockMode": "block-ingress",
            }
        },
    )
    with stub:
        vpcs = collect_only(target, "ec2.vpc-block-public-access", "Options")
    (snapshot_bpa,) = snapshots.resources
    (vpc_bpa,) = vpcs.resources
    assert snapshot_bpa.account_fact and snapshot_bpa.id == f"123456789012/{REGION}"
    assert snapshot_bpa.config["State"] == "block-new-sharing"
    assert vpc_bpa.config["Options"]["InternetGatewayBlockMode"] == "block-ingress"
