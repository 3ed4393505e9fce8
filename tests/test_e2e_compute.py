"""End to end: compute and network findings on the seeded sandbox (EC2, EBS, VPC, ELBv2)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

# (control id, resource name) -> status for the resources the compute estate names.
EXPECTED_NAMED = {
    ("access-rights.ec2.instance-has-instance-profile", "app-server-1"): "pass",
    ("access-rights.ec2.instance-has-instance-profile", "legacy-web-1"): "fail",
    ("operating-system.ec2.instance-imdsv2-required", "app-server-1"): "pass",
    ("operating-system.ec2.instance-imdsv2-required", "legacy-web-1"): "fail",
    ("operating-system.ec2.instance-launched-within-180-days", "app-server-1"): "pass",
    ("operating-system.ec2.instance-launched-within-180-days", "legacy-web-1"): "pass",
    ("network-controls.ec2.instance-no-public-ip", "app-server-1"): "pass",
    ("network-controls.ec2.instance-no-public-ip", "legacy-web-1"): "fail",
    ("data.ec2.volume-encrypted", "acme-data-encrypted"): "pass",
    ("data.ec2.volume-encrypted", "acme-scratch"): "fail",
    ("data.ec2.snapshot-encrypted", "acme-scratch-backup"): "fail",
    ("data.ec2.snapshot-not-public", "acme-scratch-backup"): "fail",
    ("logging-detection.ec2.vpc-flow-logs-enabled", "acme-prod"): "pass",
    ("network-controls.ec2.nacl-no-world-ingress-admin-ports", "acme-prod-private"): "pass",
    ("network-controls.ec2.subnet-no-auto-public-ip", "acme-prod-public-a"): "fail",
    ("network-controls.ec2.subnet-no-auto-public-ip", "acme-prod-public-b"): "fail",
    ("network-controls.ec2.subnet-no-auto-public-ip", "acme-prod-private-a"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv4", "acme-ssh-open"): "fail",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv4", "acme-app"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv4", "acme-alb"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv6", "acme-ssh-open"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv6", "acme-app"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-admin-ports-ipv6", "acme-alb"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-all-traffic", "acme-ssh-open"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-all-traffic", "acme-app"): "pass",
    ("network-controls.ec2.sg-no-world-ingress-all-traffic", "acme-alb"): "pass",
    ("network-controls.elbv2.public-alb-has-waf", "acme-web-alb"): "fail",
    ("network-controls.elbv2.public-alb-has-waf", "acme-api-alb"): "pass",
    ("data.elbv2.http-redirects-to-https", "acme-web-alb"): "fail",
    ("data.elbv2.http-redirects-to-https", "acme-api-alb"): "pass",
    ("data.elbv2.tls-policy-current", "acme-web-alb"): "fail",
    ("data.elbv2.tls-policy-current", "acme-api-alb"): "pass",
    ("logging-detection.elbv2.access-logging-enabled", "acme-web-alb"): "fail",
    ("logging-detection.elbv2.access-logging-enabled", "acme-api-alb"): "fail",
    ("data.ec2.ebs-encryption-by-default", "123456789012/us-east-1"): "fail",
    ("data.ec2.ebs-encryption-by-default", "123456789012/eu-west-1"): "pass",
}

# Unnamed resources: moto's defaults in both regions (default VPC, its six plus three
# subnets, default security groups and NACLs), the instances' root volumes and the
# image's backing snapshot. (control id, region, status) -> how many.
EXPECTED_UNNAMED = Counter(
    {
        ("logging-detection.ec2.vpc-flow-logs-enabled", "us-east-1", "fail"): 1,
        ("logging-detection.ec2.vpc-flow-logs-enabled", "eu-west-1", "fail"): 1,
        ("network-controls.ec2.subnet-no-auto-public-ip", "us-east-1", "fail"): 6,
        ("network-controls.ec2.subnet-no-auto-public-ip", "eu-west-1", "fail"): 3,
        ("network-controls.ec2.nacl-no-world-ingress-admin-ports", "us-east-1", "fail"): 2,
        ("network-controls.ec2.nacl-no-world-ingress-admin-ports", "eu-west-1", "fail"): 1,
        ("data.ec2.volume-encrypted", "us-east-1", "fail"): 2,
        ("data.ec2.snapshot-encrypted", "us-east-1", "fail"): 1,
        ("data.ec2.snapshot-not-public", "us-east-1", "pass"): 1,
    }
)
# Default security groups (named "default") of the default VPCs and of acme-prod, and the
# two groups Directory Service creates for the data estate's WorkSpaces directory
# ("d-<id>_controllers", "d-<id>_workspacesMembers"; the id differs per run).
EXPECTED_DEFAULT_GROUPS = Counter(
    {
        ("default", "network-controls.ec2.default-sg-restricts-all-traffic", "fail"): 3,
        ("default", "network-controls.ec2.sg-no-world-ingress-admin-ports-ipv4", "pass"): 3,
        ("default", "network-controls.ec2.sg-no-world-ingress-admin-ports-ipv6", "pass"): 3,
        ("default", "network-controls.ec2.sg-no-world-ingress-all-traffic", "pass"): 3,
        ("directory", "network-controls.ec2.sg-no-world-ingress-admin-ports-ipv4", "pass"): 2,
        ("directory", "network-controls.ec2.sg-no-world-ingress-admin-ports-ipv6", "pass"): 2,
        ("directory", "network-controls.ec2.sg-no-world-ingress-all-traffic", "pass"): 2,
    }
)

# Types whose id is already readable (a load balancer's name, account/region).
_ID_IS_NAME = {"elbv2.load-balancer", "ec2.ebs-encryption-default"}


def _split(doc: dict[str, Any]) -> tuple[dict[tuple[str, str], str], Counter[Any], Counter[Any]]:
    resources = {(r["type"], r["id"]): r for r in doc["resources"]}
    named: dict[tuple[str, str], str] = {}
    unnamed: Counter[Any] = Counter()
    default_groups: Counter[Any] = Counter()
    for f in doc["findings"]:
        if f["control_id"].split(".")[1] not in ("ec2", "elbv2"):
            continue
        res = resources[(f["resource_type"], f["resource_id"])]
        if res["type"] == "ec2.security-group" and res["name"] == "default":
            default_groups[("default", f["control_id"], f["status"])] += 1
        elif res["type"] == "ec2.security-group" and re.fullmatch(
            r"d-[0-9a-f]{10}_(controllers|workspacesMembers)", res["name"]
        ):
            default_groups[("directory", f["control_id"], f["status"])] += 1
        elif res["type"] in _ID_IS_NAME:
            named[(f["control_id"], res["id"])] = f["status"]
        elif res["name"] != res["id"]:
            named[(f["control_id"], res["name"])] = f["status"]
        else:
            unnamed[(f["control_id"], res["region"], f["status"])] += 1
    return named, unnamed, default_groups


def test_compute_findings_are_exact(sandbox_scan: dict[str, Any]) -> None:
    named, unnamed, default_groups = _split(sandbox_scan)
    assert named == EXPECTED_NAMED
    assert unnamed == EXPECTED_UNNAMED
    assert default_groups == EXPECTED_DEFAULT_GROUPS


def test_instances_carry_what_the_controls_need_and_no_user_data(
    sandbox_scan: dict[str, Any],
) -> None:
    instances = {r["name"]: r for r in sandbox_scan["resources"] if r["type"] == "ec2.instance"}
    assert set(instances) == {"app-server-1", "legacy-web-1"}
    app = instances["app-server-1"]["config"]
    assert app["IamInstanceProfile"]["Arn"].endswith(":instance-profile/app-server")
    assert "PublicIpAddress" not in app
    legacy = instances["legacy-web-1"]["config"]
    assert legacy["MetadataOptions"]["HttpTokens"] == "optional"
    assert legacy["SecurityGroups"][0]["GroupName"] == "acme-ssh-open"
    assert all("UserData" not in r["config"] for r in instances.values())


def test_compute_matrix_cells(sandbox_scan: dict[str, Any]) -> None:
    cells = {(c["service"], c["layer"]): c for c in sandbox_scan["matrix"]}
    # EC2 is an infrastructure service: the customer owns the guest OS and the network.
    assert cells[("ec2", "operating-system")]["owner"] == "customer"
    assert cells[("ec2", "network-controls")]["owner"] == "customer"
    assert cells[("ec2", "network-controls")]["status"] == "partial"
    assert cells[("elbv2", "operating-system")]["owner"] == "aws"
