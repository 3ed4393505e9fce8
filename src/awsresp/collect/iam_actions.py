"""The IAM action that allows an API operation: one place for the collector, the hooks'
declarations, `awsresp policy` and the issues' "IAM action that would fix it"."""

from __future__ import annotations

import functools

import botocore.loaders

# IAM actions whose name is not the name of the API operation they allow, with that operation
# ("client:Operation"). Every other action is named after its operation.
ACTION_OPERATIONS = {
    "s3:ListAllMyBuckets": "s3:ListBuckets",
    "s3:GetEncryptionConfiguration": "s3:GetBucketEncryption",
    "s3:GetBucketPublicAccessBlock": "s3:GetPublicAccessBlock",
    "s3:GetAccountPublicAccessBlock": "s3control:GetPublicAccessBlock",
    "s3:GetLifecycleConfiguration": "s3:GetBucketLifecycleConfiguration",
    "s3:GetReplicationConfiguration": "s3:GetBucketReplication",
}
_BY_OPERATION = {op: action for action, op in ACTION_OPERATIONS.items()}
# boto3 clients whose IAM prefix is neither the client's name nor botocore's signing name
# (CloudWatch signs as "monitoring" yet its actions are "cloudwatch:...").
_PREFIXES = {"cloudwatch": "cloudwatch", "s3control": "s3"}


@functools.cache
def _prefix(client: str) -> str:
    """IAM names actions after the service's signing name (`elasticloadbalancing:` for
    elbv2, `access-analyzer:` for accessanalyzer, `s3:` for s3control), which botocore's
    model holds, not after the boto3 client's name; _PREFIXES lists where it does not."""
    if client in _PREFIXES:
        return _PREFIXES[client]
    # botocore's loader, not a botocore session: a session reads the user's AWS config
    # files, which the sandbox must never open (tests/test_sandbox.py). A loader of its own,
    # let go with the model: only the prefix is kept (cached), not a second copy of every
    # service model next to the one the scan's clients load.
    try:
        loader = botocore.loaders.create_loader()
        meta = loader.load_service_model(client, "service-2").get("metadata", {})
    except Exception:  # an unknown client name: the name is the best guess there is
        return client
    return str(meta.get("signingName") or meta.get("endpointPrefix") or client)


def action_for(client: str, operation: str) -> str:
    """The IAM action a call of `operation` on the boto3 `client` needs."""
    found = _BY_OPERATION.get(f"{client}:{operation}")
    return found or f"{_prefix(client)}:{operation}"
