"""EC2 and VPC in the sandbox: a VPC with public and private subnets, open and tight
security groups (one world-open on PostgreSQL and Redis), network ACLs used and unused, a
peering connection with a narrow and a default route, interface endpoints, instances with
and without IMDSv2 (the legacy one dual-homed through an interface that does not check
source and destination), launch templates, transit gateways, a Site-to-Site VPN,
encrypted and unencrypted volumes, a public snapshot, and EBS encryption by default in one
region only. (moto lacks snapshot and VPC Block Public Access: both read as unknown.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

REGION = "us-east-1"
# Only the second region encrypts new EBS volumes by default (one pass, one fail).
DEFAULT_ENCRYPTION_REGION = "eu-west-1"


def _name(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def _network(ec2: Any) -> dict[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=_name("acme-prod", "vpc"))
    vpc_id = vpc["Vpc"]["VpcId"]
    ids = {"vpc": vpc_id}
    for key, cidr, zone in (
        ("public-a", "10.20.1.0/24", "us-east-1a"),
        ("public-b", "10.20.2.0/24", "us-east-1b"),
        ("private-a", "10.20.11.0/24", "us-east-1a"),
    ):
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=zone,
            TagSpecifications=_name(f"acme-prod-{key}", "subnet"),
        )
        ids[key] = subnet["Subnet"]["SubnetId"]
    for key in ("public-a", "public-b"):
        ec2.modify_subnet_attribute(SubnetId=ids[key], MapPublicIpOnLaunch={"Value": True})

    igw = ec2.create_internet_gateway(TagSpecifications=_name("acme-prod-igw", "internet-gateway"))
    igw_id = igw["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    public_rt = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_name("acme-prod-public", "route-table")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    for key in ("public-a", "public-b"):
        ec2.associate_route_table(RouteTableId=public_rt, SubnetId=ids[key])
    private_rt = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_name("acme-prod-private", "route-table")
    )["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=ids["private-a"])

    # A tight NACL on the private subnet: HTTPS from anywhere, SSH from inside the VPC only.
    nacl = ec2.create_network_acl(
        VpcId=vpc_id, TagSpecifications=_name("acme-prod-private", "network-acl")
    )["NetworkAcl"]["NetworkAclId"]
    for number, port, cidr in ((100, 443, "0.0.0.0/0"), (110, 22, "10.20.0.0/16")):
        ec2.create_network_acl_entry(
            NetworkAclId=nacl,
            RuleNumber=number,
            Protocol="6",
            RuleAction="allow",
            Egress=False,
            CidrBlock=cidr,
            PortRange={"From": port, "To": port},
        )
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [ids["private-a"]]}]
    )["NetworkAcls"][0]["Associations"]
    association = next(a for a in current if a["SubnetId"] == ids["private-a"])
    ec2.replace_network_acl_association(
        AssociationId=association["NetworkAclAssociationId"], NetworkAclId=nacl
    )
    # A leftover ACL that filters no subnet and would let MySQL in from anywhere.
    dmz = ec2.create_network_acl(
        VpcId=vpc_id, TagSpecifications=_name("acme-old-dmz", "network-acl")
    )["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=dmz,
        RuleNumber=100,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 3306, "To": 3306},
    )

    # Peering with the region's default VPC: its side routes one subnet (least access),
    # the private route table sends its default route through the peer (not least access).
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    default_vpc_id = default_vpc["Vpcs"][0]["VpcId"]
    peering = ec2.create_vpc_peering_connection(VpcId=vpc_id, PeerVpcId=default_vpc_id)
    pcx = peering["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    ec2.create_route(
        RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", VpcPeeringConnectionId=pcx
    )
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [default_vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_route(
        RouteTableId=main, DestinationCidrBlock="10.20.11.0/24", VpcPeeringConnectionId=pcx
    )

    # Private paths to the EC2 and Systems Manager APIs (not to ECR or Incident Manager).
    for service in ("ec2", "ssm"):
        ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=[ids["private-a"]],
        )

    # Flow logs on this VPC only; the default VPCs have none. CloudWatch Logs destination:
    # moto fails an S3 destination with a key prefix inside an HTTP 200 answer.
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="acme-prod-vpc-flow",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/vpc-flow-logs",
    )
    return ids


def _security_groups(ec2: Any, vpc_id: str) -> dict[str, str]:
    def group(name: str, rules: list[dict[str, Any]]) -> str:
        gid = str(
            ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
        )
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        return gid

    def tcp(port: int, cidr: str) -> dict[str, Any]:
        return {
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "IpRanges": [{"CidrIp": cidr}],
        }

    return {
        # The deliberate mistakes: SSH open to the world; a self-hosted database and cache
        # open to the world (PostgreSQL over IPv4, Redis over IPv6).
        "ssh-open": group("acme-ssh-open", [tcp(22, "0.0.0.0/0")]),
        "db-open": group(
            "acme-db-open",
            [
                tcp(5432, "0.0.0.0/0"),
                {
                    "IpProtocol": "tcp",
                    "FromPort": 6379,
                    "ToPort": 6379,
                    "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                },
            ],
        ),
        "app": group("acme-app", [tcp(8080, "10.20.0.0/16"), tcp(22, "10.20.0.0/16")]),
        "alb": group("acme-alb", [tcp(80, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")]),
    }


def _instances(ec2: Any, ids: dict[str, str], groups: dict[str, str]) -> None:
    # moto starts without machine images (MOTO_EC2_LOAD_DEFAULT_AMIS=false); registering one
    # also makes its backing snapshot, unencrypted, as AWS would for an unencrypted image.
    image = ec2.register_image(
        Name="acme-base-2026",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
    )["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=ids["private-a"],
        SecurityGroupIds=[groups["app"]],
        IamInstanceProfile={"Name": "app-server"},
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        TagSpecifications=_name("app-server-1", "instance"),
    )
    legacy = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=ids["public-a"],
        SecurityGroupIds=[groups["ssh-open"], groups["db-open"]],
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        TagSpecifications=_name("legacy-web-1", "instance"),
    )["Instances"][0]["InstanceId"]
    # legacy-web-1 also routes for the private subnet: a second interface (dual-homed)
    # that does not check source and destination.
    eni = ec2.create_network_interface(
        SubnetId=ids["private-a"],
        Groups=[groups["app"]],
        TagSpecifications=_name("legacy-web-1-router", "network-interface"),
    )["NetworkInterface"]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=legacy, DeviceIndex=1)


def _launch_templates(ec2: Any, groups: dict[str, str]) -> None:
    # The web tier's template: public addresses, IMDSv1 allowed, an unencrypted data volume,
    # and user data holding a secret (the scan must never show it).
    ec2.create_launch_template(
        LaunchTemplateName="acme-web-lt",
        LaunchTemplateData={
            "InstanceType": "t3.micro",
            "UserData": "IyEvYmluL3NoCmV4cG9ydCBEQl9QQVNTV09SRD1odW50ZXIy",
            "NetworkInterfaces": [
                {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "Groups": [groups["alb"]]}
            ],
            "MetadataOptions": {"HttpTokens": "optional"},
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeSize": 50, "Encrypted": False}}
            ],
        },
    )
    ec2.create_launch_template(
        LaunchTemplateName="acme-app-lt",
        LaunchTemplateData={
            "InstanceType": "t3.micro",
            "SecurityGroupIds": [groups["app"]],
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "Encrypted": True}}
            ],
        },
    )


def _connectivity(ec2: Any, vpc_id: str) -> None:
    """Transit gateways (one accepting shared attachments unasked) and a Site-to-Site VPN
    to the office (moto keeps no tunnel options: it shows neither logging nor IKEv2)."""
    ec2.create_transit_gateway(
        Description="acme core", TagSpecifications=_name("acme-core-tgw", "transit-gateway")
    )
    ec2.create_transit_gateway(
        Description="acme legacy",
        Options={"AutoAcceptSharedAttachments": "enable"},
        TagSpecifications=_name("acme-legacy-tgw", "transit-gateway"),
    )
    customer = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65010)
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpcId=vpc_id, VpnGatewayId=vgw)
    ec2.create_vpn_connection(
        Type="ipsec.1",
        CustomerGatewayId=customer["CustomerGateway"]["CustomerGatewayId"],
        VpnGatewayId=vgw,
        TagSpecifications=_name("acme-office-vpn", "vpn-connection"),
    )


def _ebs(sb: Sandbox, ec2: Any) -> None:
    # An explicit key with rotation: an encrypted volume without one makes moto invent a
    # customer-managed key without rotation (an accidental KMS finding).
    kms = sb.client("kms", REGION)
    key = kms.create_key(Description="acme EBS data key")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    kms.create_alias(AliasName="alias/acme-ebs", TargetKeyId=key)
    ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=20,
        Encrypted=True,
        KmsKeyId=key,
        TagSpecifications=_name("acme-data-encrypted", "volume"),
    )
    scratch = ec2.create_volume(
        AvailabilityZone="us-east-1a", Size=8, TagSpecifications=_name("acme-scratch", "volume")
    )["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=scratch, TagSpecifications=_name("acme-scratch-backup", "snapshot")
    )["SnapshotId"]
    # Deliberately public: anyone can create a volume from it.
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    sb.client("ec2", DEFAULT_ENCRYPTION_REGION).enable_ebs_encryption_by_default()


def seed(sb: Sandbox) -> None:
    ec2 = sb.client("ec2", REGION)
    ids = _network(ec2)
    groups = _security_groups(ec2, ids["vpc"])
    _instances(ec2, ids, groups)
    _launch_templates(ec2, groups)
    _connectivity(ec2, ids["vpc"])
    _ebs(sb, ec2)
