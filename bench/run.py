"""`make bench`: scans a seeded synthetic account on moto behind a latency-adding counter."""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import random
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wsgiref.handlers
import wsgiref.simple_server
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from seed_more import SEEDERS_MORE  # bench/ is the script's own folder on sys.path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.csv"
REGION = "us-east-1"
ACCOUNT = "123456789012"
COLUMNS = [
    "date",
    "commit",
    "scale",
    "latency_ms",
    "workers",
    "rate_limit",
    "resources",
    "calls",
    "connections",
    "min_calls",
    "calls_per_resource",
    "calls_over_min",
    "wall_s",
    "latency_bound_s",
    "wall_over_bound",
    "rate_bound_s",
    "cpu_s",
    "server_cpu_s",
    "peak_rss_mb",
    "seed_s",
    "cpus",
    "cpu_bound_s",
    "wall_over_cpu_bound",
    "throttle",
    "throttled",
    "retries",
    "findings_sha",
    "issues",
    "over_clean",
    "same_findings",
]

# moto reads these when its backends load: no bundled AMIs (thousands of false resources).
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


# --- the server: moto's WSGI app behind a middleware that waits and counts ---------------


class LatencyCounter:
    """WSGI middleware: answers each request `latency` seconds after it arrived, and counts
    requests by (service, operation) and the client connections they came on."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.latency = 0.0
        self.counting = False
        self.counts: Counter[tuple[str, str]] = Counter()
        self.connections: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        # Throttling as AWS does it (--throttle): a random fraction of requests, and/or
        # every (service, operation) above a rate (calls per second, a token bucket with a
        # one-second burst). `throttled` counts the throttling answers sent.
        self.throttle_fraction = 0.0
        self.throttle_rate = 0.0
        self.throttled = 0
        self._rng = random.Random(1)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    @contextlib.contextmanager
    def counted(self) -> Iterator[Counter[tuple[str, str]]]:
        """Counts the requests made inside the block, from zero; yields the counter.
        `connections` then holds the client connections (address, port) they came on."""
        self.counts.clear()
        self.connections.clear()
        self.counting = True
        try:
            yield self.counts
        finally:
            self.counting = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Read the whole request body first: on a kept-alive connection, a body left
        # partly unread would be taken for the start of the next request.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        if self.counting and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            key = self._classify(environ)
            connection = (environ.get("REMOTE_ADDR", ""), environ.get("REMOTE_PORT", ""))
            with self._lock:
                self.counts[key] += 1
                self.connections.add(connection)
        # The latency is the request's round trip: moto's own work counts toward it, as
        # AWS's does toward a real round trip, and the answer leaves `latency` seconds after
        # the request arrived (or when moto is done, if moto takes longer). The body is
        # answered in one piece, so it always has a length (a kept-alive connection needs
        # one to tell where the next answer starts).
        arrived = environ.get("bench.arrived", time.monotonic())
        throttled = self._throttle(environ)
        if throttled is not None:
            status, content_type, body = throttled
            start_response(status, [("Content-Type", content_type)])
        elif self._classify(environ) in MOTO_LACKS_OPERATIONS:
            start_response("400 Bad Request", [("Content-Type", "text/xml")])
            body = _UNSUPPORTED
        else:
            body = b"".join(self.app(environ, start_response))
        if self.latency:
            time.sleep(max(0.0, arrived + self.latency - time.monotonic()))
        return [body]

    def _throttle(self, environ: dict[str, Any]) -> tuple[str, str, bytes] | None:
        """A throttling answer in the request's protocol, or None to serve it."""
        if not self.counting or environ.get("PATH_INFO", "").startswith("/moto-api"):
            return None
        key = self._classify(environ)
        with self._lock:
            hit = self.throttle_fraction > 0 and self._rng.random() < self.throttle_fraction
            if self.throttle_rate > 0:
                now = time.monotonic()
                tokens, last = self._buckets.get(key, (self.throttle_rate, now))
                tokens = min(self.throttle_rate, tokens + (now - last) * self.throttle_rate)
                if tokens >= 1 and not hit:
                    tokens -= 1
                else:
                    hit = True
                self._buckets[key] = (tokens, now)
            if not hit:
                return None
            self.throttled += 1
        service, content = key[0], environ.get("CONTENT_TYPE", "")
        if environ.get("HTTP_X_AMZ_TARGET"):
            return "400 Bad Request", content or "application/x-amz-json-1.1", _THROTTLE_JSON
        if service in ("s3", "s3control"):
            return "503 Slow Down", "application/xml", _THROTTLE_S3
        if service == "ec2":
            return "503 Service Unavailable", "text/xml", _THROTTLE_EC2
        if "form" in content or "Action=" in environ.get("QUERY_STRING", ""):
            return "400 Bad Request", "text/xml", _THROTTLE_QUERY
        return "429 Too Many Requests", "application/json", _THROTTLE_JSON

    @staticmethod
    def _classify(environ: dict[str, Any]) -> tuple[str, str]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = "?"
        if "Credential=" in auth:
            # Credential=AKID/date/region/service/aws4_request
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            service = scope[3] if len(scope) > 3 else "?"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return service, target.rsplit(".", 1)[-1]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "Action" in query:
            return service, query["Action"][0]
        if environ.get("REQUEST_METHOD") == "POST" and "form" in environ.get("CONTENT_TYPE", ""):
            body = environ["wsgi.input"].getvalue()  # read in full by __call__
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return service, form["Action"][0]
        # REST (S3): the method and the sub-resource name the operation.
        path = environ.get("PATH_INFO", "/")
        if query:
            return service, f"{environ.get('REQUEST_METHOD')} ?{','.join(sorted(query))}"
        shape = "/" if path == "/" else "/{bucket}" if path.count("/") == 1 else path
        return service, f"{environ.get('REQUEST_METHOD')} {shape}"


# Throttling answers in each wire protocol botocore parses (as AWS sends them).
_THROTTLE_QUERY = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>b</RequestId></ErrorResponse>"
)
_THROTTLE_EC2 = (
    b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit"
    b" exceeded.</Message></Error></Errors><RequestID>b</RequestID></Response>"
)
_THROTTLE_S3 = (
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
)
_THROTTLE_JSON = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


def _dispatcher() -> Any:
    """moto's request dispatcher, with its host-to-backend lookup remembered.

    moto 5.2 resolves the backend of every request afresh, under one global lock: it lists
    its own package directories on disk (`list_of_moto_modules`, dozens of `isdir` calls)
    and tries every backend's URL pattern. That is a fifth of the server's CPU time in a
    bench run, work AWS never does. The answer depends only on the host name it is given,
    so it is remembered per host; everything else is moto's own code.
    """
    from moto.server import DomainDispatcherApplication, create_backend_app

    class Dispatcher(DomainDispatcherApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backend_by_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            try:
                return self._backend_by_host[host]
            except KeyError:
                backend = super().get_backend_for_host(host)
                self._backend_by_host[host] = backend
                return backend

    return Dispatcher()


class _KeepAliveWSGIHandler(wsgiref.simple_server.WSGIRequestHandler):
    """Serves a connection's requests one after another (HTTP/1.1 keep-alive), each on the
    connection's own thread, through wsgiref (see `Server`)."""

    protocol_version = "HTTP/1.1"
    # An answer goes out in one write, with Nagle's algorithm off: small writes on a
    # kept-alive connection would otherwise wait for the client's delayed ACK (~40 ms).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        self.arrived = time.monotonic()  # the round trip's start (see LatencyCounter)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self
        handler.run(self.server.get_app())
        self.wfile.flush()

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["REMOTE_PORT"] = str(self.client_address[1])
        environ["bench.arrived"] = self.arrived
        return environ

    def log_message(self, *_: Any) -> None:
        pass


class _ServerHandler(wsgiref.simple_server.ServerHandler):
    http_version = "1.1"

    def log_exception(self, exc_info: Any) -> None:
        # moto raises on some operations it lacks; wsgiref answers HTTP 500 (as werkzeug
        # did) and would print each traceback. The bench counts requests itself.
        pass

    def close(self) -> None:
        # wsgiref's ServerHandler logs every request; the bench counts them itself.
        wsgiref.handlers.SimpleHandler.close(self)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class Server:
    """moto's server on 127.0.0.1, behind the latency middleware, keeping connections alive.

    moto's own server is werkzeug's development server, which answers every request with
    `Connection: close` (Python's http.server cannot skip a request body the application
    left unread). Each API call would then open a TCP connection and close it again: a
    connect, a new socket and a teardown in the scanner and a new thread in the server, per
    call, none of which happens against AWS, where botocore keeps its pooled HTTPS
    connections alive. Here the same moto application is served by the standard library's
    wsgiref on a thread per connection, with HTTP/1.1 keep-alive: the latency middleware
    reads every request body in full, so the next request line is where http.server
    looks for it.
    """

    def __init__(self) -> None:
        self.middleware = LatencyCounter(_dispatcher())
        self._server = _ThreadingWSGIServer(("127.0.0.1", 0), _KeepAliveWSGIHandler)
        self._server.set_app(self.middleware)
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def post(self, path: str) -> None:
        import urllib.request

        request = urllib.request.Request(self.endpoint + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()


# --- the synthetic account -----------------------------------------------------------


def _policy(rng: random.Random, n: int) -> str:
    action = rng.choice(["s3:GetObject", "ec2:Describe*", "logs:PutLogEvents", "*"])
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": f"S{n}", "Effect": "Allow", "Action": action, "Resource": "*"}],
        }
    )


_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def seed_iam(client: Callable[[str], Any], scale: int, rng: random.Random, _pool: Any) -> int:
    """Per scale unit: 6 users, 5 roles, 2 groups, 3 customer-managed policies."""
    iam = client("iam")
    policies = []
    for i in range(3 * scale):
        arn = iam.create_policy(PolicyName=f"bench-policy-{i}", PolicyDocument=_policy(rng, i))
        policies.append(arn["Policy"]["Arn"])
    for i in range(2 * scale):
        iam.create_group(GroupName=f"bench-group-{i}")
        iam.attach_group_policy(GroupName=f"bench-group-{i}", PolicyArn=rng.choice(policies))
    plans = [(i, rng.random(), rng.choice(policies)) for i in range(6 * scale)]

    def user(plan: tuple[int, float, str]) -> None:
        i, roll, arn = plan
        name = f"bench-user-{i}"
        iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": f"t{i % 7}"}])
        iam.add_user_to_group(GroupName=f"bench-group-{i % (2 * scale)}", UserName=name)
        if roll < 0.5:
            iam.create_access_key(UserName=name)
        if roll < 0.3:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        if roll > 0.8:
            iam.create_login_profile(UserName=name, Password="Bench-password-1!")

    def role(plan: tuple[int, float, str]) -> None:
        i, _roll, arn = plan
        iam.create_role(RoleName=f"bench-role-{i}", AssumeRolePolicyDocument=_TRUST)
        iam.attach_role_policy(RoleName=f"bench-role-{i}", PolicyArn=arn)

    # Sequential: moto's IAM backend iterates its dicts unlocked, so concurrent creates
    # fail with "dictionary changed size during iteration" (HTTP 500).
    for plan in plans:
        user(plan)
    for i in range(5 * scale):
        role((i, 0.0, rng.choice(policies)))
    return (3 + 2 + 6 + 5) * scale


def seed_s3(client: Callable[[str], Any], scale: int, rng: random.Random, pool: Any) -> int:
    """Per scale unit: 6 buckets, with a seeded mix of encryption, versioning, blocks, policy."""
    s3 = client("s3")
    plans = [(i, rng.random(), rng.random(), rng.random()) for i in range(6 * scale)]

    def bucket(plan: tuple[int, float, float, float]) -> None:
        i, enc, ver, pab = plan
        name = f"bench-bucket-{i:05d}"
        s3.create_bucket(Bucket=name)
        if enc < 0.7:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
        if ver < 0.4:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if pab < 0.6:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        if pab > 0.9:
            doc = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": f"arn:aws:s3:::{name}/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(doc))

    list(pool.map(bucket, plans))
    return 6 * scale


# Services whose collectors exist get seeded; add a seeder here when a collector lands.
SEEDERS: dict[str, Callable[[Callable[[str], Any], int, random.Random, Any], int]] = {
    "iam": seed_iam,
    "s3": seed_s3,
    **SEEDERS_MORE,
}
# Services whose reads moto does not implement (Client VPN, Config rule compliance, Firewall
# Manager, SSM inventory, IAM Access Analyzer): moto answers HTTP 500 and botocore backs off
# and retries (legacy retries: up to 15 s for one read), which would measure moto's gaps,
# not the scanner. The bench scans every other collector.
MOTO_LACKS = frozenset({"accessanalyzer", "clientvpn", "config", "fms", "ssm"})
# Single reads moto lacks in services the bench does scan: the bench answers them with an
# AWS error at once (no retries), so it measures the scanner, not moto's HTTP 500 back-off.
MOTO_LACKS_OPERATIONS = frozenset(
    {("ec2", "GetSnapshotBlockPublicAccessState"), ("ec2", "DescribeVpcBlockPublicAccessOptions")}
)
_UNSUPPORTED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    b"<Code>UnsupportedOperation</Code><Message>not in moto</Message></Error></Errors>"
    b"<RequestID>bench</RequestID></Response>"
)


# --- the run ---------------------------------------------------------------------------


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "collectors"],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


SCAN_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIABENCHSCANNER0000",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-not-real",
    "AWS_DEFAULT_REGION": REGION,
}


# Linux keeps a process's peak RSS across exec, so a child forked straight from this
# process (which holds moto's whole account) would report this process's size. A small
# launcher process forks the scanner instead and reports the scanner's own numbers.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.monotonic()
proc = subprocess.Popen(json.loads(sys.argv[2]))
_pid, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall_s": time.monotonic() - started,
               "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, fh)
"""


def run_child(cmd: list[str], env: dict[str, str], log: Path) -> tuple[dict[str, Any], float]:
    """Runs a scanner as a grandchild: its own peak RSS and CPU time, and its wall time."""
    log.parent.mkdir(parents=True, exist_ok=True)
    report = Path(f"{log}.rusage.json")
    launcher = [sys.executable, "-c", _LAUNCHER, str(report), json.dumps(cmd)]
    with open(f"{log}.stdout", "wb") as so, open(f"{log}.stderr", "wb") as se:
        subprocess.run(launcher, env=env, stdout=so, stderr=se, check=False)
    found = json.loads(report.read_text())
    return {
        "rc": found["rc"],
        "cpu_s": found["cpu_s"],
        "peak_rss_mb": found["maxrss_kib"] / 1024,  # KiB on Linux
        "stderr": Path(f"{log}.stderr").read_text(errors="replace"),
    }, found["wall_s"]


def _scan(
    endpoint: str, out_dir: Path, workers: int, rate: float | None, services: list[str]
) -> tuple[dict[str, Any], float]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(SCAN_ENV)
    cmd = [
        str(Path(sys.executable).parent / "awsresp"),
        "scan",
        "--endpoint-url",
        endpoint,
        "--region",
        REGION,
        "--quiet",
        "--stats",
        "--max-workers",
        str(workers),
        "--output-dir",
        str(out_dir),
    ]
    if rate is not None:
        cmd += ["--rate-limit", str(rate)]
    cmd += [arg for service in services for arg in ("--service", service)]
    usage, wall = run_child(cmd, env, out_dir.parent / "scan")
    if usage["rc"] not in (0, 1):
        sys.stderr.write(usage["stderr"])
        raise SystemExit(f"bench: the scan failed with exit code {usage['rc']}")
    return usage, wall


def warm_up(server: Server, services: list[str], tmp: Path) -> float:
    """One scan at zero latency, not counted, before the measured one; returns its seconds.

    moto does much of its work on a service's first request (it loads the service's model,
    builds its routes and response serializers): a second or more of the server's CPU that
    AWS never spends. Warming up bills that to no one, and the measured scan (and, in
    `make bench-peers`, Prowler's) meets a server in its steady state.
    """
    latency, server.middleware.latency = server.middleware.latency, 0.0
    started = time.monotonic()
    try:
        _scan(server.endpoint, tmp / "warm-up" / "out", 16, 0, services)
    finally:
        server.middleware.latency = latency
    return time.monotonic() - started


def seed_account(server: Server, scale: int, seed: int, services: list[str]) -> tuple[int, float]:
    """Seeds every service that has both a collector and a seeder; returns (count, seconds)."""
    import boto3
    from botocore.config import Config

    server.post("/moto-api/reset")
    server.post(f"/moto-api/seed?a={seed}")
    session = boto3.Session(
        aws_access_key_id="AKIABENCHSEEDER00000",
        aws_secret_access_key="bench-secret-not-real",
        region_name=REGION,
    )
    cfg = Config(max_pool_connections=16, retries={"max_attempts": 2})

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=server.endpoint, config=cfg)

    rng = random.Random(seed)
    seeded = 0
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        for service in services:
            if service in SEEDERS:
                seeded += SEEDERS[service](client, scale, rng, pool)
    return seeded, time.monotonic() - started


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    rows = list(rows)
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument(
        "--repeat", type=int, default=1, help="measured scans of the one seeded account"
    )
    parser.add_argument(
        "--throttle",
        default="",
        help="throttle a fraction of requests (0.2) and/or every API above N calls/s (rate=N),"
        " comma-separated, e.g. 0.2 or rate=5",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to results")
    parser.add_argument(
        "--accounts", type=int, default=0, help="an organization of N accounts (scan --org)"
    )
    parser.add_argument("--max-accounts", type=int, default=4)
    args = parser.parse_args()
    if args.accounts:
        main_org(args)
        return

    from awsresp.collect.specs import load_specs

    commit = _git_commit()  # the code that runs, even if a commit lands during the run
    specs = [s for s in load_specs() if s.service not in MOTO_LACKS]
    services = [s.service for s in specs]
    skipped = sorted(set(services) - set(SEEDERS))
    rows: list[dict[str, Any]] = []
    with Server() as server, tempfile.TemporaryDirectory(prefix="awsresp-bench-") as tmp:
        seeded, seed_s = seed_account(server, args.scale, args.seed, services)
        print(f"bench: seeded {seeded} resources in {seed_s:.1f} s", file=sys.stderr)
        if skipped:
            print(f"bench: no seeder yet for {', '.join(skipped)}", file=sys.stderr)

        warm_s = warm_up(server, services, Path(tmp))
        print(f"bench: warm-up scan (not counted) {warm_s:.1f} s", file=sys.stderr)
        server.middleware.latency = args.latency_ms / 1000
        clean: dict[str, Any] | None = None
        if args.throttle:
            # A clean scan of the same account first: the throttled scans are compared with
            # it (wall time ratio, identical findings).
            row, _counted, _minimum = measure(
                server,
                argparse.Namespace(**{**vars(args), "throttle": ""}),
                specs,
                Path(tmp) / "clean",
                commit,
                seed_s,
            )
            clean = row
            rows.append(row)
            for part in filter(None, args.throttle.split(",")):
                if part.startswith("rate="):
                    server.middleware.throttle_rate = float(part[5:])
                else:
                    server.middleware.throttle_fraction = float(part)
        for run in range(1, max(1, args.repeat) + 1):
            row, counted, minimum = measure(
                server, args, specs, Path(tmp) / f"run-{run}", commit, seed_s
            )
            if clean is not None:
                row["over_clean"] = round(float(row["wall_s"]) / float(clean["wall_s"]), 2)
                row["same_findings"] = row["findings_sha"] == clean["findings_sha"]
            rows.append(row)
            if args.repeat > 1:
                print(
                    f"bench: run {run}/{args.repeat}: {row['wall_s']} s,"
                    f" {row['wall_over_bound']} x the latency bound",
                    file=sys.stderr,
                )

    by_service = Counter[str]()
    for (svc, _op), n in counted.items():
        by_service[svc] += n
    print("API calls by service (counted at the server):")
    print(_table((svc, n) for svc, n in by_service.most_common()))
    print("API calls by operation:")
    print(_table((f"{s}:{o}", n) for (s, o), n in sorted(counted.items(), key=lambda kv: -kv[1])))
    print("Spec-derived minimum by service:")
    print(_table(sorted(minimum.by_service.items())))
    print(f"Dependent chain: {minimum.chain} calls")
    print("Result:" if len(rows) == 1 else f"Result of the last of {len(rows)} runs:")
    print(_table((k, v) for k, v in rows[-1].items()))
    if len(rows) > 1:
        ratios = sorted(float(r["wall_over_bound"]) for r in rows)
        print(
            f"wall / latency bound over {len(rows)} runs: "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + f" (median {statistics.median(ratios):.2f})"
        )
    if not args.no_record:
        record(RESULTS, COLUMNS, rows)
        print(f"bench: appended {len(rows)} row(s) to {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def main_org(args: argparse.Namespace) -> None:
    """`make bench ACCOUNTS=N`: N seeded member accounts scanned with `scan --org`."""
    import org

    from awsresp.collect.specs import load_specs

    commit = _git_commit()
    services = [s.service for s in load_specs() if s.service not in MOTO_LACKS]
    with Server() as server, tempfile.TemporaryDirectory(prefix="awsresp-bench-org-") as tmp:
        ids, seed_s = org.seed_organization(server, args.accounts, args.scale, args.seed, services)
        print(f"bench: seeded {len(ids)} accounts in {seed_s:.1f} s", file=sys.stderr)
        warm_s = warm_up(server, services, Path(tmp))
        print(f"bench: warm-up scan (not counted) {warm_s:.1f} s", file=sys.stderr)
        server.middleware.latency = args.latency_ms / 1000
        row = org.measure_org(server, args, services, Path(tmp) / "out", commit, seed_s, len(ids))
    print("Result:")
    print(_table(row.items()))
    if not args.no_record:
        record(org.RESULTS, org.COLUMNS, [row])
        print(f"bench: appended a row to {org.RESULTS.relative_to(ROOT)}", file=sys.stderr)


def measure(
    server: Server,
    args: argparse.Namespace,
    specs: list[Any],
    run_dir: Path,
    commit: str,
    seed_s: float,
) -> tuple[dict[str, Any], Counter[tuple[str, str]], Any]:
    """One measured scan: its results row, its requests by operation, and the minimum."""
    from awsresp.collect.mincalls import minimum_calls
    from awsresp.collect.throttle import RateLimiter

    services = [s.service for s in specs]
    out_dir = run_dir / "out"
    server.middleware.throttled = 0
    with server.middleware.counted() as counted:
        # moto serves in this process: its CPU time shows when the server, not the
        # scanner, is what limits the wall time.
        server_cpu = time.process_time()
        usage, wall = _scan(server.endpoint, out_dir, args.workers, args.rate_limit, services)
        server_cpu = time.process_time() - server_cpu
    counted = Counter(counted)  # the middleware's counter starts over for the next run
    connections = len(server.middleware.connections)
    doc = json.loads((out_dir / "scan.json").read_text())

    resources = [r for r in doc["resources"] if not r["unlisted"]]
    calls = sum(counted.values())
    minimum = minimum_calls(specs, doc["resources"], [REGION], account=doc["account"])
    latency = args.latency_ms / 1000
    bound = minimum.bound_seconds(latency, args.workers)
    rate_bound = minimum.bound_seconds(latency, args.workers, RateLimiter(args.rate_limit).rate_for)
    # The CPU bound: moto and the scanner are one Python process each, and a Python process
    # runs Python code on one core at a time, so neither can finish before its own CPU time;
    # together they cannot finish before their CPU time spread over all cores.
    cpus = os.cpu_count() or 1
    cpu_bound = max(usage["cpu_s"], server_cpu, (usage["cpu_s"] + server_cpu) / cpus)
    row = {
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "commit": commit,
        "scale": args.scale,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "rate_limit": "default" if args.rate_limit is None else args.rate_limit,
        "resources": len(resources),
        "calls": calls,
        "connections": connections,
        "min_calls": minimum.total,
        "calls_per_resource": round(calls / max(1, len(resources)), 2),
        "calls_over_min": round(calls / max(1, minimum.total), 3),
        "wall_s": round(wall, 2),
        "latency_bound_s": round(bound, 2),
        "wall_over_bound": round(wall / bound, 2) if bound else "",
        "rate_bound_s": round(rate_bound, 2),
        "cpu_s": round(usage["cpu_s"], 2),
        "server_cpu_s": round(server_cpu, 2),
        "peak_rss_mb": round(usage["peak_rss_mb"], 1),
        "seed_s": round(seed_s, 1),
        "cpus": cpus,
        "cpu_bound_s": round(cpu_bound, 2),
        "wall_over_cpu_bound": round(wall / cpu_bound, 2) if cpu_bound else "",
        "throttle": args.throttle or "none",
        "throttled": server.middleware.throttled,
        "retries": _retries(usage["stderr"]),
        # The same findings under throttling as without: compare this column across rows.
        "findings_sha": _findings_digest(doc),
        "issues": len(doc["issues"]),
    }
    if os.environ.get("BENCH_KEEP"):
        # BENCH_KEEP=DIR keeps the scan's output directory there (to compare findings).
        import shutil

        shutil.copytree(out_dir, Path(os.environ["BENCH_KEEP"]), dirs_exist_ok=True)
    return row, counted, minimum


def _findings_digest(doc: dict[str, Any]) -> str:
    import hashlib

    rows = sorted(
        f"{f['control_id']}|{f['resource_id']}|{f['region']}|{f['status']}" for f in doc["findings"]
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:12]


def _retries(stderr: str) -> int | str:
    """The retries `--stats` reported, summed over operations (empty if not printed)."""
    import re

    found = re.search(r"^(?:awsresp: )?\s*\d+\s+(\d+)\s+\d+\s+total$", stderr, re.MULTILINE)
    return int(found.group(1)) if found else ""


def record(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Appends rows to a results file. A file written with other columns is first rewritten
    with the new header (its rows keep their values; new columns stay empty)."""
    if path.exists():
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            old_columns, old_rows = reader.fieldnames, list(reader)
        if old_columns != columns:
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns, restval="")
                writer.writeheader()
                writer.writerows(old_rows)
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        if new:
            writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
