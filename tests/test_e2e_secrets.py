"""End to end: secrets seeded into the sandbox never reach stdout, stderr or any output file."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest

from awsresp.sandbox import SANDBOX_REGIONS, Sandbox

from .conftest import run_cli

pytestmark = pytest.mark.e2e

SECRETS = {
    "lambda-env": "lambda-env-s3cr3t-7f3a9c",
    "ec2-user-data": "ec2-userdata-s3cr3t-41b8e2",
    "launch-template-user-data": "lt-userdata-s3cr3t-9d0c55",
    "ssm-string": "ssm-string-s3cr3t-2e6f10",
    "ssm-secure-string": "ssm-securestring-s3cr3t-c81d47",
    "secretsmanager": "secretsmanager-s3cr3t-5a93be",
}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _seed_secrets(sb: Sandbox) -> list[str]:
    """Puts a known secret everywhere AWS keeps one; returns every secret string."""
    iam = sb.client("iam")
    role = iam.create_role(RoleName="secrets-fn", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.create_user(UserName="secrets-holder")
    key = iam.create_access_key(UserName="secrets-holder")["AccessKey"]["SecretAccessKey"]
    for region in SANDBOX_REGIONS:
        sb.client("lambda", region).create_function(
            FunctionName="secrets-fn",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {"DB_PASSWORD": SECRETS["lambda-env"]}},
        )
        ec2 = sb.client("ec2", region)
        image = ec2.register_image(Name="secrets-ami", RootDeviceName="/dev/xvda")["ImageId"]
        ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            UserData=f"#!/bin/sh\nexport TOKEN={SECRETS['ec2-user-data']}\n",
        )
        user_data = f"#!/bin/sh\nexport TOKEN={SECRETS['launch-template-user-data']}\n"
        ec2.create_launch_template(
            LaunchTemplateName="secrets-lt",
            LaunchTemplateData={
                "ImageId": image,
                "UserData": base64.b64encode(user_data.encode()).decode(),
            },
        )
        ssm = sb.client("ssm", region)
        ssm.put_parameter(Name="/app/plain", Value=SECRETS["ssm-string"], Type="String")
        ssm.put_parameter(
            Name="/app/secure", Value=SECRETS["ssm-secure-string"], Type="SecureString"
        )
        sb.client("secretsmanager", region).create_secret(
            Name="app/db", SecretString=json.dumps({"password": SECRETS["secretsmanager"]})
        )
    return [*SECRETS.values(), key]


def _forms(secret: str) -> list[str]:
    """The secret as text, and base64 of the lines that carry it (how user data travels)."""
    forms = [secret]
    for prefix in (f"#!/bin/sh\nexport TOKEN={secret}\n",):
        forms.append(base64.b64encode(prefix.encode()).decode())
    return forms


def test_secrets_never_reach_any_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Sandbox() as sb:
        secrets = _seed_secrets(sb)
        region_args = [arg for r in SANDBOX_REGIONS for arg in ("-r", r)]
        # stdout shows the table; --format json would print scan.json, searched below.
        result = run_cli(["scan", "--endpoint-url", sb.endpoint_url, *region_args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"scan.json", "findings.csv", "issues.csv"}
    texts |= {str(p): p.read_text(encoding="utf-8-sig") for p in files}
    # The scan did read the account (so an empty output cannot pass this test).
    assert "secrets-holder" in texts[str(out / "scan.json")]
    for secret in secrets:
        for form in _forms(secret):
            leaked = [name for name, text in texts.items() if form in text]
            assert not leaked, f"secret {secret!r} found in {leaked}"
