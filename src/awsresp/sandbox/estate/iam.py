"""IAM in the sandbox: people with and without MFA, a weak password policy, an admin user."""

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
