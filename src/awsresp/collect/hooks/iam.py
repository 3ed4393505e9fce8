"""IAM: the credential report is built on request; this waits until it is ready. The spec
reads it (collectors/iam.yaml: GetCredentialReport, its CSV as rows)."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, ready_hook

# Waits between polls: a quarter second, doubling up to a second (a report is often ready
# by the second ask: moto answers STARTED, then COMPLETE), at most 30 asks (about 28 s).
_REPORT_FIRST_WAIT = 0.25
_REPORT_POLL_SECONDS = 1.0
_REPORT_MAX_POLLS = 30


@ready_hook("iam", operations=[("iam", "GenerateCredentialReport")])
def iam_credential_report_ready(ctx: HookContext) -> None:
    # The report is generated asynchronously by IAM; there is no botocore waiter for it,
    # so this is a bounded poll (about 30 s) and not a retry loop around failures. IAM
    # answers COMPLETE once a report of the last four hours is there (as Prowler polls).
    for attempt in range(_REPORT_MAX_POLLS):
        if attempt:
            time.sleep(min(_REPORT_POLL_SECONDS, _REPORT_FIRST_WAIT * 2 ** (attempt - 1)))
        answer = ctx.call_uncached("iam", "GenerateCredentialReport", {})
        if answer.get("State") == "COMPLETE":
            return
    # Named after the call that was polled, so the issue names its IAM action.
    raise ClientError(
        {"Error": {"Code": "ReportInProgress", "Message": "credential report not ready"}},
        "GenerateCredentialReport",
    )
