"""IAM: the credential report is built on request; this waits until it is ready. The spec
reads it (collectors/iam.yaml: GetCredentialReport, its CSV as rows)."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, ready_hook

_REPORT_POLL_SECONDS = 1.0


_REPORT_MAX_POLLS = 30


@ready_hook("iam", operations=[("iam", "GenerateCredentialReport")])
def iam_credential_report_ready(ctx: HookContext) -> None:
    # The report is generated asynchronously by IAM; there is no botocore waiter for it,
    # so this is a bounded poll (about 30 s) and not a retry loop around failures. IAM
    # answers COMPLETE once a report of the last four hours is there (as Prowler polls).
    for attempt in range(_REPORT_MAX_POLLS):
        if attempt:
            time.sleep(_REPORT_POLL_SECONDS)
        answer = ctx.call_uncached("iam", "GenerateCredentialReport", {})
        if answer.get("State") == "COMPLETE":
            return
    raise ClientError(
        {"Error": {"Code": "ReportInProgress", "Message": "credential report not ready"}},
        "GetCredentialReport",
    )
