"""Hard deadlines: a hanging or trickling endpoint holds no call past its deadline, the scan
stops at --deadline (the Lambda's own: tests/test_lambda.py)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from awsresp.collect import calls
from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.model import IssueKind
from awsresp.sandbox import Sandbox
from awsresp.scan import Definitions

from .conftest import run_cli
from .faultproxy import FaultProxy


class _Endpoint:
    """A loopback HTTP endpoint that never answers ("hang") or answers a 200 whose body
    comes one byte a second ("trickle"): each byte restarts botocore's read timeout."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> _Endpoint:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if self.mode == "trickle":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self._stop.wait(1.0):
                if self.mode == "trickle":
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        return


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_a_call_that_never_ends_is_abandoned_at_its_deadline(mode: str) -> None:
    specs = [s for s in Definitions.load().specs if s.service == "kms"]
    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    with _Endpoint(mode) as endpoint:
        target = Target(session, endpoint_url=endpoint.url, read_timeout=5, call_deadline=2)
        started = time.monotonic()
        inventory = Collector(target, specs, "123456789012", "aws", ["us-east-1"]).run()
        elapsed = time.monotonic() - started
    # Generous: the bound is the call deadline (2 s), far below botocore's own for a trickle
    # (forever) or a hang (5 attempts x 5 s).
    assert elapsed < 20, elapsed
    (issue,) = inventory.issues
    assert (issue.operation, issue.error_code, issue.kind) == (
        "ListKeys",
        calls.CALL_DEADLINE_EXCEEDED,
        IssueKind.ERROR,
    )
    assert issue.iam_action == "kms:ListKeys"
    assert all(r.unlisted for r in inventory.resources)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_scan_deadline_writes_what_it_has_marked_incomplete(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    def s3_details(service: str, method: str, path: str) -> bool:
        return service == "s3" and path.startswith("/acme-")

    with FaultProxy(sandbox.endpoint_url, down=s3_details, down_answer="hang") as proxy:
        started = time.monotonic()
        args = ["scan", "--endpoint-url", proxy.url, "-r", "us-east-1", "-s", "s3", "-s", "iam"]
        result = run_cli([*args, "-q", "-o", str(tmp_path), "--deadline", "6"])
        elapsed = time.monotonic() - started
        again = run_cli(
            [*args, "-q", "-o", str(tmp_path), "--deadline", "6", "--fail-on-incomplete"]
        )
    assert result.exit_code == 0, result.output
    assert again.exit_code == 3, again.output
    assert elapsed < 60, elapsed
    doc = json.loads((tmp_path / "scan.json").read_text())
    assert doc["complete"] is False
    late = [i for i in doc["issues"] if i["error_code"] == calls.DEADLINE_EXCEEDED]
    assert late and all(i["service"] == "s3" and i["kind"] == "error" for i in late), late
    buckets = [f for f in doc["findings"] if f["resource_type"] == "s3.bucket"]
    assert buckets and any(f["status"] == "unknown" for f in buckets)
    # What was read before the deadline is there: IAM's findings are decided.
    assert any(f["status"] in ("pass", "fail") for f in doc["findings"] if f["service"] == "iam")


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_whoami_and_the_region_list_keep_the_call_deadline(mode: str) -> None:
    """The reads before collection are bounded too: one line, not a wait without end."""
    from awsresp.collect.session import resolve_regions, whoami
    from awsresp.errors import AwsrespError

    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    with _Endpoint(mode) as endpoint:
        target = Target(session, endpoint_url=endpoint.url, read_timeout=5, call_deadline=1)
        started = time.monotonic()
        with pytest.raises(AwsrespError, match=r"sts:GetCallerIdentity .* in time"):
            whoami(target)
        with pytest.raises(AwsrespError, match=r"ec2:DescribeRegions .* in time"):
            # A scan deadline already past still leaves the call deadline (here the nearer).
            resolve_regions(target, [], True, deadline=time.monotonic() - 5)
        elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed
