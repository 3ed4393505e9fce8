"""A moto organization for organization tests: seven accounts in four OUs with different
estates, one without the scanner role, one whose role is denied a service, one suspended;
IAM is enforced, so denials are moto's own answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from awsresp.collect.policy import ORG_LISTING_ACTIONS, policy_document
from awsresp.collect.specs import load_specs

MANAGEMENT = "123456789012"
REGION = "us-east-1"
ROLE = "awsresp-scanner"
EXTERNAL_ID = "awsresp-test-external-id"
# Two services keep the test quick; the engine is the single-account scan's.
SERVICES = ("s3", "iam")


@dataclass
class Org:
    """What the fixture made: account ids by name, OU paths by name, the scanner's session."""

    ids: dict[str, str] = field(default_factory=dict)
    ou_paths: dict[str, str] = field(default_factory=dict)
    ou_ids: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, list[str]] = field(default_factory=dict)
    session: Any = None
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def scanned(self) -> list[str]:
        return [n for n in self.ids if n != "closed"]


# One loader for every session the fixture makes: each model file is parsed once (a new
# session would parse EC2's 2 MB model again, about half a second each time).
_LOADER = botocore.loaders.create_loader()


def session(**credentials: str) -> Any:
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, region_name=REGION, **credentials)


def _member(account: str) -> Any:
    # moto switches account on AssumeRole into any role ARN (the role need not exist).
    creds = (
        session()
        .client("sts")
        .assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="seed",
        )["Credentials"]
    )
    return session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _read_policy() -> str:
    specs = [s for s in load_specs() if s.service in SERVICES]
    document = policy_document(specs)
    # moto names some S3 actions after their operations (s3:GetPublicAccessBlock where
    # IAM says s3:GetBucketPublicAccessBlock): reads are allowed under both names.
    document["Statement"].append(
        {"Sid": "MotoNames", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}
    )
    return json.dumps(document)


def _seed(account: Any, name: str, n_buckets: int, public: bool, users: int) -> list[str]:
    s3 = account.client("s3")
    names = [f"{name}-data-{i}" for i in range(n_buckets)]
    for i, bucket in enumerate(names):
        s3.create_bucket(Bucket=bucket)
        if i % 2 == 0:
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
    if public:
        s3.put_bucket_policy(
            Bucket=names[0],
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{names[0]}/*",
                        }
                    ],
                }
            ),
        )
    iam = account.client("iam")
    for i in range(users):
        iam.create_user(UserName=f"{name}-user-{i}")
    return names


def _scanner_role(account: Any, deny: str | None) -> None:
    iam = account.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=ROLE, PolicyName="read", PolicyDocument=_read_policy())
    if deny:
        statement = {"Effect": "Deny", "Action": f"{deny}:*", "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_role_policy(RoleName=ROLE, PolicyName="deny", PolicyDocument=json.dumps(document))


# name: (OU path below Root, buckets, a public bucket policy, IAM users, role: "ok",
# "missing" or a service the role is denied)
ACCOUNTS: dict[str, tuple[str, int, bool, int, str]] = {
    "web-1": ("Prod/Web", 3, True, 1, "ok"),
    "web-2": ("Prod/Web", 1, False, 2, "ok"),
    "data": ("Prod", 4, False, 0, "ok"),
    "dev": ("Dev", 2, True, 3, "ok"),
    "norole": ("Dev", 1, False, 1, "missing"),
    "denied": ("Sandbox", 2, False, 1, "s3"),
    "closed": ("Sandbox", 0, False, 0, "ok"),
}


@contextmanager
def organization() -> Iterator[Org]:
    """The organization, then IAM enforced for everything the block does."""
    with mock_aws():
        made = Org()
        org = session().client("organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        parents = {"": root}
        for path in sorted({p for p, *_ in ACCOUNTS.values()}):
            parent = ""
            for part in path.split("/"):
                here = f"{parent}/{part}" if parent else part
                if here not in parents:
                    ou = org.create_organizational_unit(ParentId=parents[parent], Name=part)
                    parents[here] = ou["OrganizationalUnit"]["Id"]
                    made.ou_ids[here] = parents[here]
                parent = here
        made.ou_paths["management"] = "Root"
        for name, (path, buckets, public, users, role) in ACCOUNTS.items():
            created = org.create_account(
                AccountName=name, Email=f"{name}@example.com", Tags=[{"Key": "team", "Value": name}]
            )
            account = created["CreateAccountStatus"]["AccountId"]
            org.move_account(
                AccountId=account, SourceParentId=root, DestinationParentId=parents[path]
            )
            made.ids[name] = account
            made.ou_paths[name] = f"Root/{path}"
            member = _member(account)
            made.buckets[name] = _seed(member, name, buckets, public, users)
            if role != "missing":
                _scanner_role(member, None if role == "ok" else role)
        org.close_account(AccountId=made.ids["closed"])
        made.buckets["management"] = _seed(session(), "mgmt", 1, False, 0)
        # The scanner: lists the organization and may assume the role where it exists
        # (the StackSet's accounts); in its own account it reads with its own rights.
        iam = session().client("iam")
        iam.create_user(UserName="org-scanner")
        roles = [
            f"arn:aws:iam::{made.ids[n]}:role/{ROLE}"
            for n, spec in ACCOUNTS.items()
            if spec[4] != "missing"
        ]
        statements = [
            {"Effect": "Allow", "Action": list(ORG_LISTING_ACTIONS), "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": roles},
        ]
        iam.put_user_policy(
            UserName="org-scanner",
            PolicyName="org",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        iam.put_user_policy(
            UserName="org-scanner", PolicyName="read", PolicyDocument=_read_policy()
        )
        key = iam.create_access_key(UserName="org-scanner")["AccessKey"]
        made.keys = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
        made.session = session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        with enable_iam_authentication():
            yield made
