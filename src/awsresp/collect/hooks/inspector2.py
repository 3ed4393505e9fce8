"""Amazon Inspector: the account's own status, from an answer that may name other accounts
or none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, hook


@hook("inspector2", [("inspector2", "BatchGetAccountStatus")])
def inspector2_account_status(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    answer = ctx.call("inspector2", "BatchGetAccountStatus", {"accountIds": [ctx.account]})
    for account in answer.get("accounts", []):
        if account.get("accountId") == ctx.account:
            return [account for _ in items]
    # AWS always answers for the caller's own account; an answer without it says nothing.
    failed = answer.get("failedAccounts") or [{}]
    raise ClientError(
        {
            "Error": {
                "Code": str(failed[0].get("errorCode") or "AccountStatusMissing"),
                "Message": str(failed[0].get("errorMessage") or "no status for the account"),
            }
        },
        "BatchGetAccountStatus",
    )
