"""`make bench-peers`: awsresp and Prowler side by side on the same seeded account and latency."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (
    REGION,
    SCAN_ENV,
    Server,
    _git_commit,
    _scan,
    record,
    run_child,
    seed_account,
    warm_up,
)

PROWLER_VENV = Path(os.environ.get("PROWLER_VENV", "/tmp/awsresp-bench-prowler"))


def prowler_binary() -> tuple[Path | None, str]:
    """Prowler in its own virtual environment (never the project's), installed on first use."""
    binary = PROWLER_VENV / "bin" / "prowler"
    if binary.exists():
        return binary, ""
    if not (PROWLER_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PROWLER_VENV)], check=False)
    print(f"bench-peers: pip install prowler into {PROWLER_VENV} ...", file=sys.stderr)
    done = subprocess.run(
        [str(PROWLER_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "prowler"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not binary.exists():
        return None, f"pip install prowler failed: {done.stderr.strip()[-500:]}"
    return binary, ""


# The services both scanners read and the bench seeds, by awsresp's name and Prowler's.
PROWLER_NAMES = {
    "iam": "iam",
    "s3": "s3",
    "ec2": "ec2",
    "kms": "kms",
    "rds": "rds",
    "lambda": "awslambda",
    "secretsmanager": "secretsmanager",
    "dynamodb": "dynamodb",
    "cloudtrail": "cloudtrail",
}


PEERS_RESULTS = Path(__file__).resolve().parent / "peers.csv"
PEERS_COLUMNS = [
    "date",
    "commit",
    "scale",
    "latency_ms",
    "resources_seeded",
    "scanner",
    "rate_limit",
    "wall_s",
    "calls",
    "calls_per_resource",
    "connections",
    "cpu_s",
    "peak_rss_mb",
]


def _prowler_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    words = done.stdout.split()
    return f"Prowler {words[-1]}" if words else "Prowler"


def _counted(
    server: Server,
    rate_limit: str,
    run: Callable[..., tuple[dict[str, Any], float]],
    *args: Any,
) -> dict[str, Any]:
    """Runs one scanner with the server counting; its usage, wall time, calls and connections."""
    with server.middleware.counted() as counted:
        usage, wall = run(*args)
    return {
        **usage,
        "wall_s": wall,
        "calls": sum(counted.values()),
        "connections": len(server.middleware.connections),
        "rate_limit": rate_limit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="awsresp's rate cap; by default it runs twice: its default cap, and none",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to peers.csv")
    args = parser.parse_args()

    binary, why = prowler_binary()
    if binary is None:
        print(f"bench-peers: cannot compare with Prowler: {why}")
        return
    commit = _git_commit()
    prowler_name = _prowler_version(binary)
    caps: list[float | None] = [None, 0.0] if args.rate_limit is None else [args.rate_limit]
    services = list(PROWLER_NAMES)
    rows: dict[str, dict[str, Any]] = {}
    with Server() as server, tempfile.TemporaryDirectory(prefix="awsresp-peers-") as tmp:
        seeded, _ = seed_account(server, args.scale, args.seed, services)
        print(f"bench-peers: seeded {seeded} resources", file=sys.stderr)
        warm_s = warm_up(server, services, Path(tmp))
        print(f"bench-peers: warm-up scan (not counted) {warm_s:.1f} s", file=sys.stderr)
        server.middleware.latency = args.latency_ms / 1000

        for cap in caps:
            label = "default" if cap is None else ("off" if cap == 0 else f"{cap:g}/s")
            out_dir = Path(tmp) / f"awsresp-{label}" / "out"
            rows[f"awsresp (cap {label})"] = _counted(
                server, label, _scan, server.endpoint, out_dir, args.workers, cap, services
            )

        # boto3 (and so Prowler) sends every client to AWS_ENDPOINT_URL when it is set.
        env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
        env.update(SCAN_ENV)
        env["AWS_ENDPOINT_URL"] = server.endpoint
        out = Path(tmp) / "prowler"
        cmd = [str(binary), "aws", "--service", *PROWLER_NAMES.values(), "--region", REGION]
        cmd += ["--output-formats", "csv", "--output-directory", str(out), "--no-banner"]
        started = time.monotonic()
        prowler = rows[prowler_name] = _counted(
            server, "none", run_child, cmd, env, Path(tmp) / "prowler"
        )
        print(f"bench-peers: prowler exit {prowler['rc']} after {time.monotonic() - started:.1f} s")
        if prowler["rc"] not in (0, 3) or prowler["calls"] == 0:
            print("bench-peers: Prowler did not scan the endpoint; its last output:")
            print(prowler["stderr"][-2000:])
            shutil.copy(Path(tmp) / "prowler.stdout", "/tmp/awsresp-peers-prowler.stdout")
            return

    width = max(len(name) for name in rows)
    print(f"{'':{width}} {'wall s':>8} {'calls':>7} {'calls/res':>9} {'CPU s':>7} {'RSS MB':>7}")
    for name, r in rows.items():
        print(
            f"{name:{width}} {r['wall_s']:8.1f} {r['calls']:7d} {r['calls'] / seeded:9.2f}"
            f" {r['cpu_s']:7.1f} {r['peak_rss_mb']:7.0f}"
        )
    p = rows[prowler_name]
    for name, a in rows.items():
        if name == prowler_name:
            continue
        print(
            f"{prowler_name} / {name}: wall x{p['wall_s'] / a['wall_s']:.1f},"
            f" calls x{p['calls'] / max(1, a['calls']):.1f},"
            f" peak RSS x{p['peak_rss_mb'] / a['peak_rss_mb']:.1f}"
        )
    if args.no_record:
        return
    date = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    record(
        PEERS_RESULTS,
        PEERS_COLUMNS,
        (
            {
                "date": date,
                "commit": commit,
                "scale": args.scale,
                "latency_ms": args.latency_ms,
                "resources_seeded": seeded,
                "scanner": name.split(" (")[0],
                "rate_limit": r["rate_limit"],
                "wall_s": round(r["wall_s"], 1),
                "calls": r["calls"],
                "calls_per_resource": round(r["calls"] / max(1, seeded), 2),
                "connections": r["connections"],
                "cpu_s": round(r["cpu_s"], 1),
                "peak_rss_mb": round(r["peak_rss_mb"]),
            }
            for name, r in rows.items()
        ),
    )
    print(f"bench-peers: appended to bench/{PEERS_RESULTS.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
