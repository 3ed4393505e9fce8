"""The organization templates: generated parts up to date, Glue columns equal to the exports,
the member trust as narrow as promised, and the output bucket passing awsresp's own controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import decode_str
from moto import mock_aws

from awsresp.collect.deploy_policy import read_actions, stackset_template, template_actions
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.export.tables import FINDING_COLUMNS, GAP_COLUMNS, ISSUE_COLUMNS, MATRIX_COLUMNS
from awsresp.model import FindingStatus
from awsresp.scan import Definitions, scan_account

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _template(name: str) -> dict[str, Any]:
    found, errors = decode_str((DEPLOY / name).read_text())
    assert not errors, errors
    return dict(found)


def test_generated_parts_are_up_to_date() -> None:
    actions = read_actions(load_specs())
    for name in ("org-member-role.yaml", "org-scan.yaml"):
        assert template_actions((DEPLOY / name).read_text()) == actions, name
    member = (DEPLOY / "org-member-role.yaml").read_text()
    assert (DEPLOY / "org-stackset.yaml").read_text() == stackset_template(member)
    stackset = _template("org-stackset.yaml")["Resources"]["MemberRoles"]["Properties"]
    assert stackset["PermissionModel"] == "SERVICE_MANAGED"
    assert stackset["AutoDeployment"]["Enabled"] is True


def test_glue_tables_have_the_columns_of_the_exports() -> None:
    resources = _template("org-scan.yaml")["Resources"]
    expected = {
        "findings": FINDING_COLUMNS,
        "matrix": MATRIX_COLUMNS,
        "gaps": GAP_COLUMNS,
        "issues": ISSUE_COLUMNS,
    }
    for name, columns in expected.items():
        table = resources[f"{name.capitalize()}Table"]["Properties"]["TableInput"]
        assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == columns, name
        assert table["Parameters"]["projection.date.type"] == "date"
        assert [k["Name"] for k in table["PartitionKeys"]] == ["date"]


def test_published_views_take_only_runs_with_a_manifest() -> None:
    resources = _template("org-scan.yaml")["Resources"]
    expected = {
        "findings": FINDING_COLUMNS,
        "matrix": MATRIX_COLUMNS,
        "gaps": GAP_COLUMNS,
        "issues": ISSUE_COLUMNS,
    }
    for name, columns in expected.items():
        table = resources[f"Published{name.capitalize()}View"]["Properties"]["TableInput"]
        assert table["Name"] == f"published_{name}" and table["TableType"] == "VIRTUAL_VIEW"
        assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [*columns, "date"]
        head, encoded, tail = table["ViewOriginalText"]["Fn::Join"][1]
        assert (head, tail) == ("/* Presto View: ", " */")
        view = json.loads(encoded["Fn::Base64"]["Fn::Sub"].replace("${DatabaseName}", "db"))
        assert view["schema"] == "db" and view["catalog"] == "awsdatacatalog"
        assert [c["name"] for c in view["columns"]] == [*columns, "date"]
        sql = " ".join(view["originalSql"].split())
        assert sql.startswith(f"SELECT t.* FROM {name} t JOIN manifests m ON ")
        assert "regexp_extract(t.\"$path\", 'run=([^/]+)/', 1) = m.run" in sql
        assert 't."date" = m."date"' in sql and "t.account_id = m.account_id" in sql


def test_member_role_trusts_only_the_scanning_accounts_scanners_with_the_external_id() -> None:
    role = _template("org-member-role.yaml")["Resources"]["ScannerRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ScanningAccountId}:root"}
    }
    assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}
    assert statement["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": {"Ref": "ScannerPrincipalArns"}
    }
    (policy,) = role["Policies"]
    (grant,) = policy["PolicyDocument"]["Statement"]
    assert grant["Effect"] == "Allow" and grant["Resource"] == "*"
    assert grant["Action"] == read_actions(load_specs())
    assert set(_template("org-member-role.yaml")["Resources"]) == {"ScannerRole"}


def _sub(value: Any, names: dict[str, str]) -> Any:
    """The few intrinsic functions the bucket properties use, resolved to test names."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return names[arg]
        if fn == "Fn::GetAtt":
            return names[f"{arg[0]}.{arg[1]}"]
        if fn == "Fn::Sub":
            text = str(arg)
            for key, resolved in names.items():
                text = text.replace("${" + key + "}", resolved)
            return text
    if isinstance(value, dict):
        return {k: _sub(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v, names) for v in value]
    return value


@mock_aws
def test_the_output_bucket_passes_awsresps_own_s3_controls() -> None:
    resources = _template("org-scan.yaml")["Resources"]
    s3 = boto3.client("s3", region_name="us-east-1")
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    names = {
        "OutputBucket": "awsresp-org-out",
        "OutputBucket.Arn": "arn:aws:s3:::awsresp-org-out",
        "AccessLogBucket": "awsresp-org-logs",
        "AccessLogBucket.Arn": "arn:aws:s3:::awsresp-org-logs",
        "OutputKey.Arn": key,
        "AWS::AccountId": "123456789012",
        "RetentionDays": "400",
    }
    policies = {
        bucket: _sub(resources[policy]["Properties"]["PolicyDocument"], names)
        for bucket, policy in (
            ("AccessLogBucket", "AccessLogBucketPolicy"),
            ("OutputBucket", "OutputBucketPolicy"),
        )
    }
    for bucket in ("AccessLogBucket", "OutputBucket"):
        props = _sub(resources[bucket]["Properties"], names)
        name = names[bucket]
        s3.create_bucket(Bucket=name)
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                    for r in rules
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration=props["VersioningConfiguration"]
        )
        lifecycle = []
        for rule in props["LifecycleConfiguration"]["Rules"]:
            lifecycle.append(
                {
                    "ID": rule["Id"],
                    "Status": rule["Status"],
                    "Filter": {},
                    "Expiration": {"Days": int(rule["ExpirationInDays"])},
                    "NoncurrentVersionExpiration": {
                        "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
                    },
                }
            )
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": lifecycle}
        )
        if "LoggingConfiguration" in props:
            # moto reads every statement's Principal as a mapping when it checks that
            # logging may write to the target: its "*" (the TLS-only deny) is put after.
            delivery = [
                st
                for st in policies["AccessLogBucket"]["Statement"]
                if isinstance(st["Principal"], dict)
            ]
            s3.put_bucket_policy(
                Bucket=names["AccessLogBucket"],
                Policy=json.dumps({"Version": "2012-10-17", "Statement": delivery}),
            )
            logging = props["LoggingConfiguration"]
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={
                    "LoggingEnabled": {
                        "TargetBucket": logging["DestinationBucketName"],
                        "TargetPrefix": logging["LogFilePrefix"],
                    }
                },
            )
    for bucket, document in policies.items():
        s3.put_bucket_policy(Bucket=names[bucket], Policy=json.dumps(document))
    definitions = Definitions.load().select(["s3"])
    result = scan_account(
        Target(boto3.Session(region_name="us-east-1")), definitions, ["us-east-1"]
    )

    def failing(bucket: str) -> set[str]:
        found = [f for f in result.findings if f.resource.id == bucket]
        assert found
        return {f.control.id for f in found if f.status != FindingStatus.PASS}

    # MFA delete can only be turned on by the root user with an MFA device, never by
    # CloudFormation: the one control the template cannot meet.
    assert failing("awsresp-org-out") == {"data.s3.bucket-mfa-delete"}
    # The log bucket, besides, logs nowhere itself, and is encrypted with S3's own keys
    # (server access log delivery supports SSE-S3 only on its target bucket).
    assert failing("awsresp-org-logs") == {
        "data.s3.bucket-mfa-delete",
        "data.s3.bucket-kms-encryption",
        "logging-detection.s3.bucket-access-logging",
    }
