"""Lambda in the sandbox: a public function URL on a deprecated runtime with a password in
its environment, attached to one subnet of the default VPC; an IAM-authenticated API in two
Availability Zones that Amazon S3 may invoke for one account's bucket; and a container-image
function."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

# A value that looks like a credential; the end-to-end tests check it reaches no output.
LAMBDA_SECRET_VALUE = "sandbox-lambda-secret-value-do-not-leak"
ACCOUNT = "123456789012"

# The trust policy of a Lambda execution role (also used by the bench's seeders).
LAMBDA_TRUST = json.dumps(
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


def zip_source(source: str) -> bytes:
    """A .zip deployment package with `source` as index.py."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", source)
    return buf.getvalue()


def default_vpc(sb: Sandbox) -> tuple[list[str], str]:
    """Two default subnets of us-east-1 (in two zones) and the default security group: what
    is attached to them adds no network resource of its own to the estate."""
    ec2 = sb.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    chosen = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[:2]
    group = ec2.describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": ["default"]},
            {"Name": "vpc-id", "Values": [chosen[0]["VpcId"]]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    return [s["SubnetId"] for s in chosen], group


def seed(sb: Sandbox) -> None:
    subnets, group = default_vpc(sb)
    iam = sb.client("iam")
    role = iam.create_role(RoleName="acme-lambda-exec", AssumeRolePolicyDocument=LAMBDA_TRUST)
    role_arn = role["Role"]["Arn"]
    lam = sb.client("lambda")
    code = {"ZipFile": zip_source("def handler(event, context):\n    return {'ok': True}\n")}
    # A legacy report builder: deprecated runtime, a password in its environment, and a
    # function URL anyone can call.
    lam.create_function(
        FunctionName="legacy-report-builder",
        Runtime="python3.7",
        Role=role_arn,
        Handler="index.handler",
        Code=code,
        Environment={"Variables": {"DB_PASSWORD": LAMBDA_SECRET_VALUE, "LOG_LEVEL": "info"}},
        VpcConfig={"SubnetIds": subnets[:1], "SecurityGroupIds": [group]},
    )
    lam.create_function_url_config(FunctionName="legacy-report-builder", AuthType="NONE")
    lam.add_permission(
        FunctionName="legacy-report-builder",
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    # The orders API: a supported runtime behind an IAM-authenticated function URL.
    lam.create_function(
        FunctionName="orders-api",
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code=code,
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [group]},
    )
    lam.create_function_url_config(FunctionName="orders-api", AuthType="AWS_IAM")
    # Uploads to the orders bucket invoke it: limited to this account's bucket.
    lam.add_permission(
        FunctionName="orders-api",
        StatementId="OrdersBucketUploads",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::acme-orders-uploads",
        SourceAccount=ACCOUNT,
    )
    # An image resizer shipped as a container image (customer-patched runtime).
    lam.create_function(
        FunctionName="image-resizer",
        Role=role_arn,
        PackageType="Image",
        Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/image-resizer:1.4"},
    )
