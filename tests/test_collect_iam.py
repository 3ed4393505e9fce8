"""IAM and Access Analyzer collectors: what the identity controls read, with moto in-process
(Stubber for Access Analyzer, which moto lacks)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.parse

import boto3
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.evaluate.findings import evaluate_control
from awsresp.model import Inventory, IssueKind, Resource
from awsresp.scan import Definitions

from .stubs import ACCOUNT, REGION, collect_only, stubbed

EU = "eu-west-1"
OPEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}
ORG_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        }
    ],
}
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _collect(services: set[str], regions: tuple[str, ...] = (REGION,)) -> tuple[Inventory, Target]:
    specs = [s for s in load_specs() if s.service in services]
    target = Target(boto3.Session(region_name=REGION))
    return Collector(target, specs, ACCOUNT, "aws", list(regions)).run(), target


def _of(inv: Inventory, rtype: str) -> dict[str, Resource]:
    return {r.id: r for r in inv.resources if r.type == rtype}


def _status(control_id: str, resource: Resource) -> str:
    control = Definitions.load().catalog.controls[control_id]
    outcome = evaluate_control(control, resource, dt.datetime.now(dt.UTC))
    return "not-applicable" if outcome is None else outcome[0].value


@mock_aws
def test_role_trust_policies_arrive_as_documents_and_are_judged() -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST))
    iam.create_role(RoleName="org-only", AssumeRolePolicyDocument=json.dumps(ORG_TRUST))
    inv, target = _collect({"iam"})
    roles = _of(inv, "iam.role")
    # boto3 decodes GetAccountAuthorizationDetails' URL-encoded document into a dict.
    assert roles["open"].config["AssumeRolePolicyDocument"] == OPEN_TRUST
    assert _status("access-rights.iam.role-trust-not-public", roles["open"]) == "fail"
    assert _status("access-rights.iam.role-trust-not-public", roles["org-only"]) == "pass"
    # The same document still URL-encoded (as IAM's raw API sends it) is judged the same.
    encoded = {"AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(OPEN_TRUST))}
    raw = dataclasses.replace(roles["open"], config=roles["open"].config | encoded)
    assert _status("access-rights.iam.role-trust-not-public", raw) == "fail"
    assert target.stats.calls[("iam", "GetAccountAuthorizationDetails")] == 1


@mock_aws
def test_unattached_admin_policy_and_console_user_with_unused_key() -> None:
    iam = boto3.client("iam", region_name=REGION)
    spare = iam.create_policy(PolicyName="BreakGlass", PolicyDocument=json.dumps(ADMIN))
    used = iam.create_policy(PolicyName="Everything", PolicyDocument=json.dumps(ADMIN))
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=used["Policy"]["Arn"])
    iam.create_user(UserName="dana")
    iam.create_login_profile(UserName="dana", Password="A-long-passphrase-2026")
    iam.create_access_key(UserName="dana")
    iam.create_user(UserName="robot")
    iam.create_access_key(UserName="robot")
    inv, _ = _collect({"iam"})
    policies = _of(inv, "iam.policy")
    unattached = "access-rights.iam.policy-unattached-no-full-admin"
    attached = "access-rights.iam.policy-no-full-admin"
    assert _status(unattached, policies[spare["Policy"]["Arn"]]) == "fail"
    assert _status(attached, policies[spare["Policy"]["Arn"]]) == "not-applicable"
    assert _status(unattached, policies[used["Policy"]["Arn"]]) == "not-applicable"
    assert _status(attached, policies[used["Policy"]["Arn"]]) == "fail"
    users = _of(inv, "iam.user")
    # The credential report says the key was never used (moto never records a use).
    assert users["dana"].config["Credentials"]["access_key_1_last_used_date"] is None
    assert _status("access-rights.iam.user-no-unused-initial-key", users["dana"]) == "fail"
    assert _status("access-rights.iam.user-no-unused-initial-key", users["robot"]) == (
        "not-applicable"
    )


@mock_aws
def test_account_fact_keeps_no_mfa_seed_and_joins_managed_policies_without_calls() -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="erin")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="erin")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="erin",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")  # unassigned: not listed
    inv, target = _collect({"iam"})
    (account,) = _of(inv, "iam.account").values()
    devices = account.config["VirtualMfaDevices"]
    assert devices == [
        {
            "SerialNumber": device["SerialNumber"],
            "User": f"arn:aws:iam::{ACCOUNT}:user/erin",
            "EnableDate": devices[0]["EnableDate"],
        }
    ]
    # The seed and QR code moto (like CreateVirtualMFADevice) answers never reach the model.
    assert "Base32StringSeed" not in json.dumps(account.config)
    assert "QRCodePNG" not in json.dumps(account.config)
    # moto loads no AWS-managed policy to attach, so the join is empty, and it made no call.
    assert account.config["AwsManagedPolicyAttachments"] == []
    assert target.stats.calls[("iam", "GetAccountAuthorizationDetails")] == 1
    assert _status("logging-detection.iam.support-role-exists", account) == "fail"


def test_aws_managed_attachments_are_grouped_by_policy_with_their_principals() -> None:
    from awsresp.collect.hooks.iam import iam_aws_managed_policy_attachments

    support = {
        "PolicyName": "AWSSupportAccess",
        "PolicyArn": "arn:aws:iam::aws:policy/AWSSupportAccess",
    }
    own = {"PolicyName": "Mine", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/Mine"}
    pages = [
        {
            "UserDetailList": [{"UserName": "u", "AttachedManagedPolicies": [support, own]}],
            "GroupDetailList": [],
            "RoleDetailList": [{"RoleName": "help", "AttachedManagedPolicies": [support]}],
        },
        {"RoleDetailList": [{"RoleName": "help2", "AttachedManagedPolicies": [support]}]},
    ]

    class Ctx:
        account, partition, region = ACCOUNT, "aws", REGION

        def call(self, service: str, operation: str, params: object) -> object:
            assert (service, operation) == ("iam", "GetAccountAuthorizationDetails")
            return pages

    (value,) = iam_aws_managed_policy_attachments(Ctx(), [{}])  # type: ignore[arg-type]
    assert value == [support | {"Users": ["u"], "Groups": [], "Roles": ["help", "help2"]}]


@mock_aws
def test_server_certificates_are_listed_with_their_expiry() -> None:
    from awsresp.sandbox.estate.iam import _self_signed_certificate

    body, key = _self_signed_certificate("shop.example.com")
    boto3.client("iam", region_name=REGION).upload_server_certificate(
        ServerCertificateName="shop", CertificateBody=body, PrivateKey=key
    )
    inv, _ = _collect({"iam"})
    cert = _of(inv, "iam.server-certificate")["shop"]
    assert cert.arn == f"arn:aws:iam::{ACCOUNT}:server-certificate/shop"
    # moto answers a fixed expiry in 2012 for every certificate: expired.
    assert cert.config["Expiration"].startswith("2012-")
    assert _status("data.iam.server-certificate-not-expired", cert) == "fail"
    assert "PrivateKey" not in json.dumps(cert.config)


def _analyzer(kind: str, status: str = "ACTIVE") -> dict[str, object]:
    return {
        "arn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/{kind.lower()}",
        "name": kind.lower(),
        "type": kind,
        "createdAt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "status": status,
    }


def test_access_analyzer_is_read_per_region_and_judged() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "accessanalyzer")
    stub.add_response(
        "list_analyzers",
        {"analyzers": [_analyzer("ACCOUNT_UNUSED_ACCESS")], "nextToken": "t"},
    )
    stub.add_response(
        "list_analyzers", {"analyzers": [_analyzer("ORGANIZATION")]}, {"nextToken": "t"}
    )
    with stub:
        inv = collect_only(target, "accessanalyzer.analyzers", "Analyzers")
    stub.assert_no_pending_responses()
    (fact,) = inv.resources
    assert fact.account_fact and fact.id == f"{ACCOUNT}/{REGION}"
    assert [a["type"] for a in fact.config["Analyzers"]] == [
        "ACCOUNT_UNUSED_ACCESS",
        "ORGANIZATION",
    ]
    control = "access-rights.accessanalyzer.external-access-analyzer-active"
    assert _status(control, fact) == "pass"
    unused_only = dataclasses.replace(fact, config={"Analyzers": fact.config["Analyzers"][:1]})
    assert _status(control, unused_only) == "fail"


def test_access_analyzer_denied_is_unknown_never_a_failure() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "accessanalyzer")
    stub.add_client_error("list_analyzers", "AccessDeniedException", http_status_code=403)
    with stub:
        inv = collect_only(target, "accessanalyzer.analyzers", "Analyzers")
    (fact,) = inv.resources
    assert fact.unreadable == frozenset({"Analyzers"})
    assert _status("access-rights.accessanalyzer.external-access-analyzer-active", fact) == (
        "unknown"
    )
    assert [(i.operation, i.iam_action, i.kind) for i in inv.issues] == [
        ("ListAnalyzers", "access-analyzer:ListAnalyzers", IssueKind.ACCESS_DENIED)
    ]
