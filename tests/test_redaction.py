"""Redaction per field: a secret marker seeded into each field that carries commands or
credentials reaches no output of a scan (scan.json, the CSVs, report.html, findings.ocsf.json,
report.xlsx), while the resource holding it is still read."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from .conftest import run_cli

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:latest"


def _marker(field: str) -> str:
    return f"s3cr3t-{field}-7f3a9c"


# Every field a collector reads that carries commands or credentials, and the marker seeded
# into it. A field that no collector reads (SSM parameter values, Secrets Manager values, an
# instance's user data) is seeded too: a future collector must not start leaking it.
FIELDS = (
    "lambda-environment",
    "lambda-image-command",
    "lambda-image-entrypoint",
    "launch-template-user-data",
    "instance-user-data",
    "elbv2-oidc-client-secret",
    "ssm-parameter-string",
    "ssm-parameter-securestring",
    "secretsmanager-secret-string",
)


def _seed() -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    lam.create_function(
        FunctionName="zip-fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()},
        Environment={"Variables": {"DB_PASSWORD": _marker("lambda-environment")}},
    )
    lam.create_function(
        FunctionName="image-fn",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": IMAGE},
        ImageConfig={
            "Command": ["serve", f"--token={_marker('lambda-image-command')}"],
            "EntryPoint": ["/bin/sh", "-c", f"TOKEN={_marker('lambda-image-entrypoint')} exec"],
            "WorkingDirectory": "/srv/app",
        },
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.register_image(Name="ami", RootDeviceName="/dev/xvda")["ImageId"]
    user_data = f"#!/bin/sh\nexport TOKEN={_marker('launch-template-user-data')}\n"
    ec2.create_launch_template(
        LaunchTemplateName="web-lt",
        LaunchTemplateData={
            "ImageId": image,
            "UserData": base64.b64encode(user_data.encode()).decode(),
        },
    )
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        UserData=f"#!/bin/sh\nexport TOKEN={_marker('instance-user-data')}\n",
    )
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    elb = boto3.client("elbv2", region_name=REGION)
    lb = elb.create_load_balancer(Name="sso-lb", Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=vpc)
    oidc = {
        "Issuer": "https://idp.example.com",
        "AuthorizationEndpoint": "https://idp.example.com/authorize",
        "TokenEndpoint": "https://idp.example.com/token",
        "UserInfoEndpoint": "https://idp.example.com/userinfo",
        "ClientId": "awsresp-test",
        "ClientSecret": _marker("elbv2-oidc-client-secret"),
    }
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": oidc},
            {
                "Type": "forward",
                "Order": 2,
                "TargetGroupArn": group["TargetGroups"][0]["TargetGroupArn"],
            },
        ],
    )
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/app/plain", Value=_marker("ssm-parameter-string"), Type="String")
    ssm.put_parameter(
        Name="/app/secure", Value=_marker("ssm-parameter-securestring"), Type="SecureString"
    )
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="app/db",
        SecretString=json.dumps({"password": _marker("secretsmanager-secret-string")}),
    )


@dataclass(frozen=True)
class Outputs:
    texts: dict[str, str]  # file name (and xlsx member) -> text
    scan: dict[str, Any]

    def config(self, rtype: str, name: str) -> dict[str, Any]:
        found = [r for r in self.scan["resources"] if r["type"] == rtype and r["name"] == name]
        assert found, f"the scan did not read {rtype} {name}"
        config: dict[str, Any] = found[0]["config"]
        return config


def _texts(directory: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                for member in book.namelist():
                    texts[f"{path.name}:{member}"] = book.read(member).decode("utf-8", "replace")
        else:
            texts[path.name] = path.read_text(encoding="utf-8-sig")
    return texts


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    out = tmp_path_factory.mktemp("redaction")
    services = ("lambda", "ec2", "elbv2", "ssm", "secretsmanager")
    with mock_aws():
        _seed()
        args = ["scan", "-q", "-r", REGION, "-o", str(out), "--ocsf", "-f", "json"]
        result = run_cli([*args, *(a for s in services for a in ("-s", s))])
    assert result.exit_code == 0, result.output
    report = run_cli(["report", str(out), "-f", "xlsx", "-o", str(out / "report.xlsx"), "-q"])
    assert report.exit_code == 0, report.output
    texts = _texts(out) | {"stdout": result.stdout, "stderr": result.stderr}
    assert {"scan.json", "findings.csv", "report.html", "findings.ocsf.json"} <= set(texts)
    assert any(name.startswith("report.xlsx:") for name in texts)
    yield Outputs(texts, json.loads(texts["scan.json"]))


def _assert_nowhere(outputs: Outputs, field: str) -> None:
    marker = _marker(field)
    forms = [marker]
    # User data travels base64-encoded.
    forms.append(base64.b64encode(f"#!/bin/sh\nexport TOKEN={marker}\n".encode()).decode())
    leaked = sorted(name for name, text in outputs.texts.items() if any(f in text for f in forms))
    assert not leaked, f"{field}: the secret reached {leaked}"


def test_every_field_has_a_test() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals()}
    assert set(FIELDS) <= tested


def test_lambda_environment(outputs: Outputs) -> None:
    config = outputs.config("lambda.function", "zip-fn")
    assert config["Environment"] == {"Variables": {"DB_PASSWORD": "<redacted>"}}
    _assert_nowhere(outputs, "lambda-environment")


def test_lambda_image_command(outputs: Outputs) -> None:
    image = outputs.config("lambda.function", "image-fn")["ImageConfigResponse"]["ImageConfig"]
    assert image["Command"] == "<redacted>"
    # The working directory carries no secret and is kept.
    assert image["WorkingDirectory"] == "/srv/app"
    _assert_nowhere(outputs, "lambda-image-command")


def test_lambda_image_entrypoint(outputs: Outputs) -> None:
    image = outputs.config("lambda.function", "image-fn")["ImageConfigResponse"]["ImageConfig"]
    assert image["EntryPoint"] == "<redacted>"
    _assert_nowhere(outputs, "lambda-image-entrypoint")


def test_launch_template_user_data(outputs: Outputs) -> None:
    config = outputs.config("ec2.launch-template", "web-lt")
    assert config["LaunchTemplateData"]["UserData"] == "<redacted>"
    _assert_nowhere(outputs, "launch-template-user-data")


def test_instance_user_data(outputs: Outputs) -> None:
    # DescribeInstances does not carry user data, and nothing reads the instance attribute.
    assert any(r["type"] == "ec2.instance" for r in outputs.scan["resources"])
    _assert_nowhere(outputs, "instance-user-data")


def test_elbv2_oidc_client_secret(outputs: Outputs) -> None:
    listeners = outputs.config("elbv2.load-balancer", "sso-lb")["Listeners"]
    auth = [a for a in listeners[0]["DefaultActions"] if a["Type"] == "authenticate-oidc"]
    assert auth[0]["AuthenticateOidcConfig"]["ClientSecret"] == "<redacted>"
    assert auth[0]["AuthenticateOidcConfig"]["ClientId"] == "awsresp-test"
    _assert_nowhere(outputs, "elbv2-oidc-client-secret")


def test_ssm_parameter_string(outputs: Outputs) -> None:
    # Parameters are not collected at all (only the fleet, settings and documents).
    assert any(r["type"].startswith("ssm.") for r in outputs.scan["resources"])
    _assert_nowhere(outputs, "ssm-parameter-string")


def test_ssm_parameter_securestring(outputs: Outputs) -> None:
    _assert_nowhere(outputs, "ssm-parameter-securestring")


def test_secretsmanager_secret_string(outputs: Outputs) -> None:
    assert any(r["type"] == "secretsmanager.secret" for r in outputs.scan["resources"])
    _assert_nowhere(outputs, "secretsmanager-secret-string")


def _resolves(shape: Any, path: str) -> bool:
    """A redact path (dotted, `[]` for every item of a list) names members of a botocore
    output shape."""
    for part in path.split("."):
        many = part.endswith("[]")
        name = part.removesuffix("[]")
        if shape.type_name != "structure" or name not in shape.members:
            return False
        shape = shape.members[name]
        if many:
            if shape.type_name != "list":
                return False
            shape = shape.member
    return True


def test_redact_paths_name_real_fields() -> None:
    """A misspelt redact path would silently redact nothing: every path must name a field of
    the listing's items (checked against botocore's model) or a detail of the resource."""
    import botocore.session

    from awsresp.collect.specs import load_specs

    models = botocore.session.get_session()
    checked = 0
    for spec in load_specs():
        for res in spec.resources:
            details = {d.key for d in res.details}
            for path in res.redact:
                checked += 1
                head = path.split(".", 1)[0].removesuffix("[]")
                if head in details:
                    continue
                assert res.list and res.list_items, f"{res.type}: redact {path} names no field"
                op = models.get_service_model(res.client).operation_model(res.list.operation)
                items = op.output_shape.members[res.list_items]
                assert _resolves(items.member, path), f"{res.type}: redact {path} names no field"
    assert checked >= 6
