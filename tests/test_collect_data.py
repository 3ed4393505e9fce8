"""Data service, runtime and endpoint collectors: moto in-process, Stubber where moto lacks them."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.parsers import ResponseParserError
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import Inventory, IssueKind, Resource

from .stubs import ACCOUNT, REGION, collect_only, stubbed


def _collect(services: set[str], target: Target | None = None) -> tuple[Inventory, Target]:
    specs = [s for s in load_specs() if s.service in services]
    target = target or Target(boto3.Session(region_name=REGION))
    return Collector(target, specs, ACCOUNT, "aws", [REGION]).run(), target


def _of(inv: Inventory, rtype: str) -> dict[str, Resource]:
    return {r.name: r for r in inv.resources if r.type == rtype}


@mock_aws
def test_kms_keys_carry_metadata_rotation_policy_and_aliases() -> None:
    kms = boto3.client("kms", region_name=REGION)
    rotating = kms.create_key(Description="rotating")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotating)
    kms.create_alias(AliasName="alias/app", TargetKeyId=rotating)
    kms.create_key(Description="plain")
    inv, target = _collect({"kms"})
    keys = _of(inv, "kms.key")
    app = keys["alias/app"]
    assert app.id == rotating and app.config["Aliases"] == ["alias/app"]
    assert app.config["RotationEnabled"] is True
    assert app.config["Metadata"]["KeyManager"] == "CUSTOMER"
    assert app.config["Policy"]["Statement"][0]["Effect"] == "Allow"  # parsed, not text
    (plain,) = (k for name, k in keys.items() if name != "alias/app")
    assert plain.config["RotationEnabled"] is False and plain.config["Aliases"] == []
    # One ListAliases for the region, not one per key.
    assert target.stats.calls[("kms", "ListAliases")] == 1
    assert inv.complete


@mock_aws
def test_a_region_without_keys_makes_no_alias_call() -> None:
    inv, target = _collect({"kms"})
    assert _of(inv, "kms.key") == {} and inv.complete
    assert target.stats.calls[("kms", "ListAliases")] == 0


def test_rotation_status_of_a_key_that_cannot_rotate_is_absent_not_unreadable() -> None:
    # moto answers KeyRotationEnabled false for asymmetric keys; AWS refuses the call.
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "kms")
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"
    stub.add_response("list_keys", {"Keys": [{"KeyId": key, "KeyArn": arn}], "Truncated": False})
    stub.add_client_error(
        "get_key_rotation_status", "UnsupportedOperationException", "asymmetric key"
    )
    with stub:
        inv = collect_only(target, "kms.key", "RotationEnabled")
    stub.assert_no_pending_responses()
    (resource,) = inv.resources
    assert resource.config["RotationEnabled"] is None
    assert resource.unreadable == frozenset() and inv.complete


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


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
    inv, _ = _collect({"lambda"})
    functions = _of(inv, "lambda.function")
    secret = functions["with-secret"]
    assert secret.config["Environment"] == {"Variables": {"API_TOKEN": "<redacted>"}}
    assert "unit-test-token-value" not in json.dumps(secret.config)
    assert secret.config["Url"]["AuthType"] == "NONE"
    assert secret.config["Policy"]["Statement"][0]["Principal"] == "*"
    # No URL and no resource policy are "not configured", not failed reads.
    plain = functions["plain"]
    assert plain.config["Url"] is None and plain.config["Policy"] is None
    assert plain.unreadable == frozenset() and inv.complete


@mock_aws
def test_secrets_rds_and_dynamodb_settings_are_collected() -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="db-password", SecretString="unit-test-secret-value")
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="unit-test-password",
        PubliclyAccessible=True,
        BackupRetentionPeriod=3,
    )
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    inv, _ = _collect({"secretsmanager", "rds", "dynamodb"})
    secret = _of(inv, "secretsmanager.secret")["db-password"]
    assert "unit-test-secret-value" not in json.dumps(secret.config)
    assert secret.config.get("RotationEnabled") in (None, False)
    db = _of(inv, "rds.instance")["db"]
    assert (db.config["PubliclyAccessible"], db.config["BackupRetentionPeriod"]) == (True, 3)
    assert db.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db"
    table = _of(inv, "dynamodb.table")["orders"]
    assert table.arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    pitr = table.config["ContinuousBackups"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"
    assert inv.complete


def test_no_spec_or_hook_reads_secret_values() -> None:
    ops = {op for spec in load_specs() for _, op in spec.operations()}
    assert not ops & {"GetSecretValue", "BatchGetSecretValue", "GetParameter", "GetParameters"}


def test_workspaces_directories_get_their_ip_groups_only_when_they_name_some() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "workspaces")
    stub.add_response(
        "describe_workspace_directories",
        {
            "Directories": [
                {"DirectoryId": "d-1111111111", "DirectoryName": "corp", "ipGroupIds": ["wsipg-1"]},
                {"DirectoryId": "d-2222222222", "DirectoryName": "lab"},
            ]
        },
    )
    rules = [{"ipRule": "203.0.113.0/24", "ruleDesc": "office"}]
    stub.add_response(
        "describe_ip_groups", {"Result": [{"groupId": "wsipg-1", "userRules": rules}]}
    )
    with stub:
        inv = collect_only(target, "workspaces.directory", "IpGroups")
    stub.assert_no_pending_responses()
    directories = _of(inv, "workspaces.directory")
    assert directories["corp"].config["IpGroups"] == [{"groupId": "wsipg-1", "userRules": rules}]
    assert directories["lab"].config["IpGroups"] == []
    arn = f"arn:aws:workspaces:{REGION}:{ACCOUNT}:directory/d-1111111111"
    assert directories["corp"].arn == arn


def test_client_vpn_endpoints_are_read_through_the_ec2_client() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "ec2")
    stub.add_response(
        "describe_client_vpn_endpoints",
        {
            "ClientVpnEndpoints": [
                {
                    "ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0",
                    "Description": "staff-vpn",
                    "AuthenticationOptions": [{"Type": "certificate-authentication"}],
                    "ConnectionLogOptions": {"Enabled": False},
                    "Tags": [{"Key": "team", "Value": "it"}],
                }
            ]
        },
    )
    with stub:
        inv, _ = _collect({"clientvpn"}, target)
    (endpoint,) = inv.resources
    assert (endpoint.type, endpoint.name, endpoint.tags) == (
        "clientvpn.endpoint",
        "staff-vpn",
        {"team": "it"},
    )
    assert endpoint.arn.endswith(":client-vpn-endpoint/cvpn-endpoint-0123456789abcdef0")
    spec = next(s for s in load_specs() if s.service == "clientvpn")
    assert spec.iam_actions() == ["ec2:DescribeClientVpnEndpoints"]


def test_an_answer_that_cannot_be_parsed_is_an_issue_not_a_crash() -> None:
    # What moto's server sends for an operation it lacks: an HTML page botocore cannot parse.
    target = Target(boto3.Session(region_name=REGION))
    client, _ = stubbed(target, "ec2")

    def broken(*_: Any, **__: Any) -> Any:
        raise ResponseParserError("invalid XML received")

    client.get_paginator = lambda _name: type("P", (), {"paginate": broken})()
    inv, _ = _collect({"clientvpn"}, target)
    (placeholder,) = inv.resources
    assert placeholder.unlisted
    (issue,) = inv.issues
    assert (issue.kind, issue.error_code, issue.iam_action) == (
        IssueKind.ERROR,
        "ResponseParserError",
        "ec2:DescribeClientVpnEndpoints",
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [({"PackageType": "Image"}, "container"), ({"PackageType": "Zip"}, "abstracted")],
)
def test_lambda_service_class_follows_the_package_type(
    definitions: Any, config: dict[str, Any], expected: str
) -> None:
    assert definitions.catalog.service_class("lambda.function", config).value == expected
