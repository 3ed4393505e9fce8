"""The per-service rate cap, the bound on requests in flight, the command line's garbage
collector policy and the spec-derived minimum number of API calls."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest

from awsresp.collect.mincalls import minimum_calls
from awsresp.collect.specs import load_specs
from awsresp.collect.throttle import (
    DEFAULT_RATE,
    SERVICE_RATES,
    FairPool,
    InFlight,
    RateLimiter,
    TokenBucket,
)

from .stubs import PeakOnTheWire


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=5, burst=2, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2:] == pytest.approx([0.2, 0.2, 0.2])
    assert clock.now == pytest.approx(100.6)


def test_token_bucket_refills_while_idle_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    clock.now += 60.0  # a long pause refills to the burst, not to 600 tokens
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.1)


class _FakeClient:
    """Only what RateLimiter.install touches: client.meta.events.register."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}
        self.meta = self
        self.events = self

    def register(self, name: str, fn: Any) -> None:
        self.handlers[name] = fn


class _Op:
    name = "DescribeInstances"


def test_rate_limiter_caps_every_send_per_service_and_region() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, clock=clock, sleep=clock.sleep)
    ec2_a, ec2_b, ec2_eu, iam = _FakeClient(), _FakeClient(), _FakeClient(), _FakeClient()
    limiter.install(ec2_a, "ec2", "us-east-1")
    limiter.install(ec2_b, "ec2", "us-east-1")  # a second client shares the region's bucket
    limiter.install(ec2_eu, "ec2", "eu-west-1")  # AWS throttles per region: a bucket of its own
    limiter.install(iam, "iam", "us-east-1")
    for client in (ec2_a, ec2_b, ec2_a, ec2_b):
        client.handlers["before-send"]()
    ec2_eu.handlers["before-send"]()
    ec2_eu.handlers["before-send"]()
    iam.handlers["before-send"]()
    assert clock.slept == pytest.approx([0.5, 0.5])
    assert limiter.waited == pytest.approx({"ec2": 1.0})
    assert RateLimiter(rate=0).bucket("ec2", "us-east-1") is None


def test_rate_limiter_counts_throttled_answers() -> None:
    limiter = RateLimiter(rate=0)
    client = _FakeClient()
    limiter.install(client, "ec2", "us-east-1")
    client.handlers["before-send"]()
    retry = client.handlers["needs-retry"]
    retry(response=(None, {"Error": {"Code": "RequestLimitExceeded"}}), operation=_Op())
    retry(response=(None, {"Error": {"Code": "AccessDenied"}}), operation=_Op())
    retry(response=None, operation=_Op())
    assert dict(limiter.throttled) == {("ec2", "DescribeInstances"): 1}


def _bucket(name: str, region: str | None = "us-east-1") -> dict[str, Any]:
    config = {"Name": name}
    if region:
        config["BucketRegion"] = region
    return {"type": "s3.bucket", "region": "us-east-1", "config": config, "unlisted": False}


def test_minimum_calls_counts_pages_per_item_details_and_hooks_once() -> None:
    specs = [s for s in load_specs() if s.service in ("iam", "s3")]
    s3_spec = next(s for s in specs if s.service == "s3")
    bucket = next(r for r in s3_spec.resources if r.noun == "bucket")
    per_bucket = len([d for d in bucket.details if d.call and not d.unless])
    users = [
        {"type": "iam.user", "region": "global", "config": {"UserName": f"u{i}"}}
        for i in range(1500)
    ]
    # One bucket lacks BucketRegion, so it alone needs GetBucketLocation.
    buckets = [_bucket("a"), _bucket("b"), _bucket("c", region=None)]
    found = minimum_calls(specs, users + buckets, ["us-east-1"], account="123456789012")
    iam_spec = next(s for s in specs if s.service == "iam")
    account = next(r for r in iam_spec.resources if r.noun == "account")
    # RoleAwsManagedPolicies reads the users' listing (same call): no call of its own.
    account_calls = len([d for d in account.details if d.call]) - 1
    # 1,500 users over page size 1,000: two pages of GetAccountAuthorizationDetails, shared
    # by the four IAM types; the credential report read once for users and root (one of
    # the account's calls) after its ready hook's GenerateCredentialReport (polled, counted
    # once); one page of server certificates.
    assert found.by_service["iam"] == 2 + account_calls + 1 + 1
    assert found.by_lane[("iam", "us-east-1")] == found.by_service["iam"]
    # ListBuckets once, per-bucket details, one location; the account-level block is an
    # s3control call, counted for the client it goes to.
    assert found.by_service["s3"] == 1 + per_bucket * 3 + 1
    assert found.by_service["s3control"] == 1
    assert found.by_service["sts"] == 1
    # Identity, then the longest chain: a bucket's list page, location and details (the IAM
    # account's report generation, then its details with the report's read, make 2).
    assert found.chain == 1 + 3
    assert found.total == sum(found.by_service.values())


def _function(name: str, subnets: list[str]) -> dict[str, Any]:
    config = {"FunctionName": name, "PackageType": "Zip", "VpcConfig": {"SubnetIds": subnets}}
    return {"type": "lambda.function", "region": "us-east-1", "config": config}


def test_minimum_calls_count_a_join_once_per_region_and_only_when_some_item_needs_it() -> None:
    specs = [s for s in load_specs() if s.service == "lambda"]
    (res,) = specs[0].resources
    # Zip functions: every per-item detail is read (code signing is skipped for images only).
    per_function = len([d for d in res.details if d.call and not d.join])
    outside = [_function(f"f{i}", []) for i in range(3)]
    found = minimum_calls(specs, outside, ["us-east-1"])
    # No function is in a VPC: the subnet join (`when` its subnets) reads nothing.
    assert ("ec2", "us-east-1") not in found.by_lane
    assert found.by_service["lambda"] == 1 + 3 * per_function
    inside = [*outside, _function("a", ["s-1"]), _function("b", ["s-2", "s-3"])]
    found = minimum_calls(specs, inside, ["us-east-1"])
    # One DescribeSubnets for the region, on the EC2 client, however many functions.
    assert found.by_lane[("ec2", "us-east-1")] == 1 and found.by_service["ec2"] == 1
    # Identity, the listing, then the per-function details with the join beside them.
    assert found.chain == 1 + 2


def test_latency_bound_respects_workers_chain_and_rate() -> None:
    specs = [s for s in load_specs() if s.service == "s3"]
    found = minimum_calls(specs, [_bucket(f"b{i}") for i in range(100)], ["us-east-1"])
    total = found.total
    assert found.bound_seconds(0.02, workers=total) == pytest.approx(found.chain * 0.02)
    assert found.bound_seconds(0.02, workers=4) == pytest.approx(-(-total // 4) * 0.02)
    # The cap applies per (client, region): the bucket reads all go to the s3 client in
    # us-east-1, the account-level block to s3control.
    assert sum(found.by_lane.values()) == total
    assert found.bound_seconds(0.02, workers=4, rate=lambda _svc: 10) == pytest.approx(
        (found.by_lane[("s3", "us-east-1")] - 10) / 10
    )


def test_rate_limiter_defaults_per_service_and_an_explicit_rate_overrides() -> None:
    assert RateLimiter().rate_for("iam") == DEFAULT_RATE
    assert RateLimiter().rate_for("s3") == SERVICE_RATES["s3"]
    assert RateLimiter(rate=5).rate_for("s3") == 5


def _wait_for(futures: list[Future[Any]], clock: FakeClock | None = None) -> None:
    """Waits for the futures, letting the fake clock run (1 s per step) if one is given."""
    deadline = time.monotonic() + 10
    while not all(f.done() for f in futures):
        assert time.monotonic() < deadline, "the pool did not finish its jobs"
        if clock is not None:
            clock.now += 1.0
        time.sleep(0.01)


def test_fair_pool_serves_other_services_while_a_capped_one_waits_for_tokens() -> None:
    # The clock stands still: each service has its burst of 2 tokens and no more.
    clock = FakeClock()
    limiter = RateLimiter(rate=2, clock=clock, sleep=clock.sleep)
    pool = FairPool(2, limiter, "test")
    done: list[tuple[str, int]] = []
    lock = threading.Lock()

    def job(service: str, i: int) -> int:
        with lock:
            done.append((service, i))
        return i

    iam = [pool.submit(("iam", "us-east-1"), job, "iam", i) for i in range(6)]
    ec2 = [pool.submit(("ec2", "us-east-1"), job, "ec2", i) for i in range(2)]
    # A first-in-first-out pool would have both workers asleep on IAM's bucket and EC2's
    # jobs queued behind the four IAM jobs that have no token yet.
    _wait_for(ec2)
    assert [f.result() for f in ec2] == [0, 1]
    assert sum(f.done() for f in iam) == 2
    _wait_for(iam, clock)  # time passes: IAM's bucket refills and its jobs run, in order
    assert [i for svc, i in done if svc == "iam"] == list(range(6))
    assert limiter.waited["iam"] > 0  # --stats shows how long the cap held IAM back
    pool.shutdown()


def test_fair_pool_job_spends_the_token_it_was_given_on_its_first_call() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=3, clock=clock, sleep=clock.sleep)
    client = _FakeClient()
    limiter.install(client, "kms", "eu-west-1")
    pool = FairPool(2, limiter, "test")
    lane = ("kms", "eu-west-1")
    # Three jobs, one call each, a burst of 3: the pool takes a token per job and each
    # job's call spends it, so nobody sleeps and the bucket is then empty.
    jobs = [pool.submit(lane, client.handlers["before-send"]) for _ in range(3)]
    _wait_for(jobs)
    assert clock.slept == []
    assert limiter.try_acquire(*lane) > 0
    # A job's second call (a second page, a retry) takes a token of its own: with one
    # and a half tokens refilled, the job starts and its second call waits half a token.
    clock.now += 0.5
    two_calls = pool.submit(lane, lambda: [client.handlers["before-send"]() for _ in range(2)])
    _wait_for([two_calls])
    assert clock.slept == pytest.approx([0.5 / 3])
    pool.shutdown()


def test_fair_pool_serves_an_apis_neighbours_while_its_own_rate_holds_it_back() -> None:
    clock = FakeClock()  # stands still until the end
    limiter = RateLimiter(rate=100, clock=clock, sleep=clock.sleep)
    for _ in range(4):  # GetBucketAcl is held to a rate: 1/s, from an empty bucket
        limiter.observe("s3", "us-east-1", "GetBucketAcl", True)
    assert limiter.api_rate("s3", "us-east-1", "GetBucketAcl") == 1.0
    pool = FairPool(2, limiter, "test")
    acl = [pool.submit(("s3", "us-east-1", "GetBucketAcl"), lambda i=i: i) for i in range(3)]
    policy = [pool.submit(("s3", "us-east-1", "GetBucketPolicy"), lambda i=i: i) for i in range(3)]
    # The lane has tokens: the other API's jobs run, and no worker sleeps in ACL's bucket.
    _wait_for(policy)
    assert not any(f.done() for f in acl)
    assert clock.slept == []
    _wait_for(acl, clock)  # time passes: ACL's jobs run at its rate
    assert [f.result() for f in acl] == [0, 1, 2]
    pool.shutdown()


def test_fair_pool_passes_errors_through_and_cancels_queued_jobs_on_shutdown() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1, clock=clock, sleep=clock.sleep)
    pool = FairPool(1, limiter, "test")

    def boom() -> None:
        raise ValueError("boom")

    failed = pool.submit(("ec2", "us-east-1"), boom)
    _wait_for([failed])
    assert isinstance(failed.exception(), ValueError)
    queued = pool.submit(("ec2", "us-east-1"), lambda: None)  # empty bucket, clock stopped
    pool.shutdown(cancel_futures=True)
    assert queued.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(("ec2", "us-east-1"), lambda: None)


def test_fair_pool_without_a_cap_runs_everything() -> None:
    pool = FairPool(4, RateLimiter(rate=0), "test")
    futures = [pool.submit((f"svc{i % 3}", "us-east-1"), lambda i=i: i * i) for i in range(30)]
    _wait_for(futures)
    assert [f.result() for f in futures] == [i * i for i in range(30)]
    pool.shutdown()


def test_fair_pool_grows_for_a_burst_that_arrives_while_its_threads_wait_for_tokens() -> None:
    clock = FakeClock()  # stands still: IAM's lane never gets another token
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)  # the default caps
    while limiter.try_acquire("iam", "us-east-1") == 0.0:
        pass  # IAM's burst is spent; S3's (200) is not
    pool = FairPool(4, limiter, "test")
    waiting = pool.submit(("iam", "us-east-1"), lambda: None)
    time.sleep(0.05)  # the pool's one thread now waits for IAM's next token
    # Four jobs that can only finish together: the pool must run them on four threads.
    barrier = threading.Barrier(4)
    burst = [pool.submit(("s3", "us-east-1"), barrier.wait, 5) for _ in range(4)]
    _wait_for(burst)
    assert all(f.exception() is None for f in burst)
    assert not waiting.done()
    pool.shutdown(cancel_futures=True)


def test_rate_limit_values_set_every_service_or_one() -> None:
    from awsresp.collect.throttle import parse_rate_limits

    known = {"ec2", "s3", "iam"}
    assert parse_rate_limits([], known) == (None, {})
    assert parse_rate_limits(["0"], known) == (0.0, {})
    assert parse_rate_limits(["5", "ec2=50", "s3=0"], known) == (5.0, {"ec2": 50.0, "s3": 0.0})
    limiter = RateLimiter(None, overrides={"ec2": 50.0, "s3": 0.0})
    assert limiter.rate_for("ec2") == 50.0
    assert limiter.bucket("s3", "us-east-1") is None  # s3=0: no cap for S3 alone
    assert limiter.rate_for("iam") == DEFAULT_RATE
    assert RateLimiter(0, overrides={"kms": 3.0}).rate_for("kms") == 3.0


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (["fast"], "expected N or SERVICE=N"),
        (["ec2="], "expected N or SERVICE=N"),
        (["-1"], r"0 \(no cap\) or"),
        (["ec2=nan"], r"0 \(no cap\) or"),
        (["1e-300"], r"0 \(no cap\) or"),
        (["inf"], r"0 \(no cap\) or"),
        (["nosuch=5"], "unknown service 'nosuch'; known: ec2, iam, s3"),
        (["5", "6"], "given twice"),
    ],
)
def test_rate_limit_values_that_are_refused(values: list[str], reason: str) -> None:
    from awsresp.collect.throttle import parse_rate_limits

    with pytest.raises(ValueError, match=reason):
        parse_rate_limits(values, {"ec2", "s3", "iam"})


def _finishes(fn: Any, timeout: float = 20.0) -> list[str]:
    """Runs fn in a thread; returns what it recorded, or fails if it does not finish."""
    outcomes: list[str] = []
    thread = threading.Thread(target=fn, args=(outcomes,), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still waiting for a request slot after {outcomes}"
    return outcomes


def test_in_flight_gives_the_slot_back_after_answers_errors_and_failed_connections() -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, EndpointConnectionError
    from moto import mock_aws

    # One slot: any call that kept it (an error answer, or no answer at all) would leave
    # the next call waiting forever.
    in_flight = InFlight(1)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        in_flight.install(s3)
        s3.create_bucket(Bucket="no-policy")

        def answers(out: list[str]) -> None:
            for _ in range(3):
                try:
                    s3.get_bucket_policy(Bucket="no-policy")
                except ClientError as exc:
                    out.append(exc.response["Error"]["Code"])
                out.append(str(len(s3.list_buckets()["Buckets"])))

        assert _finishes(answers) == ["NoSuchBucketPolicy", "1"] * 3

    # Nothing listens on 127.0.0.1:9: every attempt fails to connect, and is retried.
    nowhere = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=Config(connect_timeout=1, retries={"mode": "standard", "total_max_attempts": 2}),
    )
    in_flight.install(nowhere)

    def failed_connections(out: list[str]) -> None:
        for _ in range(2):
            try:
                nowhere.get_caller_identity()
            except EndpointConnectionError:
                out.append("no connection")

    assert _finishes(failed_connections) == ["no connection"] * 2


def test_in_flight_bounds_requests_on_the_wire_across_threads() -> None:
    import boto3
    from moto import mock_aws

    in_flight = InFlight(2)
    on_wire = PeakOnTheWire(hold=0.02)

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        in_flight.install(s3)
        s3.meta.events.register("before-send", on_wire)  # after the slot is taken
        threads = [threading.Thread(target=s3.list_buckets) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert on_wire.peak == 2


def test_the_command_line_freezes_its_imports_and_defers_full_collections() -> None:
    import gc

    from awsresp import cli

    threshold = gc.get_threshold()
    try:
        cli._tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (threshold[0], threshold[1], 1000)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_command_line_asks_glibc_for_two_malloc_arenas_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctypes

    from awsresp import cli

    calls: list[tuple[int, int]] = []

    class FakeLibc:
        def mallopt(self, option: ctypes.c_int, value: ctypes.c_int) -> int:
            calls.append((option.value, value.value))
            return 1

    monkeypatch.setattr(cli.ctypes, "CDLL", lambda name: FakeLibc())
    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    cli._limit_malloc_arenas()
    assert calls == [(-8, 2)]  # M_ARENA_MAX, 2

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the user's choice stands
    cli._limit_malloc_arenas()
    assert calls == [(-8, 2)]

    monkeypatch.delenv("MALLOC_ARENA_MAX")

    def no_glibc(name: str) -> Any:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(cli.ctypes, "CDLL", no_glibc)
    cli._limit_malloc_arenas()  # musl and others: nothing to do, no error
    assert calls == [(-8, 2)]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _per_api_scan(
    refused: Any, apis: int = 4, calls: int = 120, demand: float = 40.0
) -> tuple[dict[str, list[float]], int, int, float]:
    """Several APIs of one service lane (capped at 200/s), each with `calls` reads queued
    and sending up to `demand` per second when its own rate lets it; `refused(api, now)`
    says whether the server throttles a request (a throttled read is sent again).
    Returns each API's rate after each of its answers (0 while it has none), the answers,
    the throttled answers and the seconds until every read was accepted."""
    clock = _Clock()
    limiter = RateLimiter(overrides={"s3": 200.0}, clock=clock, sleep=lambda _s: None)
    names = [f"Get{i}" for i in range(apis)]
    left = dict.fromkeys(names, calls)
    next_send = dict.fromkeys(names, 0.0)
    rates: dict[str, list[float]] = {name: [] for name in names}
    answers = throttled = 0
    step = 1 / 1000
    while any(left.values()):
        assert clock.now < 600, "the scan did not finish"
        for name in names:
            if not left[name] or clock.now < next_send[name]:
                continue
            own = limiter.api_bucket("s3", "us-east-1", name)
            if own is not None and own.try_acquire() > 0:
                continue
            next_send[name] = clock.now + 1 / demand
            refused_now = refused(name, clock.now)
            answers += 1
            throttled += refused_now
            left[name] -= not refused_now
            limiter.observe("s3", "us-east-1", name, refused_now)
            rates[name].append(limiter.api_rate("s3", "us-east-1", name) or 0.0)
        clock.now += step
    return rates, answers, throttled, clock.now


def _rate_throttle(per_s: float) -> Any:
    """A server that refuses each API's calls above `per_s` (a token bucket, burst `per_s`)."""
    buckets: dict[str, tuple[float, float]] = {}

    def refused(api: str, now: float) -> bool:
        tokens, last = buckets.get(api, (per_s, now))
        tokens = min(per_s, tokens + (now - last) * per_s)
        hit = tokens < 1
        buckets[api] = (tokens if hit else tokens - 1, now)
        return hit

    return refused


def test_a_rate_throttle_per_api_makes_each_api_converge_near_its_rate() -> None:
    # AWS throttles per API: four APIs of one lane, each refused above 5 calls/s, while the
    # lane's cap is 200/s. Each API's own rate settles near 5 after one throttle event,
    # and few answers are throttled.
    rates, answers, throttled, seconds = _per_api_scan(_rate_throttle(5.0))
    for name, seen in rates.items():
        later = [r for r in seen[60:] if r]
        assert later and 3.5 < sum(later) / len(later) < 6.5, (name, later)
    assert throttled / answers < 0.1, (throttled, answers)
    # 120 reads an API at 5/s (after a burst of 5) take 23 s: the scan is near that.
    assert seconds < 23 * 1.25, seconds


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_throttling_barely_slows_the_apis(seed: int) -> None:
    # A fifth of the answers throttled whatever the rate: an API's rate would not help.
    # The reads take at most twice as long as their demand says (120 / 0.8 answers at
    # 40/s): a chance run of throttles sets a rate near what the API asked in the last
    # second, dropped once seen not to help.
    import random

    rng = random.Random(seed)
    _rates, answers, throttled, seconds = _per_api_scan(lambda _api, _now: rng.random() < 0.2)
    assert 0.15 < throttled / answers < 0.25
    assert seconds < 120 / 0.8 / 40 * 2, seconds


def test_an_api_rate_paces_retries_and_new_calls_through_before_send() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    client = _FakeClient()
    limiter.install(client, "s3", "us-east-1")

    class Acl:
        name = "GetBucketAcl"

    send = client.handlers["before-send"]
    answer = client.handlers["needs-retry"]
    slow_down = (None, {"Error": {"Code": "SlowDown"}})
    for _ in range(3):
        send(event_name="before-send.s3.GetBucketAcl")
        answer(response=slow_down, operation=Acl())
    # Three throttled answers could be chance (a fifth throttled at random): no rate yet.
    assert limiter.api_rate("s3", "us-east-1", "GetBucketAcl") is None
    send(event_name="before-send.s3.GetBucketAcl")
    answer(response=slow_down, operation=Acl())
    # Four, and nothing accepted in the last second: held to a rate, here the floor,
    # 1/s, from an empty bucket. The next attempt (a retry passes here too) waits its turn.
    assert limiter.api_rate("s3", "us-east-1", "GetBucketAcl") == 1.0
    assert clock.slept == []
    send(event_name="before-send.s3.GetBucketAcl")
    assert clock.slept == pytest.approx([1.0])
    # Another operation of the same lane has no rate of its own.
    send(event_name="before-send.s3.GetBucketPolicy")
    assert clock.slept == pytest.approx([1.0])
    assert limiter.throttled[("s3", "GetBucketAcl")] == 4


def test_a_throttled_read_gets_more_attempts_than_other_failures() -> None:
    limiter = RateLimiter(clock=FakeClock())
    client = _FakeClient()
    limiter.install(client, "s3", "us-east-1", max_attempts=5)
    answer = client.handlers["needs-retry"]

    class Acl:
        name = "GetBucketAcl"

    slow_down = (None, {"Error": {"Code": "SlowDown"}})
    # Below botocore's max_attempts its own handler decides: this one only observes.
    assert answer(response=slow_down, operation=Acl(), attempts=4) is None
    # From there, three more attempts for throttling, each after a back-off of at most 8 s.
    delays = [answer(response=slow_down, operation=Acl(), attempts=n) for n in (5, 6, 7)]
    assert all(d is not None and 0 <= d <= 8 for d in delays), delays
    assert answer(response=slow_down, operation=Acl(), attempts=8) is None
    # Other failures end at max_attempts as before.
    denied = (None, {"Error": {"Code": "InternalError"}})
    assert answer(response=denied, operation=Acl(), attempts=5) is None


def test_token_bucket_emptied_at_a_lower_rate_requeues_its_waiters() -> None:
    clock = FakeClock()
    cut = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not cut:  # the API is throttled while this call waits: its rate is cut
            cut.append(True)
            bucket.set_rate(0.5, empty=True)

    bucket = TokenBucket(rate=1, burst=1, clock=clock, sleep=sleep)
    assert bucket.acquire() == 0.0
    # Reserved a turn 1 s ahead at 1/s; woken after the cut, it queues again at 0.5/s.
    assert bucket.acquire() == pytest.approx(1.0 + 2.0)


def test_minimum_calls_count_each_element_read_once_and_joins_once_per_region() -> None:
    specs = [s for s in load_specs() if s.service in ("guardduty", "config")]
    detectors = {"Detectors": [{"DetectorId": "d1"}, {"DetectorId": "d2"}]}
    recorders = {"Recorders": [{"name": "default"}, {"name": "AWSConfigurationRecorderForX"}]}
    found = minimum_calls(
        specs,
        [
            {"type": "guardduty.detection", "region": "us-east-1", "config": detectors},
            {"type": "guardduty.detection", "region": "eu-west-1", "config": {"Detectors": []}},
            {"type": "config.recorder", "region": "us-east-1", "config": recorders},
            {"type": "config.recorder", "region": "eu-west-1", "config": {"Recorders": []}},
        ],
        ["us-east-1", "eu-west-1"],
    )
    # ListDetectors in each region, GetDetector per detector found.
    assert found.by_lane[("guardduty", "us-east-1")] == 1 + 2
    assert found.by_lane[("guardduty", "eu-west-1")] == 1
    # Config: the recorders' status is one joined read, only where a recorder was found.
    config_calls = {r.type: r for s in specs for r in s.resources}["config.recorder"].details
    per_region = len([d for d in config_calls if d.call])
    assert found.by_lane[("config", "us-east-1")] == per_region + 1
    assert found.by_lane[("config", "eu-west-1")] == per_region


def test_minimum_calls_count_each_reads_of_a_list_read_on_another_client() -> None:
    """The CIS fact's trails come from one DescribeTrails on the CloudTrail client; the
    reads made for each trail count too (status and selectors in its home region, the log
    group's filters, and each alarmed topic's subscriptions)."""
    specs = [s for s in load_specs() if s.service == "cloudwatch"]
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    trail = {
        "Name": "main",
        "TrailARN": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/main",
        "HomeRegion": "eu-west-1",
        "LogGroupArn": "arn:aws:logs:eu-west-1:123456789012:log-group:trail-logs:*",
        "MetricFilters": [{"metricTransformations": [{"metricName": "m"}]}],
        "Alarms": [{"AlarmActions": [topic]}],
    }
    fact = {"type": "cloudwatch.cis-alarms", "region": "global", "config": {"Trails": [trail]}}
    found = minimum_calls(specs, [fact], ["us-east-1"])
    assert found.by_lane[("cloudtrail", "us-east-1")] == 1  # DescribeTrails
    # GetTrailStatus, GetEventSelectors in the trail's home region.
    assert found.by_lane[("cloudtrail", "eu-west-1")] == 2
    assert found.by_lane[("logs", "eu-west-1")] == 1
    assert found.by_lane[("cloudwatch", "eu-west-1")] == 1  # DescribeAlarms, joined
    assert found.by_lane[("sns", "eu-west-1")] == 1
    assert found.total == sum(found.by_lane.values())
