"""`make bench ACCOUNTS=N`: an organization of N seeded member accounts on the bench server,
scanned with `awsresp scan --org`: wall time, calls, peak RSS and accounts per minute."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "org-results.csv"
COLUMNS = [
    "date",
    "commit",
    "accounts",
    "scale",
    "latency_ms",
    "workers",
    "max_accounts",
    "resources",
    "calls",
    "calls_per_account",
    "org_calls",
    "wall_s",
    "accounts_per_min",
    "cpu_s",
    "peak_rss_mb",
    "seed_s",
]


def _own_buckets(params: dict[str, Any], account: str) -> None:
    for key in ("Bucket", "S3BucketName"):
        if isinstance(params.get(key), str) and not params[key].endswith(account):
            params[key] = f"{params[key]}-{account}"


def seed_organization(
    server: Any, n: int, scale: int, seed: int, services: list[str]
) -> tuple[list[str], float]:
    """N member accounts (moto switches account on AssumeRole), each seeded like the
    single-account bench at `scale`; returns (account ids, seconds)."""
    import boto3
    import botocore.loaders
    import botocore.session
    from botocore.config import Config
    from run import REGION, SEEDERS

    # One loader for every account's session: each service model is parsed once.
    loader = botocore.loaders.create_loader()

    server.post("/moto-api/reset")
    server.post(f"/moto-api/seed?a={seed}")
    cfg = Config(max_pool_connections=16, retries={"max_attempts": 2})
    keys = {"aws_access_key_id": "AKIABENCHSCANNER0000", "aws_secret_access_key": "x"}
    management = boto3.Session(region_name=REGION, **keys)
    org = management.client("organizations", endpoint_url=server.endpoint, config=cfg)
    started = time.monotonic()
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"bench-{i:03d}", Email=f"b{i}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(n)
    ]
    sts = management.client("sts", endpoint_url=server.endpoint, config=cfg)

    def seed_one(i: int, account: str) -> None:
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
        )["Credentials"]
        core = botocore.session.Session()
        core.register_component("data_loader", loader)
        session = boto3.Session(
            botocore_session=core,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )

        def client(service: str, session: Any = session, account: str = account) -> Any:
            made = session.client(service, endpoint_url=server.endpoint, config=cfg)
            # Bucket names are global (in moto too): each account's get its id as a suffix.
            made.meta.events.register(
                "before-parameter-build", lambda params, **_: _own_buckets(params, account)
            )
            return made

        rng = random.Random(seed + i)
        with ThreadPoolExecutor(8) as pool:
            for service in services:
                if service in SEEDERS:
                    SEEDERS[service](client, scale, rng, pool)

    # Accounts are seeded a few at a time: each has its own moto backends.
    with ThreadPoolExecutor(4) as accounts:
        for _ in accounts.map(seed_one, range(len(ids)), ids):
            pass
    return ids, time.monotonic() - started


def measure_org(
    server: Any, args: Any, services: list[str], out: Path, commit: str, seed_s: float, n: int
) -> dict[str, Any]:
    from run import ACCOUNT, REGION, SCAN_ENV, run_child

    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(SCAN_ENV)
    cmd = [
        str(Path(sys.executable).parent / "awsresp"),
        "scan",
        "--org",
        "--exclude-accounts",
        ACCOUNT,  # the management account: the bench measures the N members
        "--endpoint-url",
        server.endpoint,
        "--region",
        REGION,
        "--quiet",
        "--max-workers",
        str(args.workers),
        "--max-accounts",
        str(args.max_accounts),
        "--output-dir",
        str(out),
    ]
    cmd += [arg for service in services for arg in ("--service", service)]
    with server.middleware.counted() as counted:
        usage, wall = run_child(cmd, env, out.parent / "scan-org")
    if usage["rc"] not in (0, 1):
        sys.stderr.write(usage["stderr"])
        raise SystemExit(f"bench: the organization scan failed with exit code {usage['rc']}")
    calls = sum(counted.values())
    org_calls = sum(v for (svc, _op), v in counted.items() if svc == "organizations")
    org_calls += sum(v for (svc, op), v in counted.items() if svc == "sts" and op == "AssumeRole")
    org_calls += 1  # the management account's own GetCallerIdentity (who runs the scan)
    doc = json.loads((out / "scan.json").read_text())
    resources = sum(1 for r in doc["resources"] if not r["unlisted"])
    return {
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "commit": commit,
        "accounts": n,
        "scale": args.scale,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "max_accounts": args.max_accounts,
        "resources": resources,
        "calls": calls,
        "calls_per_account": round((calls - org_calls) / n, 1),
        "org_calls": org_calls,
        "wall_s": round(wall, 2),
        "accounts_per_min": round(n / wall * 60, 1),
        "cpu_s": round(usage["cpu_s"], 2),
        "peak_rss_mb": round(usage["peak_rss_mb"], 1),
        "seed_s": round(seed_s, 1),
    }
