"""WorkSpaces in the sandbox: a directory open to any IP, an encrypted and an unencrypted
desktop. (AWS Client VPN is not implemented by moto: no endpoint is seeded, and the scan
reports that it could not tell whether Client VPN is in use rather than faking one.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
    # WorkSpaces needs a directory, which needs two subnets: the default VPC's.
    ec2 = sb.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    chosen = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[:2]
    directory = sb.client("ds").create_directory(
        Name="corp.acme.example",
        Password="Sandbox-Directory-Passw0rd",
        Size="Small",
        VpcSettings={
            "VpcId": chosen[0]["VpcId"],
            "SubnetIds": [s["SubnetId"] for s in chosen],
        },
    )["DirectoryId"]
    ws = sb.client("workspaces")
    ws.register_workspace_directory(DirectoryId=directory)
    bundle = "wsb-0123456789"  # moto does not check bundle ids
    ws.create_workspaces(
        Workspaces=[
            # Finance desktops: both volumes encrypted with the account's key.
            {
                "DirectoryId": directory,
                "UserName": "finance-analyst",
                "BundleId": bundle,
                "VolumeEncryptionKey": "alias/aws/workspaces",
                "RootVolumeEncryptionEnabled": True,
                "UserVolumeEncryptionEnabled": True,
            },
            # A contractor desktop created without volume encryption.
            {"DirectoryId": directory, "UserName": "contractor", "BundleId": bundle},
        ]
    )
