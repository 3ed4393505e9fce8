"""An AWS Organization: listing its accounts, choosing which to scan, and scanning them
concurrently, each through a role assumed in it; one account's failure is its issue rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import re
import string
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from awsresp.collect.calls import DEADLINE_EXCEEDED
from awsresp.collect.executor import classify, error_code, one_line
from awsresp.collect.session import DEFAULT_REGION, Target, assume_role_session, whoami
from awsresp.collect.throttle import InFlight, RateLimiter
from awsresp.errors import AwsrespError
from awsresp.export.partitions import RunId, Store, write_listing, write_run
from awsresp.model import AccountInfo, CollectionIssue, Inventory, IssueKind, ScanResult
from awsresp.scan import Definitions, scan_account

ACCOUNT_ID = re.compile(r"^\d{12}$")
OU_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")
# IAM's pattern for sts:AssumeRole's ExternalId.
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
DEFAULT_ROLE_NAME = "awsresp-scanner"
DEFAULT_ROLE_ARN_TEMPLATE = "arn:{partition}:iam::{account_id}:role/{role_name}"
TEMPLATE_FIELDS = frozenset({"partition", "account_id", "account_name", "role_name"})
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
ACTIVE = "ACTIVE"
# A failed account's issues are recorded under this service name (no collector has it).
ORG_SERVICE = "organizations"


@dataclass(frozen=True)
class OrgAccount:
    """A member account as Organizations lists it."""

    info: AccountInfo
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, ...
    ou_ids: tuple[str, ...] = ()  # the root's id first, then each OU down to the account's

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def active(self) -> bool:
        return self.state == ACTIVE


@dataclass(frozen=True)
class Organization:
    id: str
    management_account: str
    accounts: tuple[OrgAccount, ...]


def _check_ids(values: Sequence[str], pattern: re.Pattern[str], option: str) -> frozenset[str]:
    found = {v.strip() for value in values for v in value.split(",") if v.strip()}
    bad = sorted(v for v in found if not pattern.match(v))
    if bad:
        raise AwsrespError(f"{option}: not a valid id: {', '.join(bad)}")
    return frozenset(found)


@dataclass(frozen=True)
class Selection:
    """Which of the organization's accounts to scan: `--accounts`, `--ou` (with the OUs
    below it) and `--exclude-accounts`; suspended accounts are never scanned."""

    accounts: frozenset[str] = frozenset()
    ous: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, accounts: Sequence[str], ous: Sequence[str], exclude: Sequence[str]
    ) -> Selection:
        """Raises AwsrespError with a one-line reason for a malformed id."""
        return cls(
            _check_ids(accounts, ACCOUNT_ID, "--accounts"),
            _check_ids(ous, OU_ID, "--ou"),
            _check_ids(exclude, ACCOUNT_ID, "--exclude-accounts"),
        )

    def choose(self, org: Organization) -> tuple[list[OrgAccount], list[OrgAccount]]:
        """(accounts to scan, suspended accounts skipped), in the organization's order.
        An account or OU asked for that the organization does not have is an error."""
        listed = {a.id for a in org.accounts}
        ous = {ou for a in org.accounts for ou in a.ou_ids}
        for wanted, known, what in (
            (self.accounts, listed, "account"),
            (self.exclude, listed, "account"),
            (self.ous, ous, "organizational unit"),
        ):
            missing = sorted(wanted - known)
            if missing:
                raise AwsrespError(f"no {what} {', '.join(missing)} in organization {org.id}")
        chosen: list[OrgAccount] = []
        skipped: list[OrgAccount] = []
        for account in org.accounts:
            if self.accounts and account.id not in self.accounts:
                continue
            if self.ous and not self.ous & set(account.ou_ids):
                continue
            if account.id in self.exclude:
                continue
            (chosen if account.active else skipped).append(account)
        return chosen, skipped


@dataclass(frozen=True)
class RolePlan:
    """The role assumed in each member account."""

    name: str = DEFAULT_ROLE_NAME
    external_id: str | None = None
    arn_template: str = DEFAULT_ROLE_ARN_TEMPLATE

    def validate(self) -> RolePlan:
        """Raises AwsrespError with a one-line reason for a malformed option."""
        if not ROLE_NAME.match(self.name):
            raise AwsrespError(f"--role-name {self.name!r} is not a valid IAM role name")
        if self.external_id is not None and not EXTERNAL_ID.match(self.external_id):
            raise AwsrespError(
                "--external-id must be 2 to 1,224 characters of letters, digits and _+=,.@:/-"
            )
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(self.arn_template) if f}
        except ValueError as exc:
            raise AwsrespError(f"--role-arn-template: {exc}") from None
        unknown = sorted(fields - TEMPLATE_FIELDS)
        if unknown or "account_id" not in fields:
            raise AwsrespError(
                f"--role-arn-template must name {{account_id}} and may name"
                f" {', '.join('{' + f + '}' for f in sorted(TEMPLATE_FIELDS))}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        return self

    def arn(self, account: AccountInfo, partition: str) -> str:
        return self.arn_template.format(
            partition=partition,
            account_id=account.id,
            account_name=account.name,
            role_name=self.name,
        )


def home_region(partition: str) -> str:
    """Where a partition's global services (Organizations, IAM) answer."""
    return {"aws-us-gov": "us-gov-west-1", "aws-cn": "cn-northwest-1"}.get(partition, "us-east-1")


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items += page.get(key, [])
    return items


def list_organization(target: Target, partition: str = "aws", tags: bool = True) -> Organization:
    """Every account of the organization, with its name, OU path and (optionally) tags.

    Walks the tree from the root (one ListAccountsForParent and one
    ListOrganizationalUnitsForParent per OU), so each account's OU path comes with it;
    runs in the management account or a delegated administrator of Organizations.
    Raises AwsrespError when the caller may not list the organization.
    """
    org = target.client("organizations", home_region(partition))
    try:
        described = org.describe_organization()["Organization"]
        found: list[OrgAccount] = []
        parents: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
            (root["Id"], (root["Id"],), (root.get("Name") or "Root",))
            for root in _pages(org, "list_roots", "Roots")
        ]
        while parents:
            parent, ids, names = parents.pop(0)
            for account in _pages(org, "list_accounts_for_parent", "Accounts", ParentId=parent):
                info = AccountInfo(
                    id=account["Id"], name=account.get("Name", ""), ou_path="/".join(names)
                )
                # `State` replaces `Status` in newer answers; either says ACTIVE or not.
                state = str(account.get("State") or account.get("Status") or ACTIVE)
                found.append(OrgAccount(info, state, ids))
            for ou in _pages(
                org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
            ):
                parents.append((ou["Id"], (*ids, ou["Id"]), (*names, ou.get("Name", ou["Id"]))))
        if tags:
            found = _with_tags(org, found)
    except ClientError as exc:
        code = error_code(exc)
        raise AwsrespError(
            f"cannot list the organization's accounts (organizations:{exc.operation_name}:"
            f" {code}); run from the management account or a delegated administrator"
        ) from None
    found.sort(key=lambda a: a.id)
    return Organization(described["Id"], described.get("MasterAccountId", ""), tuple(found))


def _with_tags(org: Any, accounts: list[OrgAccount]) -> list[OrgAccount]:
    def tagged(account: OrgAccount) -> OrgAccount:
        if not account.active:
            return account
        pairs = _pages(org, "list_tags_for_resource", "Tags", ResourceId=account.id)
        tags = {str(t["Key"]): str(t.get("Value", "")) for t in pairs}
        return dataclasses.replace(account, info=dataclasses.replace(account.info, tags=tags))

    # A few at a time: the management account's Organizations rate cap paces them anyway.
    with ThreadPoolExecutor(4, thread_name_prefix="awsresp-org-tags") as pool:
        return list(pool.map(tagged, accounts))


def failed_result(
    account: AccountInfo, issue: CollectionIssue, partition: str, regions: Sequence[str]
) -> ScanResult:
    """An account that could not be scanned at all: no resources, one issue saying why."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    inventory = Inventory(
        account=account.id,
        partition=partition,
        regions=tuple(regions),
        resources=(),
        issues=(dataclasses.replace(issue, account=account.id),),
        started_at=now,
        finished_at=now,
        complete=False,
    )
    return ScanResult(inventory, (), (), now, account_info=account)


def account_issue(
    operation: str, code: str, kind: IssueKind, message: str, region: str, action: str = ""
) -> CollectionIssue:
    return CollectionIssue(
        service=ORG_SERVICE if not action else action.split(":", 1)[0],
        region=region,
        operation=operation,
        error_code=code,
        kind=kind,
        message=one_line(message),
        iam_action=action,
    )


# Scans one account through the session given (already acting in it).
ScanOne = Callable[[Target, OrgAccount], ScanResult]
# Builds the Target of one account: its own rate caps, the run's shared in-flight bound.
MakeTarget = Callable[[Any], Target]


@dataclass
class OrgScanner:
    """Scans member accounts concurrently, at most `max_accounts` at a time.

    Each account is scanned through `role` assumed from the management session (the
    caller's own account through the caller's session), as one single-account scan
    would be. An account that cannot be scanned (its role is missing or denies the
    caller, its identity is not the one asked for, or a credential error) becomes a
    result with issue rows and nothing else; the other accounts go on.
    """

    management: Target
    caller_account: str
    partition: str
    role: RolePlan
    make_target: MakeTarget
    scan_one: ScanOne
    regions: Sequence[str]
    max_accounts: int = 4
    progress: Callable[[str], None] = lambda _msg: None
    # time.monotonic() at which no account is started any more (--deadline); the accounts
    # under way stop calling AWS then too (scan_one passes it on).
    deadline: float | None = None
    done: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _session(self, account: OrgAccount) -> Any:
        if account.id == self.caller_account:
            return self.management.session
        region = self.management.session.region_name or home_region(self.partition)
        sts = self.management.client("sts", region)
        return assume_role_session(
            self.management.session,
            sts,
            self.role.arn(account.info, self.partition),
            self.role.external_id,
            region=region,
        )

    def scan(self, account: OrgAccount) -> tuple[ScanResult, bool]:
        """The account's scan, and whether it failed before any read of its own."""
        region = self.regions[0] if self.regions else home_region(self.partition)
        if self.deadline is not None and time.monotonic() >= self.deadline:
            issue = account_issue(
                "ScanAccount",
                DEADLINE_EXCEEDED,
                IssueKind.ERROR,
                "not scanned: the run's deadline had passed",
                region,
            )
            return failed_result(account.info, issue, self.partition, self.regions), True
        try:
            target = self.make_target(self._session(account))
            return self.scan_one(target, account), False
        except ClientError as exc:
            code = error_code(exc)
            message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
            action = "sts:AssumeRole" if exc.operation_name == "AssumeRole" else ""
            issue = account_issue(
                exc.operation_name or "AssumeRole", code, classify(code), message, region, action
            )
        except (AwsrespError, BotoCoreError) as exc:
            issue = account_issue(
                "ScanAccount", type(exc).__name__, IssueKind.ERROR, str(exc), region
            )
        return failed_result(account.info, issue, self.partition, self.regions), True

    def run(
        self, accounts: Sequence[OrgAccount], on_done: Callable[[ScanResult, bool], None]
    ) -> None:
        """Scans every account, handing each result to `on_done` as soon as it is ready
        (in the worker thread), so a run need not hold every account's scan at once."""
        total = len(accounts)

        def one(account: OrgAccount) -> None:
            result, failed = self.scan(account)
            on_done(result, failed)
            with self._lock:
                self.done += 1
                state = "complete" if result.complete else "incomplete"
                if failed:
                    state = "failed: " + result.inventory.issues[0].error_code
                name = f" ({account.info.name})" if account.info.name else ""
                self.progress(f"[{self.done}/{total} accounts] {account.id}{name}: {state}")

        with ThreadPoolExecutor(
            max(1, self.max_accounts), thread_name_prefix="awsresp-acct"
        ) as pool:
            for _ in pool.map(one, accounts):
                pass


def listing_document(
    org: Organization, chosen: Sequence[OrgAccount], skipped: Sequence[OrgAccount]
) -> dict[str, Any]:
    """What a run meant to scan: `items` (one per account to scan; the Step Functions
    map's items) and `skipped` (suspended accounts), with the organization's id."""

    def item(account: OrgAccount) -> dict[str, Any]:
        info = account.info
        return {
            "account_id": info.id,
            "account_name": info.name,
            "ou_path": info.ou_path,
            "tags": dict(info.tags),
            "state": account.state,
        }

    return {
        "organization": {"id": org.id, "management_account": org.management_account},
        "items": [item(a) for a in chosen],
        "skipped": [item(a) for a in skipped],
    }


@dataclass(frozen=True)
class OrgRun:
    run: RunId
    organization: Organization
    management: Target


def scan_organization(
    session: Any,
    definitions: Definitions,
    store: Store,
    *,
    endpoint_url: str | None = None,
    regions: Sequence[str] = (),
    all_regions: bool = False,
    selection: Selection | None = None,
    role: RolePlan | None = None,
    max_accounts: int = 4,
    max_workers: int = 16,
    make_limiter: Callable[[], RateLimiter] = RateLimiter,
    deadline: float | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> OrgRun:
    """Lists the organization from `session` (management account or delegated
    administrator), scans the chosen accounts and writes each one's partitions to
    `store` as it finishes. One bound on requests in flight (`max_workers`) holds for
    the whole run; each account has rate caps of its own (`make_limiter`)."""
    shared = InFlight(max_workers)

    def make_target(account_session: Any) -> Target:
        return Target(
            account_session,
            endpoint_url=endpoint_url,
            max_workers=max_workers,
            limiter=make_limiter(),
            shared_in_flight=shared,
        )

    management = make_target(session)
    identity = whoami(management, deadline)
    organization = list_organization(management, identity.partition)
    chosen, skipped = (selection or Selection()).choose(organization)
    run = RunId.new()
    write_listing(store, run, listing_document(organization, chosen, skipped))
    progress(
        f"organization {organization.id}: {len(organization.accounts)} account(s),"
        f" scanning {len(chosen)}" + (f", {len(skipped)} suspended" if skipped else "")
    )
    region_list = list(regions) or [session.region_name or DEFAULT_REGION]

    def scan_one(target: Target, account: OrgAccount) -> ScanResult:
        return scan_account(
            target,
            definitions,
            region_list,
            all_regions,
            account_info=account.info,
            expect_account=account.id,
            deadline=deadline,
        )

    services = [s.service for s in definitions.specs]
    scanner = OrgScanner(
        management,
        identity.account,
        identity.partition,
        role or RolePlan(),
        make_target,
        scan_one,
        region_list,
        max_accounts,
        progress,
        deadline,
    )

    def on_done(result: ScanResult, failed: bool) -> None:
        write_run(result, store, run, failed, services)
        # An account's clients and inventory are cycles that only the cyclic collector
        # frees, and the command line runs full collections rarely (cli._tune_gc): without
        # one per account, every finished account's clients would stay until the end.
        gc.collect()

    scanner.run(chosen, on_done)
    return OrgRun(run, organization, management)
