"""IAM: identities, their policies and credentials, as the identity controls read them."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import boto3
import jmespath
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from awsresp.collect import hooks
from awsresp.collect.calls import Calls
from awsresp.collect.executor import Collector
from awsresp.collect.hooks import iam as iam_hooks
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import IssueKind

from ..stubs import ACCOUNT, REGION
from .conftest import (
    by_id,
    collect,
    judge,
)

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


@mock_aws
def test_role_trust_policies_arrive_as_documents_and_are_judged() -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST))
    iam.create_role(RoleName="org-only", AssumeRolePolicyDocument=json.dumps(ORG_TRUST))
    inv, target = collect({"iam"})
    roles = by_id(inv, "iam.role")
    # boto3 decodes GetAccountAuthorizationDetails' URL-encoded document into a dict.
    assert roles["open"].config["AssumeRolePolicyDocument"] == OPEN_TRUST
    assert judge("access-rights.iam.role-trust-not-public", roles["open"]) == "fail"
    assert judge("access-rights.iam.role-trust-not-public", roles["org-only"]) == "pass"
    # The same document still URL-encoded (as IAM's raw API sends it) is judged the same.
    encoded = {"AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(OPEN_TRUST))}
    raw = dataclasses.replace(roles["open"], config=roles["open"].config | encoded)
    assert judge("access-rights.iam.role-trust-not-public", raw) == "fail"
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
    inv, _ = collect({"iam"})
    policies = by_id(inv, "iam.policy")
    unattached = "access-rights.iam.policy-unattached-no-full-admin"
    attached = "access-rights.iam.policy-no-full-admin"
    assert judge(unattached, policies[spare["Policy"]["Arn"]]) == "fail"
    assert judge(attached, policies[spare["Policy"]["Arn"]]) == "not-applicable"
    assert judge(unattached, policies[used["Policy"]["Arn"]]) == "not-applicable"
    assert judge(attached, policies[used["Policy"]["Arn"]]) == "fail"
    users = by_id(inv, "iam.user")
    # The credential report says the key was never used (moto never records a use).
    assert users["dana"].config["Credentials"]["access_key_1_last_used_date"] is None
    assert judge("access-rights.iam.user-no-unused-initial-key", users["dana"]) == "fail"
    assert judge("access-rights.iam.user-no-unused-initial-key", users["robot"]) == (
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
    inv, target = collect({"iam"})
    (account,) = by_id(inv, "iam.account").values()
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
    # moto loads no AWS-managed policy to attach, so no role is listed, and no call of its own.
    assert account.config["RoleAwsManagedPolicies"] == []
    assert target.stats.calls[("iam", "GetAccountAuthorizationDetails")] == 1
    assert judge("logging-detection.iam.support-role-exists", account) == "fail"


def test_roles_are_listed_with_their_aws_managed_policies_only() -> None:
    """The spec's own expression over GetAccountAuthorizationDetails pages: roles with an
    AWS-managed policy (any partition), customer policies and users left out."""
    from awsresp.collect.specs import load_specs

    (res,) = [r for s in load_specs() for r in s.resources if r.type == "iam.account"]
    (detail,) = [d for d in res.details if d.key == "RoleAwsManagedPolicies"]
    assert detail.call is not None and detail.call.result
    support = {
        "PolicyName": "AWSSupportAccess",
        "PolicyArn": "arn:aws-us-gov:iam::aws:policy/AWSSupportAccess",
    }
    own = {"PolicyName": "Mine", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/Mine"}
    pages = [
        {
            "UserDetailList": [{"UserName": "u", "AttachedManagedPolicies": [support, own]}],
            "GroupDetailList": [],
            "RoleDetailList": [
                {"RoleName": "help", "AttachedManagedPolicies": [support, own]},
                {"RoleName": "mine-only", "AttachedManagedPolicies": [own]},
            ],
        },
        {"RoleDetailList": [{"RoleName": "help2", "AttachedManagedPolicies": [support]}]},
    ]
    arn = support["PolicyArn"]
    assert jmespath.search(detail.call.result, pages) == [
        {"RoleName": "help", "AwsManagedPolicyArns": [arn]},
        {"RoleName": "help2", "AwsManagedPolicyArns": [arn]},
    ]


@mock_aws
def test_server_certificates_are_listed_with_their_expiry() -> None:
    from awsresp.sandbox.estate.iam import _self_signed_certificate

    body, key = _self_signed_certificate("shop.example.com")
    boto3.client("iam", region_name=REGION).upload_server_certificate(
        ServerCertificateName="shop", CertificateBody=body, PrivateKey=key
    )
    inv, _ = collect({"iam"})
    cert = by_id(inv, "iam.server-certificate")["shop"]
    assert cert.arn == f"arn:aws:iam::{ACCOUNT}:server-certificate/shop"
    # moto answers a fixed expiry in 2012 for every certificate: expired.
    assert cert.config["Expiration"].startswith("2012-")
    assert judge("data.iam.server-certificate-not-expired", cert) == "fail"
    assert "PrivateKey" not in json.dumps(cert.config)


# IAM's own columns and words (docs.aws.amazon.com, "Getting credential reports"): the root
# user's row says not_supported for its password, N/A for what never happened,
# no_information where IAM has no data, and the cert columns end the row.
REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,"
    "2024-05-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    f"dana,arn:aws:iam::{ACCOUNT}:user/dana,2024-01-02T03:04:05+00:00,true,no_information,"
    "2024-01-02T03:04:05+00:00,N/A,false,true,2024-01-02T03:04:06+00:00,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
)
DANA = {
    "user": "dana",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/dana",
    "user_creation_time": "2024-01-02T03:04:05+00:00",
    "password_enabled": True,
    "password_last_used": None,
    "password_last_changed": "2024-01-02T03:04:05+00:00",
    "password_next_rotation": None,
    "mfa_active": False,
    "access_key_1_active": True,
    "access_key_1_last_rotated": "2024-01-02T03:04:06+00:00",
    "access_key_1_last_used_date": None,
    "access_key_1_last_used_region": None,
    "access_key_1_last_used_service": None,
    "access_key_2_active": False,
    "access_key_2_last_rotated": None,
    "access_key_2_last_used_date": None,
    "access_key_2_last_used_region": None,
    "access_key_2_last_used_service": None,
    "cert_1_active": False,
    "cert_1_last_rotated": None,
    "cert_2_active": False,
    "cert_2_last_rotated": None,
}


def _iam_answers(monkeypatch: pytest.MonkeyPatch, **methods: Callable[..., Any]) -> dict[str, int]:
    """IAM clients whose named methods answer as given (moto answers the rest); how often
    each was called."""
    real = boto3.Session.client
    called: dict[str, int] = dict.fromkeys(methods, 0)

    def client(self: Any, service: str, *a: Any, **kw: Any) -> Any:
        c = real(self, service, *a, **kw)
        if service == "iam":
            for name, fn in methods.items():

                def counted(fn: Callable[..., Any] = fn, name: str = name, **kw: Any) -> Any:
                    called[name] += 1
                    return fn(**kw)

                setattr(c, name, counted)
        return c

    monkeypatch.setattr(boto3.Session, "client", client)
    return called


@mock_aws
def test_report_fields_come_from_one_read_of_the_report_shared_by_account_and_users() -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="dana")
    iam.create_login_profile(UserName="dana", Password="A-long-passphrase-2026")
    iam.create_access_key(UserName="dana")
    iam.create_user(UserName="robot")
    inv, target = collect({"iam"})
    (account,) = by_id(inv, "iam.account").values()
    users = by_id(inv, "iam.user")
    rows = {row["user"]: row for row in account.config["CredentialReport"]}
    assert set(rows) == {"dana", "robot"}  # moto's report has no <root_account> row
    for name, user in users.items():
        assert user.config["Credentials"] == rows[name]
        assert not user.unreadable
    dana = users["dana"].config["Credentials"]
    assert set(dana) == set(DANA)
    assert (dana["password_enabled"], dana["mfa_active"], dana["access_key_1_active"]) == (
        True,
        False,
        True,
    )
    assert dana["access_key_2_last_rotated"] is None
    assert judge("identity-directory.iam.user-console-mfa", users["dana"]) == "fail"
    # One report for both types: one GetCredentialReport per scan, after moto's STARTED
    # and then COMPLETE answers to GenerateCredentialReport.
    assert target.stats.calls[("iam", "GetCredentialReport")] == 1
    assert target.stats.calls[("iam", "GenerateCredentialReport")] == 2
    assert inv.complete


@mock_aws
def test_report_rows_are_read_with_iams_words_for_nothing_as_null(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="dana")
    iam.create_user(UserName="newcomer")  # created after the report: no row yet
    _iam_answers(
        monkeypatch,
        generate_credential_report=lambda: {"State": "COMPLETE"},
        get_credential_report=lambda: {"Content": REPORT.encode(), "ReportFormat": "text/csv"},
    )
    inv, _ = collect({"iam"})
    (account,) = by_id(inv, "iam.account").values()
    root = {**dict.fromkeys(DANA), "user": "<root_account>"}
    root |= {
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "user_creation_time": "2020-01-01T00:00:00+00:00",
        "password_last_used": "2024-05-01T10:00:00+00:00",
        "mfa_active": True,
    }
    root |= {k: False for k in DANA if k.endswith("_active") and k != "mfa_active"}
    assert account.config["CredentialReport"] == [root, DANA]
    users = by_id(inv, "iam.user")
    assert users["dana"].config["Credentials"] == DANA
    # Not in the report is nothing to judge, not an unreadable field.
    assert users["newcomer"].config["Credentials"] is None
    assert not users["newcomer"].unreadable
    assert judge("identity-directory.iam.user-mfa-enabled", users["newcomer"]) == ("not-applicable")
    assert judge("access-rights.iam.root-no-access-keys", account) == "pass"


@mock_aws
def test_a_report_never_ready_leaves_both_fields_unreadable_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(iam_hooks, "_REPORT_POLL_SECONDS", 0.0)
    boto3.client("iam", region_name=REGION).create_user(UserName="dana")
    called = _iam_answers(
        monkeypatch,
        generate_credential_report=lambda: {"State": "STARTED"},
        get_credential_report=lambda: {"Content": REPORT.encode()},
    )
    inv, _ = collect({"iam"})
    (account,) = by_id(inv, "iam.account").values()
    user = by_id(inv, "iam.user")["dana"]
    assert account.unreadable == frozenset({"CredentialReport"})
    assert user.unreadable == frozenset({"Credentials"})
    assert (account.config["CredentialReport"], user.config["Credentials"]) == (None, None)
    issues = [(i.resource_type, i.operation, i.error_code, i.kind) for i in inv.issues]
    assert issues == [
        ("iam.account", "GenerateCredentialReport", "ReportInProgress", IssueKind.ERROR),
        ("iam.user", "GenerateCredentialReport", "ReportInProgress", IssueKind.ERROR),
    ]
    assert all("Traceback" not in i.message for i in inv.issues)
    assert {i.iam_action for i in inv.issues} == {"iam:GenerateCredentialReport"}
    # The bounded poll ran once for the scan; the report was never read.
    assert called == {"generate_credential_report": 30, "get_credential_report": 0}
    assert judge("access-rights.iam.root-not-used-recently", account) == "unknown"
    assert judge("identity-directory.iam.user-mfa-enabled", user) == "unknown"


@mock_aws
def test_generating_the_report_denied_names_its_action(monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("iam", region_name=REGION).create_user(UserName="dana")

    def denied() -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not authorized"}},
            "GenerateCredentialReport",
        )

    _iam_answers(monkeypatch, generate_credential_report=denied)
    inv, target = collect({"iam"})
    (account,) = by_id(inv, "iam.account").values()
    assert account.unreadable == frozenset({"CredentialReport"})
    assert by_id(inv, "iam.user")["dana"].unreadable == frozenset({"Credentials"})
    assert [(i.resource_type, i.iam_action, i.kind) for i in inv.issues] == [
        ("iam.account", "iam:GenerateCredentialReport", IssueKind.ACCESS_DENIED),
        ("iam.user", "iam:GenerateCredentialReport", IssueKind.ACCESS_DENIED),
    ]
    assert target.stats.calls[("iam", "GetCredentialReport")] == 0


@mock_aws
def test_a_blob_is_text_only_where_a_spec_says_so() -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    iam.generate_credential_report()
    specs = [s for s in load_specs() if s.service == "iam"]
    target = Target(boto3.Session(region_name=REGION))
    calls = Collector(target, specs, ACCOUNT, "aws", [REGION]).calls
    assert target.text == {("iam", "GetCredentialReport"): ("Content",)}
    report = calls.cached("iam", REGION, "GetCredentialReport", {})
    assert report["Content"].startswith("user,arn,")
    # The MFA devices' seeds and QR codes are blobs: never text, even read in full.
    (device,) = calls.cached("iam", REGION, "ListVirtualMFADevices", {})[0]["VirtualMFADevices"]
    assert device["Base32StringSeed"].endswith(" bytes>")
    assert device["QRCodePNG"].endswith(" bytes>")
    # Without `text`, the report's Content is a blob like any other.
    plain = Calls(target.client, service_budget=60.0)
    content = plain.cached("iam", REGION, "GetCredentialReport", {})["Content"]
    assert content.startswith("<") and content.endswith(" bytes>")


def test_the_report_waits_for_the_shipped_ready_hook() -> None:
    ready = hooks.HOOKS["iam_credential_report_ready"]
    assert (ready.kind, ready.operations) == ("ready", (("iam", "GenerateCredentialReport"),))
    (spec,) = [s for s in load_specs() if s.service == "iam"]
    details = {(r.type, d.key): d for r in spec.resources for d in r.details}
    for key in (("iam.account", "CredentialReport"), ("iam.user", "Credentials")):
        detail = details[key]
        assert detail.ready == "iam_credential_report_ready" and not detail.hook
        assert detail.call is not None and detail.call.text == ("Content",)
