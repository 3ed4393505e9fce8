"""A scan's tables as Hive-style partitions in a store (S3 or a folder), one prefix per
table, with a manifest written last that readers require, and reading the runs of a day back."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from awsresp import __version__
from awsresp.errors import AwsrespError
from awsresp.export.files import table_rows
from awsresp.export.report import ReportFormat, render_report
from awsresp.export.scanjson import iter_scan_json, scan_model, summary_counts
from awsresp.export.tables import write_csv
from awsresp.model import ScanResult

# One prefix per table, so Athena reads each on its own:
#   <table>/date=<YYYY-MM-DD>/account=<id>/run=<run>/<table>.csv
# The date comes first: Athena projects it (the one partition it can enumerate without
# knowing the accounts) and reads the account and run prefixes below it; a reader of one
# day lists one prefix per table.
TABLES = ("findings", "matrix", "gaps", "issues")
SCANS = "scans"  # scan.json of each run (not an Athena table: nested JSON)
REPORTS = "reports"  # report.html of each run (for people)
MANIFESTS = "manifests"  # one single-line JSON object per finished run, written last
ACCOUNTS = "accounts"  # the account list of an organization run (the map's items)
MANIFEST_VERSION = 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTENT = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
}
MANIFEST = "manifest.json"


class Store(Protocol):
    """Where partitions live: keys are '/'-separated paths below the store's root."""

    where: str

    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def keys(self, prefix: str) -> list[str]: ...
    def delete(self, keys: Sequence[str]) -> None: ...


class LocalStore:
    """A folder; each object is written to a temporary file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def put(self, key: str, body: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise AwsrespError(f"cannot read {self.root / key}: {exc.strerror}") from None

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                (self.root / key).unlink()


class S3Store:
    """An S3 bucket and key prefix; objects are encrypted with SSE-KMS."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", kms_key_id: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.kms_key_id = kms_key_id
        self.where = f"s3://{bucket}/{self.prefix}"

    def put(self, key: str, body: bytes) -> None:
        extra: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        content_type = _CONTENT.get(os.path.splitext(key)[1], "application/octet-stream")
        self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=body, ContentType=content_type, **extra
        )

    def get(self, key: str) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        return bytes(answer["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            found += [obj["Key"][len(self.prefix) :] for obj in page.get("Contents", [])]
        return sorted(found)

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at most
            batch = [{"Key": self.prefix + k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def parse_store(where: str, s3_client: Any = None) -> Store:
    """`s3://bucket/prefix` or a local folder."""
    if where.startswith("s3://"):
        bucket, _, prefix = where[5:].partition("/")
        if not bucket:
            raise AwsrespError(f"{where}: expected s3://BUCKET/PREFIX")
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        return S3Store(s3_client, bucket, prefix)
    path = Path(where)
    if not path.is_dir():
        raise AwsrespError(f"{where} is not a folder or an s3:// URL")
    return LocalStore(path)


def check_date(date: str) -> str:
    if not _DATE.match(date):
        raise AwsrespError(f"--date {date!r}: expected YYYY-MM-DD")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise AwsrespError(f"--date {date!r} is not a calendar date") from None
    return date


@dataclass(frozen=True)
class RunId:
    """One scan run: its day (the partition) and an id that sorts by start time."""

    date: str
    run: str

    @classmethod
    def new(cls, started: dt.datetime | None = None, seed: str | None = None) -> RunId:
        """A run starting now (or at `started`); `seed` (e.g. a Step Functions execution)
        makes the id repeatable, so a retried invocation overwrites its own objects."""
        when = (started or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        tail = hashlib.sha256(seed.encode()).hexdigest()[:8] if seed else uuid.uuid4().hex[:8]
        return cls(when.strftime("%Y-%m-%d"), f"{when:%Y%m%dT%H%M%SZ}-{tail}")

    def prefix(self, table: str, account: str) -> str:
        return f"{table}/date={self.date}/account={account}/run={self.run}/"


def _csv_bytes(columns: list[str], rows: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    counted = 0

    def counting() -> Iterator[dict[str, Any]]:
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    buf = io.StringIO()
    write_csv(buf, columns, counting())
    return buf.getvalue().encode("utf-8"), counted


def write_run(
    result: ScanResult,
    store: Store,
    run: RunId,
    failed: bool = False,
    services: Sequence[str] = (),
) -> list[str]:
    """Writes one account's scan as partitions, the manifest last; returns the keys.

    Until the manifest exists no reader takes the run; if writing fails, every object
    already written is deleted again before the error goes on, so a failed run leaves
    nothing behind (a retry writes the same keys again).
    """
    account = result.inventory.account
    info = result.account_info
    written: list[str] = []
    objects: dict[str, dict[str, Any]] = {}
    try:
        for name, columns, rows in table_rows(result):
            table = name.removesuffix(".csv")
            body, count = _csv_bytes(columns, rows)
            key = run.prefix(table, account) + name
            store.put(key, body)
            written.append(key)
            objects[table] = {"key": key, "rows": count, "sha256": sha256(body)}
        scan = scan_model(result)
        body = render_report(scan, ReportFormat.HTML)
        key = run.prefix(REPORTS, account) + "report.html"
        store.put(key, body)
        written.append(key)
        objects[REPORTS] = {"key": key, "rows": 1, "sha256": sha256(body)}
        body = "".join(iter_scan_json(scan)).encode("utf-8")
        key = run.prefix(SCANS, account) + "scan.json"
        store.put(key, body)
        written.append(key)
        objects[SCANS] = {"key": key, "rows": 1, "sha256": sha256(body)}
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "tool_version": __version__,
            "account_id": account,
            "account_name": info.name if info else "",
            "ou_path": info.ou_path if info else "",
            "tags": dict(info.tags) if info else {},
            "date": run.date,
            "run": run.run,
            "scanned_at": result.scanned_at,
            "state": "failed" if failed else "scanned",
            "complete": result.complete,
            "partition": result.inventory.partition,
            "regions": list(result.inventory.regions),
            "services": list(services),
            "counts": summary_counts(result),
            "objects": objects,
        }
        key = run.prefix(MANIFESTS, account) + MANIFEST
        # One line: Athena's JSON SerDe reads one object per line.
        store.put(key, (json.dumps(manifest, separators=(",", ":")) + "\n").encode("utf-8"))
        written.append(key)
    except BaseException:
        _remove(store, written)
        raise
    return written


def _remove(store: Store, keys: Sequence[str]) -> None:
    """Deletes what a failed run wrote. When even that fails (the store is unreachable),
    the first error is the one to report: a run without a manifest is never read anyway."""
    with contextlib.suppress(Exception):
        store.delete(keys)


def publish_set(
    store: Store, base: str, files: Iterable[tuple[str, bytes]], about: dict[str, Any]
) -> list[str]:
    """Puts each file under `base` (a run's prefix), then `manifest.json` last beside them:
    `about` and each object's name, size and SHA-256. Until the manifest exists no reader
    takes the run; if a put fails, every object already written is deleted again before
    the error goes on. Returns the keys, the manifest's last."""
    written: list[str] = []
    objects: dict[str, dict[str, Any]] = {}
    try:
        for name, body in files:
            store.put(base + name, body)
            written.append(base + name)
            objects[name] = {"bytes": len(body), "sha256": sha256(body)}
        manifest = {"manifest_version": MANIFEST_VERSION, **about, "objects": objects}
        store.put(base + MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
        written.append(base + MANIFEST)
    except BaseException:
        _remove(store, written)
        raise
    return written


def read_published(store: Store, prefix: str, name: str) -> tuple[str, bytes]:
    """(key, content) of file `name` of the latest run under `prefix` that has a manifest
    (run ids sort by start time), checked against the SHA-256 the manifest lists."""
    manifests = [k for k in store.keys(prefix) if k.rsplit("/", 1)[-1] == MANIFEST]
    if not manifests:
        raise AwsrespError(f"no finished run (no {MANIFEST}) under {store.where}{prefix}")
    latest = max(manifests)
    entry = json.loads(store.get(latest)).get("objects", {}).get(name)
    key = latest.removesuffix(MANIFEST) + name
    if not isinstance(entry, dict):
        raise AwsrespError(f"the manifest {store.where}{latest} lists no {name}")
    body = store.get(key)
    if sha256(body) != entry.get("sha256"):
        raise AwsrespError(
            f"{store.where}{key} does not match its run's manifest (changed after the run)"
        )
    return key, body


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def write_listing(store: Store, run: RunId, listing: dict[str, Any]) -> str:
    """The organization's account list for a run, at accounts/date=.../run=.../:
    accounts.json (`items`, the accounts to scan, and `skipped`, the suspended ones) and
    items.json (the items alone: a JSON array, as a Step Functions map reads from S3).
    Returns the key of items.json."""
    base = f"{ACCOUNTS}/date={run.date}/run={run.run}/"
    store.put(base + "accounts.json", json.dumps(listing, indent=1).encode("utf-8"))
    store.put(base + "items.json", json.dumps(listing["items"], indent=1).encode("utf-8"))
    return base + "items.json"


def latest_listing(store: Store, date: str) -> dict[str, Any] | None:
    keys = [k for k in store.keys(f"{ACCOUNTS}/date={date}/") if k.endswith("/accounts.json")]
    if not keys:
        return None
    found: dict[str, Any] = json.loads(store.get(max(keys)))
    return found


def latest_manifests(store: Store, date: str, run: str | None = None) -> list[dict[str, Any]]:
    """The manifest of each account's latest finished run on `date` (or of run `run`),
    by account id. Runs without a manifest (under way, or failed and cleaned up) are
    not taken."""
    latest: dict[str, tuple[str, str]] = {}
    for key in store.keys(f"{MANIFESTS}/date={date}/"):
        match = re.search(r"/account=([^/]+)/run=([^/]+)/manifest\.json$", key)
        if match is None:
            continue
        account, this_run = match.groups()
        if run is not None and this_run != run:
            continue
        if account not in latest or this_run > latest[account][0]:
            latest[account] = (this_run, key)
    manifests = []
    for account in sorted(latest):
        manifest = json.loads(store.get(latest[account][1]))
        manifests.append(manifest)
    return manifests


def read_object(store: Store, manifest: dict[str, Any], table: str) -> bytes:
    """A run's object, checked against the hash its manifest recorded."""
    entry = manifest["objects"][table]
    body = store.get(entry["key"])
    if sha256(body) != entry["sha256"]:
        raise AwsrespError(
            f"{store.where}{entry['key']} does not match its manifest (changed after the run)"
        )
    return body
