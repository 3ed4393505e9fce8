"""The IAM action that allows an API operation (usually the operation's own name)."""

from __future__ import annotations

# IAM actions whose name is not the name of the API operation they allow, with that operation
# ("client:Operation"). Every other action is named after its operation.
ACTION_OPERATIONS = {
    "s3:ListAllMyBuckets": "s3:ListBuckets",
    "s3:GetEncryptionConfiguration": "s3:GetBucketEncryption",
    "s3:GetBucketPublicAccessBlock": "s3:GetPublicAccessBlock",
    "s3:GetAccountPublicAccessBlock": "s3control:GetPublicAccessBlock",
    "s3:GetLifecycleConfiguration": "s3:GetBucketLifecycleConfiguration",
}
_BY_OPERATION = {op: action for action, op in ACTION_OPERATIONS.items()}
# boto3 clients whose IAM service prefix is another name.
_PREFIXES = {
    "s3control": "s3",
    "elb": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "accessanalyzer": "access-analyzer",
}


def action_for(client: str, operation: str) -> str:
    """The IAM action a call of `operation` on the boto3 `client` needs."""
    found = _BY_OPERATION.get(f"{client}:{operation}")
    return found or f"{_PREFIXES.get(client, client)}:{operation}"
