"""Data service, runtime and endpoint collectors: moto in-process, Stubber where moto lacks them."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
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


@mock_aws
def test_rds_lists_manual_snapshots_with_who_may_restore_them() -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="owner",
        MasterUserPassword="unit-test-password",
    )
    rds.create_db_snapshot(DBInstanceIdentifier="db", DBSnapshotIdentifier="export")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="export", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-mysql",
        MasterUsername="owner",
        MasterUserPassword="unit-test-password",
    )
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora", DBClusterSnapshotIdentifier="c")
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="c", AttributeName="restore", ValuesToAdd=["210987654321"]
    )
    rds.create_event_subscription(
        SubscriptionName="ops",
        SnsTopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:ops",
        SourceType="db-instance",
        Enabled=True,
    )
    inv, target = _collect({"rds"})
    # moto keeps an automated snapshot of the instance too: automated ones are not listed.
    snapshots = _of(inv, "rds.snapshot")
    assert list(snapshots) == ["export"]
    assert snapshots["export"].config["Attributes"] == [
        {"AttributeName": "restore", "AttributeValues": ["all"]}
    ]
    assert snapshots["export"].arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:export"
    cluster_snapshot = _of(inv, "rds.cluster-snapshot")["c"]
    assert cluster_snapshot.config["Attributes"][0]["AttributeValues"] == ["210987654321"]
    # One attribute read per manual snapshot.
    assert target.stats.calls[("rds", "DescribeDBSnapshotAttributes")] == 1
    assert target.stats.calls[("rds", "DescribeDBClusterSnapshotAttributes")] == 1
    # The region's subscriptions are one account fact, read in one call.
    (events,) = (r for r in inv.resources if r.type == "rds.event-subscriptions")
    assert events.account_fact and events.id == f"{ACCOUNT}/{REGION}"
    assert [s["CustSubscriptionId"] for s in events.config["Subscriptions"]] == ["ops"]
    assert target.stats.calls[("rds", "DescribeEventSubscriptions")] == 1
    assert inv.complete


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
    inv, target = _collect({"lambda"})
    zones = {name: f.config["VpcZones"] for name, f in _of(inv, "lambda.function").items()}
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
    inv, target = _collect({"lambda"})
    assert _of(inv, "lambda.function")["plain"].config["VpcZones"] is None
    assert target.stats.calls[("ec2", "DescribeSubnets")] == 0


_TABLE_KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
_UNITS = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


@mock_aws
def test_on_demand_tables_make_no_auto_scaling_read() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", **_TABLE_KEY)
    inv, target = _collect({"dynamodb"})
    table = _of(inv, "dynamodb.table")["orders"]
    assert table.config["AutoScaling"] == {"Table": [], "Indexes": []}
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 0
    # The hook reads the same DescribeTable answer as the table's own detail: one call.
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 1


@mock_aws
def test_provisioned_tables_get_the_scaling_of_the_table_and_each_index() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    index = {
        "IndexName": "by-who",
        "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": _UNITS,
    }
    ddb.create_table(
        TableName="audit",
        ProvisionedThroughput=_UNITS,
        GlobalSecondaryIndexes=[index],
        KeySchema=_TABLE_KEY["KeySchema"],
        AttributeDefinitions=[
            *_TABLE_KEY["AttributeDefinitions"],
            {"AttributeName": "who", "AttributeType": "S"},
        ],
    )
    ddb.create_table(TableName="sessions", ProvisionedThroughput=_UNITS, **_TABLE_KEY)
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    for resource, dimension in [
        ("table/audit", "dynamodb:table:ReadCapacityUnits"),
        ("table/audit", "dynamodb:table:WriteCapacityUnits"),
        ("table/audit/index/by-who", "dynamodb:index:ReadCapacityUnits"),
    ]:
        scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource,
            ScalableDimension=dimension,
            MinCapacity=1,
            MaxCapacity=10,
        )
    inv, target = _collect({"dynamodb"})
    tables = _of(inv, "dynamodb.table")
    assert tables["audit"].config["AutoScaling"] == {
        "Table": ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"],
        "Indexes": [{"IndexName": "by-who", "Dimensions": ["dynamodb:index:ReadCapacityUnits"]}],
    }
    assert tables["sessions"].config["AutoScaling"] == {"Table": [], "Indexes": []}
    assert tables["audit"].config["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-who"
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 1
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 2
    assert inv.complete


class _Tables:
    """A hook context whose DescribeTable fails for the table named 'gone'."""

    account, partition, region = ACCOUNT, "aws", REGION

    def call(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        if operation == "DescribeTable":
            if params["TableName"] == "gone":
                error = {"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}
                raise ClientError(error, operation)
            return {"Table": {"TableName": params["TableName"]}}
        scalable = {"ResourceId": "table/kept", "ScalableDimension": "dynamodb:table:Read"}
        return [{"ScalableTargets": [scalable]}]


def test_a_table_that_cannot_be_described_has_no_scaling_and_spoils_no_other() -> None:
    from awsresp.collect.hooks.dynamodb import dynamodb_table_autoscaling

    out = dynamodb_table_autoscaling(_Tables(), [{"Value": "gone"}, {"Value": "kept"}])  # type: ignore[arg-type]
    # The table's own Table detail records the failure; its scaling is unknown, not empty.
    assert out == [None, {"Table": ["dynamodb:table:Read"], "Indexes": []}]


@mock_aws
def test_dax_clusters_carry_their_encryption_settings() -> None:
    dax = boto3.client("dax", region_name=REGION)
    dax.create_cluster(
        ClusterName="cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/dax",
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    inv, _ = _collect({"dax"})
    cache = _of(inv, "dax.cluster")["cache"]
    assert cache.arn == f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/cache"
    assert (cache.config["SSEDescription"], cache.config["ClusterEndpointEncryptionType"]) == (
        {"Status": "ENABLED"},
        "TLS",
    )
    assert inv.complete
