"""IAM in the sandbox: people with and without MFA, a weak password policy, an admin user,
roles trusted by outsiders (one open to every AWS account), a forgotten admin policy and an
expired certificate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ADMIN_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
READ_REPORTS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::acme-reports", "arn:aws:s3:::acme-reports/*"],
        }
    ],
}
# The same grant as a list, kept unattached: "for emergencies", one attach away.
BREAK_GLASS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}],
}
# Every AWS account may assume it: a trust left open after a migration.
OPEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}
# A third party's auditor: only with the external id the vendor was given.
VENDOR_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "acme-7f3c1d9e"}},
        }
    ],
}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def seed(sb: Sandbox) -> None:
    iam = sb.client("iam")
    # Deliberately weak: 8 characters, reuse of the last 5 only.
    iam.update_account_password_policy(MinimumPasswordLength=8, PasswordReusePrevention=5)

    admin = iam.create_policy(
        PolicyName="AdminEverything", PolicyDocument=json.dumps(ADMIN_EVERYTHING)
    )
    reports = iam.create_policy(PolicyName="ReadReports", PolicyDocument=json.dumps(READ_REPORTS))
    iam.create_group(GroupName="platform-admins")
    iam.attach_group_policy(GroupName="platform-admins", PolicyArn=admin["Policy"]["Arn"])
    iam.create_group(GroupName="analysts")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=reports["Policy"]["Arn"])

    # alice: console user with MFA, permissions through a group (the good example).
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "platform"}])
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=mfa["VirtualMFADevice"]["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.add_user_to_group(UserName="alice", GroupName="platform-admins")

    # bob: console user without MFA, full admin attached directly, an access key.
    iam.create_user(UserName="bob", Tags=[{"Key": "team", "Value": "data"}])
    iam.create_login_profile(UserName="bob", Password="Summer2026!")
    iam.attach_user_policy(UserName="bob", PolicyArn=admin["Policy"]["Arn"])
    iam.create_access_key(UserName="bob")
    iam.add_user_to_group(UserName="bob", GroupName="analysts")

    # ci-deployer: a machine user with two active access keys.
    iam.create_user(UserName="ci-deployer")
    iam.create_access_key(UserName="ci-deployer")
    iam.create_access_key(UserName="ci-deployer")
    iam.add_user_to_group(UserName="ci-deployer", GroupName="analysts")

    iam.create_role(RoleName="app-server", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.create_instance_profile(InstanceProfileName="app-server")
    iam.add_role_to_instance_profile(InstanceProfileName="app-server", RoleName="app-server")
    iam.create_role(RoleName="legacy-partner", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST))
    iam.create_role(RoleName="vendor-audit", AssumeRolePolicyDocument=json.dumps(VENDOR_TRUST))

    iam.create_policy(PolicyName="BreakGlassAdmin", PolicyDocument=json.dumps(BREAK_GLASS))

    # A certificate from before ACM, never deleted (moto reports every uploaded
    # certificate as expired in 2012, whatever its dates: an expired one is what it can show).
    body, key = _self_signed_certificate("shop.example.com")
    iam.upload_server_certificate(
        ServerCertificateName="legacy-shop", CertificateBody=body, PrivateKey=key
    )


def _self_signed_certificate(name: str) -> tuple[str, str]:
    """A throwaway self-signed certificate and its key, made at seeding time (no key material
    lives in the repository)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issued = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued)
        .not_valid_after(issued + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(pem).decode(), private.decode()
