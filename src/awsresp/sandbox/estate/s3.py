"""S3 in the sandbox: a public website bucket, a well-protected data bucket, a log bucket and
a partner drop bucket any AWS account can write to."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _deny_insecure_transport(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def seed(sb: Sandbox) -> None:
    s3 = sb.client("s3")
    eu = sb.client("s3", "eu-west-1")

    # A public website bucket: public-read ACL, no Block Public Access, no encryption.
    s3.create_bucket(Bucket="acme-public-website", ACL="public-read")
    s3.put_bucket_tagging(
        Bucket="acme-public-website", Tagging={"TagSet": [{"Key": "app", "Value": "website"}]}
    )

    # Customer data in eu-west-1: blocked, KMS-encrypted, versioned, TLS-only, ACLs off.
    data = "acme-customer-data"
    eu.create_bucket(Bucket=data, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    eu.put_public_access_block(Bucket=data, PublicAccessBlockConfiguration=ALL_BLOCKED)
    eu.put_bucket_encryption(
        Bucket=data,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/acme-data",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    eu.put_bucket_versioning(Bucket=data, VersioningConfiguration={"Status": "Enabled"})
    eu.put_bucket_policy(Bucket=data, Policy=_deny_insecure_transport(data))
    eu.put_bucket_ownership_controls(
        Bucket=data, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    eu.put_bucket_lifecycle_configuration(
        Bucket=data,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old-versions",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                }
            ]
        },
    )

    # Access logs: blocked and encrypted, but not versioned.
    logs = "acme-access-logs"
    s3.create_bucket(Bucket=logs)
    s3.put_public_access_block(Bucket=logs, PublicAccessBlockConfiguration=ALL_BLOCKED)
    s3.put_bucket_encryption(
        Bucket=logs,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=logs,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-logs",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 365},
                }
            ]
        },
    )

    # A partner drop bucket: versioned, but its ACL lets any AWS account upload (the
    # AuthenticatedUsers group is every AWS customer, not this account's users), and old
    # versions are never expired. moto's canned "public-read-write" grants read only, so the
    # write grant is given explicitly.
    uploads = "acme-partner-uploads"
    s3.create_bucket(Bucket=uploads)
    owner = s3.get_bucket_acl(Bucket=uploads)["Owner"]["ID"]
    s3.put_bucket_acl(
        Bucket=uploads,
        GrantFullControl=f'id="{owner}"',
        GrantWrite='uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"',
    )
    s3.put_bucket_versioning(Bucket=uploads, VersioningConfiguration={"Status": "Enabled"})
