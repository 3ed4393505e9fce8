"""The AWS Lambda entry point: scan one account within the time budget and write the outputs
to S3; for an organization, list its accounts (the Step Functions map's items) or scan one of
them into the day's partitions."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from awsresp import __version__
from awsresp.collect.session import DEFAULT_REGION, Target, default_endpoint, whoami
from awsresp.errors import AwsrespError
from awsresp.evaluate.userfile import read
from awsresp.export.files import output_files
from awsresp.export.partitions import RunId, S3Store, publish_set, write_listing, write_run
from awsresp.export.scanjson import summary_counts
from awsresp.model import AccountInfo, ScanResult
from awsresp.org import (
    DEFAULT_ROLE_ARN_TEMPLATE,
    DEFAULT_ROLE_NAME,
    OrgAccount,
    OrgScanner,
    RolePlan,
    Selection,
    list_organization,
    listing_document,
)
from awsresp.scan import Definitions, scan_account

# Collection stops this long before Lambda's own timeout, so the outputs are still written.
DEFAULT_MARGIN_SECONDS = 60.0


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment and its event."""

    bucket: str
    prefix: str
    kms_key_id: str | None
    regions: list[str]
    services: list[str]
    role_arn: str | None
    external_id: str | None
    margin_seconds: float
    # The owners and accept files: s3://BUCKET/KEY, or a path in the function's package.
    owners: str = ""
    accept: str = ""

    @classmethod
    def from_event(cls, event: dict[str, Any], env: dict[str, str]) -> Settings:
        bucket = env.get("AWSRESP_BUCKET", "")
        if not bucket:
            raise AwsrespError("AWSRESP_BUCKET is not set")
        regions = _listed(event.get("regions")) or _split(env.get("AWSRESP_REGIONS", ""))
        return cls(
            bucket=bucket,
            prefix=env.get("AWSRESP_PREFIX", "awsresp").strip("/"),
            kms_key_id=env.get("AWSRESP_KMS_KEY_ID") or None,
            regions=list(regions) or [env.get("AWS_REGION", DEFAULT_REGION)],
            services=_listed(event.get("services")) or _split(env.get("AWSRESP_SERVICES", "")),
            role_arn=event.get("role_arn") or None,
            external_id=event.get("external_id") or None,
            margin_seconds=float(env.get("AWSRESP_MARGIN_SECONDS", DEFAULT_MARGIN_SECONDS)),
            owners=env.get("AWSRESP_OWNERS", ""),
            accept=env.get("AWSRESP_ACCEPT", ""),
        )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _listed(value: Any) -> list[str]:
    """An event field given as a list or as one comma-separated string."""
    if isinstance(value, str):
        return _split(value)
    return [str(v) for v in value or []]


def user_file(where: str, s3: Any, env: dict[str, str]) -> tuple[str, str] | None:
    """(name, text) of an owners or accept file named by the function's configuration: an
    S3 object (s3://BUCKET/KEY, read with the function's own role) or a file packaged with
    the function (a relative path is taken from LAMBDA_TASK_ROOT)."""
    if not where:
        return None
    if where.startswith("s3://"):
        bucket, _, key = where.removeprefix("s3://").partition("/")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise AwsrespError(f"cannot read {where}: {code}") from None
        except BotoCoreError as exc:
            raise AwsrespError(f"cannot read {where}: {exc}") from None
        return where, bytes(body).decode("utf-8")
    path = Path(where)
    if not path.is_absolute():
        path = Path(env.get("LAMBDA_TASK_ROOT", ".")) / path
    return read(path)


def scan_session(settings: Settings) -> Any:
    """The function's own credentials, or the role named in the event (another account)."""
    if not settings.role_arn:
        return boto3.Session()
    params: dict[str, Any] = {"RoleArn": settings.role_arn, "RoleSessionName": "awsresp-scan"}
    if settings.external_id:
        params["ExternalId"] = settings.external_id
    creds = boto3.client("sts").assume_role(**params)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=os.environ.get("AWS_REGION", DEFAULT_REGION),
    )


def run_prefix(result: ScanResult, run: RunId) -> str:
    """account=<id>/date=<YYYY-MM-DD>/run=<run>/ (Hive-style) below the configured prefix."""
    return f"account={result.inventory.account}/date={run.date}/run={run.run}/"


def write_s3(
    result: ScanResult, s3: Any, bucket: str, prefix: str, kms_key_id: str | None
) -> list[str]:
    """Publishes the scan's files as a set under the run's prefix (SSE-KMS): every file,
    report.html included, then manifest.json last with each object's SHA-256. A failed
    put removes what was written; readers (`awsresp diff` on a prefix) take only runs with
    a manifest. Returns the keys, the manifest's last."""
    store = S3Store(s3, bucket, prefix, kms_key_id)
    started = dt.datetime.fromisoformat(result.scanned_at)
    run_id = RunId.new(started)
    about = {
        "tool_version": __version__,
        "account_id": result.inventory.account,
        "date": run_id.date,
        "run": run_id.run,
        "scanned_at": result.scanned_at,
        "complete": result.complete,
        "counts": summary_counts(result),
    }
    keys = publish_set(store, run_prefix(result, run_id), output_files(result), about)
    return [store.prefix + k for k in keys]


def run(event: dict[str, Any], context: LambdaContext, env: dict[str, str]) -> dict[str, Any]:
    settings = Settings.from_event(event, env)
    remaining = context.get_remaining_time_in_millis() / 1000.0
    deadline = time.monotonic() + remaining - settings.margin_seconds
    config_s3 = boto3.client("s3")
    definitions = (
        Definitions.load()
        .with_files(
            user_file(settings.owners, config_s3, env), user_file(settings.accept, config_s3, env)
        )
        .select(settings.services)
    )
    target = Target(scan_session(settings), endpoint_url=default_endpoint(None))
    result = scan_account(target, definitions, settings.regions, deadline=deadline)
    keys = write_s3(
        result, boto3.client("s3"), settings.bucket, settings.prefix, settings.kms_key_id
    )
    counts = summary_counts(result)
    summary = {
        "account": result.inventory.account,
        "regions": list(result.inventory.regions),
        "complete": result.complete,
        "gaps": counts["gaps"],
        "issues": counts["issues"],
        "warnings": list(result.warnings),
        "counts": counts,
        "bucket": settings.bucket,
        "s3_keys": keys,
        # Written last: the run is complete once it exists.
        "manifest": keys[-1],
    }
    # One JSON line in the function's log, so CloudWatch Logs Insights can query past runs.
    print(json.dumps({"awsresp": summary}, separators=(",", ":")))
    return summary


def _run_id(event: dict[str, Any]) -> RunId:
    """The organization run an invocation belongs to: the Step Functions execution's start
    time and id, so every account of one execution shares a day and a run id, and a
    retried invocation writes the same keys again."""
    started = event.get("started")
    when = dt.datetime.fromisoformat(str(started).replace("Z", "+00:00")) if started else None
    return RunId.new(when, str(event.get("execution") or "") or None)


def _role(env: dict[str, str]) -> RolePlan:
    return RolePlan(
        env.get("AWSRESP_ROLE_NAME") or DEFAULT_ROLE_NAME,
        env.get("AWSRESP_EXTERNAL_ID") or None,
        env.get("AWSRESP_ROLE_ARN_TEMPLATE") or DEFAULT_ROLE_ARN_TEMPLATE,
    ).validate()


def _store(settings: Settings) -> S3Store:
    return S3Store(boto3.client("s3"), settings.bucket, settings.prefix, settings.kms_key_id)


def list_accounts(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The first state of the organization schedule: the accounts to scan, written to
    accounts/date=.../run=.../accounts.json for the map to read (a map item each)."""
    settings = Settings.from_event(event, env)
    session = boto3.Session()
    if env.get("AWSRESP_ORG_ROLE_ARN"):  # listing from the management account
        from awsresp.collect.session import assume_role_session

        session = assume_role_session(
            session, session.client("sts"), env["AWSRESP_ORG_ROLE_ARN"], _role(env).external_id
        )
    target = Target(session, endpoint_url=default_endpoint(None))
    organization = list_organization(target, whoami(target).partition)
    selection = Selection.parse(
        _split(env.get("AWSRESP_ACCOUNTS", "")),
        _split(env.get("AWSRESP_OUS", "")),
        _split(env.get("AWSRESP_EXCLUDE_ACCOUNTS", "")),
    )
    chosen, skipped = selection.choose(organization)
    listing = listing_document(organization, chosen, skipped)
    run_id = _run_id(event)
    key = write_listing(_store(settings), run_id, listing)
    print(json.dumps({"awsresp": {"listed": len(chosen), "skipped": len(skipped), "key": key}}))
    return {
        "bucket": settings.bucket,
        "key": _store(settings).prefix + key,
        "accounts": len(chosen),
        "skipped": [a["account_id"] for a in listing["skipped"]],
        "date": run_id.date,
        "run": run_id.run,
    }


def scan_member(
    event: dict[str, Any], context: LambdaContext, env: dict[str, str]
) -> dict[str, Any]:
    """One map item: scans the account through the member role and writes the day's
    partitions, the manifest last. A role that is missing or denied is the account's
    issue rows (the run succeeds); an error while scanning or writing removes what was
    written and fails the invocation, for Step Functions to retry."""
    settings = Settings.from_event(event, env)
    item = event["account"]
    account = OrgAccount(
        AccountInfo(
            id=str(item["account_id"]),
            name=str(item.get("account_name", "")),
            ou_path=str(item.get("ou_path", "")),
            tags=dict(item.get("tags") or {}),
        ),
        str(item.get("state") or "ACTIVE"),
    )
    remaining = context.get_remaining_time_in_millis() / 1000.0
    deadline = time.monotonic() + remaining - settings.margin_seconds
    definitions = Definitions.load().select(settings.services)
    endpoint = default_endpoint(None)
    management = Target(boto3.Session(), endpoint_url=endpoint)
    identity = whoami(management)

    def make_target(session: Any) -> Target:
        return Target(session, endpoint_url=endpoint)

    def scan_one(target: Target, member: OrgAccount) -> ScanResult:
        return scan_account(
            target,
            definitions,
            settings.regions,
            deadline=deadline,
            account_info=member.info,
            expect_account=member.id,
        )

    scanner = OrgScanner(
        management,
        identity.account,
        identity.partition,
        _role(env),
        make_target,
        scan_one,
        settings.regions,
    )
    result, failed = scanner.scan(account)
    run_id = _run_id(event)
    services = [s.service for s in definitions.specs]
    keys = write_run(result, _store(settings), run_id, failed, services)
    summary = {
        "account": account.id,
        "state": "failed" if failed else "scanned",
        "complete": result.complete,
        "gaps": len(result.gaps),
        "issues": len(result.inventory.issues),
        "date": run_id.date,
        "run": run_id.run,
        "manifest": keys[-1],
    }
    print(json.dumps({"awsresp": summary}, separators=(",", ":")))
    return summary


def handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point; configuration errors raise, so the run counts as failed.

    The event picks the work: {"action": "list-accounts", ...} lists the organization;
    {"account": {...}, ...} scans one member account into partitions; anything else
    scans the function's own account (or `role_arn`'s) as the single-account schedule.
    """
    event = event or {}
    env = dict(os.environ)
    if event.get("action") == "list-accounts":
        return list_accounts(event, env)
    if isinstance(event.get("account"), dict):
        return scan_member(event, context, env)
    return run(event, context, env)
