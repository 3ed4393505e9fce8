"""IAM: identities, their policies and credentials, as the identity controls read them."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse

import boto3
import jmespath
from moto import mock_aws

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
