"""Lambda: functions without their environment values, and the zones of their VPC subnets."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ..stubs import REGION
from .conftest import (
    by_name,
    collect,
)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def _vpc_subnets() -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    layout = {"a1": ("10.0.1.0/24", "a"), "a2": ("10.0.2.0/24", "a"), "b1": ("10.0.3.0/24", "b")}
    return {
        name: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for name, (cidr, zone) in layout.items()
    }


def _function(lam: Any, role: str, name: str, subnets: list[str] | None = None) -> None:
    vpc = {"VpcConfig": {"SubnetIds": subnets, "SecurityGroupIds": []}} if subnets else {}
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        **vpc,
    )


@mock_aws
def test_lambda_environment_values_never_leave_the_collector() -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = boto3.client("iam").create_role(
        RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    common: dict[str, Any] = {"Role": role, "Handler": "index.handler", "Code": {"ZipFile": _zip()}}
    lam.create_function(
        FunctionName="with-secret",
        Runtime="python3.7",
        Environment={"Variables": {"API_TOKEN": "unit-test-token-value"}},
        **common,
    )
    lam.create_function_url_config(FunctionName="with-secret", AuthType="NONE")
    lam.add_permission(
        FunctionName="with-secret",
        StatementId="public",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    lam.create_function(FunctionName="plain", Runtime="python3.12", **common)
    inv, _ = collect({"lambda"})
    functions = by_name(inv, "lambda.function")
    secret = functions["with-secret"]
    assert secret.config["Environment"] == {"Variables": {"API_TOKEN": "<redacted>"}}
    assert "unit-test-token-value" not in json.dumps(secret.config)
    assert secret.config["Url"]["AuthType"] == "NONE"
    assert secret.config["Policy"]["Statement"][0]["Principal"] == "*"
    # No URL and no resource policy are "not configured", not failed reads.
    plain = functions["plain"]
    assert plain.config["Url"] is None and plain.config["Policy"] is None
    assert plain.unreadable == frozenset() and inv.complete


@pytest.mark.parametrize(
    ("config", "expected"),
    [({"PackageType": "Image"}, "container"), ({"PackageType": "Zip"}, "abstracted")],
)
def test_lambda_service_class_follows_the_package_type(
    definitions: Any, config: dict[str, Any], expected: str
) -> None:
    assert definitions.catalog.service_class("lambda.function", config).value == expected


@mock_aws
def test_lambda_functions_in_a_vpc_get_their_subnets_zones_from_one_read() -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = boto3.client("iam").create_role(
        RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    subnets = _vpc_subnets()
    lam = boto3.client("lambda", region_name=REGION)
    _function(lam, role, "one-zone", [subnets["a1"], subnets["a2"]])
    _function(lam, role, "two-zones", [subnets["a1"], subnets["b1"], subnets["a2"]])
    _function(lam, role, "no-vpc")
    inv, target = collect({"lambda"})
    zones = {name: f.config["VpcZones"] for name, f in by_name(inv, "lambda.function").items()}
    assert zones == {
        "one-zone": [f"{REGION}a"],
        "two-zones": [f"{REGION}a", f"{REGION}b"],
        "no-vpc": None,
    }
    assert target.stats.calls[("ec2", "DescribeSubnets")] == 1
    assert inv.complete


@mock_aws
def test_functions_outside_a_vpc_make_no_subnet_read() -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = boto3.client("iam").create_role(
        RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    _function(boto3.client("lambda", region_name=REGION), role, "plain")
    inv, target = collect({"lambda"})
    assert by_name(inv, "lambda.function")["plain"].config["VpcZones"] is None
    assert target.stats.calls[("ec2", "DescribeSubnets")] == 0
