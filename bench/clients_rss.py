"""Peak RSS of building the scanner's clients (every boto3 client the specs use) in 17
regions, without calling AWS: `python bench/clients_rss.py` (docs/performance.md)."""

from __future__ import annotations

import os
import resource

import boto3

from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
]


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    clients = sorted(
        {
            c.client or r.client
            for s in load_specs()
            for r in s.resources
            for d in r.details
            for c in d.calls()
        }
        | {r.client for s in load_specs() for r in s.resources}
    )
    target = Target(boto3.Session(region_name=REGIONS[0]))
    print(f"before clients: {_rss_mb()} MB")
    for n, region in enumerate(REGIONS, 1):
        for client in clients:
            target.client(client, region)
        if n in (1, 2, len(REGIONS)):
            print(f"{len(clients)} clients in {n} region(s): {_rss_mb()} MB")


if __name__ == "__main__":
    main()
