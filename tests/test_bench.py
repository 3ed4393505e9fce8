"""The bench's server (bench/run.py): moto behind the latency middleware, kept alive."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent


def _bench() -> ModuleType:
    # bench/run.py is a script: its own folder is on sys.path when it runs.
    if str(ROOT / "bench") not in sys.path:
        sys.path.append(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIABENCHTEST0000000",
        aws_secret_access_key="not-a-secret",
        config=Config(max_pool_connections=1, retries={"mode": "standard"}),
    )


def test_bench_server_keeps_connections_alive_counts_and_answers_after_the_latency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bench turns off moto's default AMIs for the process; put that back afterwards.
    monkeypatch.delenv("MOTO_EC2_LOAD_DEFAULT_AMIS", raising=False)
    bench = _bench()
    with bench.Server() as server:
        server.post("/moto-api/reset")
        s3 = _client("s3", server.endpoint)
        iam = _client("iam", server.endpoint)
        s3.create_bucket(Bucket="bench-keep-alive")
        server.middleware.latency = 0.05
        with server.middleware.counted() as counted:
            started = time.monotonic()
            # A request with a body, then requests on the same kept-alive connections: a
            # body left unread would be taken for the next request line.
            s3.put_bucket_tagging(
                Bucket="bench-keep-alive", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
            )
            tags = s3.get_bucket_tagging(Bucket="bench-keep-alive")["TagSet"]
            users = [iam.list_users()["Users"] for _ in range(3)]
            elapsed = time.monotonic() - started
    assert tags == [{"Key": "k", "Value": "v"}]
    assert users == [[], [], []]
    assert sum(counted.values()) == 5
    assert counted[("s3", "PUT ?tagging")] == 1
    assert counted[("iam", "ListUsers")] == 3
    # One connection per client: every request after the first reused it.
    assert len(server.middleware.connections) == 2
    # Five sequential round trips of at least 50 ms each.
    assert elapsed >= 5 * 0.05
