"""Re-judges a saved scan with other mappings, owners or accepted risks: the inventory
scan.json holds goes through the mapping stages again, with no AWS call."""

from __future__ import annotations

import dataclasses
import datetime as dt

from awsresp.errors import AwsrespError
from awsresp.model import AccountInfo, CollectionIssue, Inventory, Resource, ScanResult
from awsresp.scan import Definitions, evaluate
from awsresp.scanfile import ScanFile


def inventory_of(scan: ScanFile, source: str = "scan.json") -> Inventory:
    """The inventory a scan.json holds (resources with their redacted configuration, and the
    reads that failed), as the collector returned it."""
    if scan.organization is not None or len(scan.accounts) > 1:
        raise AwsrespError(
            f"{source} is an organization's merged scan: remap each account's scan.json"
            " (scans/date=.../account=.../run=.../scan.json of the partitions)"
        )
    if not scan.resources and scan.findings:
        raise AwsrespError(f"{source} holds no inventory (no resources): scan again")
    resources = tuple(
        Resource(
            type=r.type,
            id=r.id,
            arn=r.arn,
            name=r.name,
            account=r.account,
            region=r.region,
            tags=dict(r.tags),
            config=dict(r.config),
            unreadable=frozenset(r.unreadable),
            account_fact=r.account_fact,
            unlisted=r.unlisted,
        )
        for r in scan.resources
    )
    issues = tuple(
        CollectionIssue(
            service=i.service,
            region=i.region,
            operation=i.operation,
            error_code=i.error_code,
            kind=i.kind,
            message=i.message,
            resource_type=i.resource_type,
            iam_action=i.iam_action,
            account=i.account_id,
        )
        for i in scan.issues
    )
    return Inventory(
        account=scan.account,
        partition=scan.partition,
        regions=tuple(scan.regions),
        resources=resources,
        issues=issues,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        complete=scan.complete,
        services=tuple(scan.scope.services),
    )


def remap(scan: ScanFile, definitions: Definitions, source: str = "scan.json") -> ScanResult:
    """The saved scan judged again with `definitions`. Controls are judged at the instant the
    scan was made (key ages, certificate expiry, acceptances' expiry), so re-judging with the
    same files gives the same findings, whenever it runs."""
    inventory = inventory_of(scan, source)
    try:
        now = dt.datetime.fromisoformat(scan.scanned_at)
    except ValueError:
        raise AwsrespError(f"{source}: scanned_at {scan.scanned_at!r} is not a time") from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    info = None
    if scan.account_name or scan.ou_path:
        info = AccountInfo(scan.account, scan.account_name, scan.ou_path)
    known = {scan.account: info} if info else None
    accountable = definitions.accountability(now, known)
    result = evaluate(inventory, definitions, now, accountable=accountable)
    # The saved scan's instant as it was written (evaluate drops the microseconds).
    return dataclasses.replace(result, scanned_at=scan.scanned_at, account_info=info)
