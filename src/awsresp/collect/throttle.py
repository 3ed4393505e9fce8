"""Client-side rate caps per service and region and adaptive rates per API (token buckets),
the pool that honours them, the bound on requests in flight, and a count of throttled
answers."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

# Error codes AWS services answer when a caller exceeds an API rate limit.
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "PriorRequestNotComplete",
    }
)

# Calls per second per service, in each region (see Lane), in each account (an
# organization scan gives every account a RateLimiter of its own).
# Where AWS documents a service's per-API quotas the cap follows them (below); elsewhere
# (IAM, STS, Organizations and most others publish none) 20 per second is a conservative
# guess: AWS read APIs are throttled per account and region with token buckets refilled at
# a few dozen calls per second, and 20 leaves the rest to the account's production callers.
DEFAULT_RATE = 20.0
SERVICE_RATES = {
    # EC2 refills each non-mutating API's bucket at 20 tokens per second (the documented
    # example: DescribeHosts, 100 tokens, refilled at 20/s; "Request throttling for the
    # Amazon EC2 API", EC2 developer guide): 10 per second is at most half of any one
    # API's refill, even when a scan's EC2 calls all go to one API (per-snapshot reads).
    "ec2": 10.0,
    # S3 scales request rates per partitioned prefix (at least 5,500 GET/HEAD per second
    # per prefix; "Best practices design patterns: optimizing Amazon S3 performance") and
    # publishes no account-wide rate for bucket configuration reads. A scan makes about
    # ten such reads per bucket, each bucket's once: 200 per second over all buckets is
    # a few per cent of one prefix's rate, while 20 would make an account with 1,000
    # buckets take over eight minutes however fast the network is.
    "s3": 200.0,
    # KMS publishes a quota for each API, per account and region ("Request quotas for each
    # AWS KMS API operation", AWS KMS Developer Guide, docs.aws.amazon.com/kms/latest/
    # developerguide/requests-per-second.html): DescribeKey 2,000/s, GetKeyPolicy and
    # GetKeyRotationStatus 1,000/s, ListKeys and ListAliases 500/s. The cap is one bucket
    # for all of KMS in a region, so 250/s keeps even a scan spent on one API at half of
    # the smallest of those quotas (the rest stays with the account's own callers).
    "kms": 250.0,
}


class TokenBucket:
    """At most `rate` acquisitions per second on average, bursts up to `burst`.

    A caller that finds the bucket empty reserves the next token (the level goes below
    zero) and sleeps until it is due outside the lock, so waiting threads queue fairly.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        empty: bool = False,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 0.0 if empty else self.burst
        self._last = clock()
        self._epoch = 0  # set_rate(empty=True) voids the turns reserved before it
        self._lock = threading.Lock()

    def set_rate(self, rate: float, empty: bool = False) -> None:
        """A new refill rate from now on, the burst the new rate. The tokens due so far at
        the old rate are kept; or, when `empty`, none is left and the calls already waiting
        give up their turns and queue again at the new rate when they wake (a throttled
        API's waiters would otherwise still go out at the rate that was throttled)."""
        with self._lock:
            self._refill()
            self.rate = rate
            self.burst = max(1.0, rate)
            if empty:
                self._tokens = 0.0
                self._epoch += 1
            else:
                self._tokens = min(self._tokens, self.burst)

    def _refill(self) -> None:
        """Adds the tokens due since the last call, up to the burst (caller holds the lock)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def refund(self) -> None:
        """Gives back a token taken by try_acquire and not spent."""
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1.0)

    def try_acquire(self) -> float:
        """Takes one token if there is one (returns 0.0); otherwise takes nothing and
        returns the seconds until one is due."""
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def acquire(self) -> float:
        """Takes one token, sleeping if none is left; returns the seconds waited."""
        waited, epoch = 0.0, -1
        while True:
            with self._lock:
                if waited and self._epoch == epoch:
                    return waited
                self._refill()
                self._tokens -= 1.0
                wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
                epoch = self._epoch
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait


# Where a rate cap applies: a service in a region. AWS throttles most APIs per account and
# region ("Amazon EC2 throttles EC2 API requests for each AWS account on a per-Region
# basis"; AWS KMS quotas are "calculated independently for each Region of each AWS
# account"), so each region of a service has its own bucket. Global services (IAM) are
# always called in one home region and so have one.
Lane = tuple[str, str]


MIN_RATE = 1 / 60
MAX_RATE = 1e6


def parse_rate_limits(
    values: Sequence[str], services: Iterable[str]
) -> tuple[float | None, dict[str, float]]:
    """`--rate-limit` values: `N` caps every service, `SERVICE=N` one service (repeatable);
    0 turns a cap off. Returns (the rate for every service or None, per-service rates).
    Raises ValueError with a one-line reason."""
    known = set(services)
    every: float | None = None
    overrides: dict[str, float] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        try:
            rate = float(number)
        except ValueError:
            raise ValueError(f"--rate-limit {value!r}: expected N or SERVICE=N") from None
        # Below one call a minute a scan would never end (and the token bucket's waits
        # overflow the clock); above a million per second no cap is meant.
        if not (rate == 0 or MIN_RATE <= rate <= MAX_RATE):
            raise ValueError(
                f"--rate-limit {value!r}: the rate is 0 (no cap) or {MIN_RATE:g} to"
                f" {MAX_RATE:g} calls per second"
            )
        if not sep:
            if every is not None:
                raise ValueError("--rate-limit N is given twice; use SERVICE=N for one service")
            every = rate
        elif name not in known:
            raise ValueError(
                f"--rate-limit {value!r}: unknown service {name!r};"
                f" known: {', '.join(sorted(known))}"
            )
        else:
            overrides[name] = rate
    return every, overrides


# How an API's own rate follows the throttling it meets (RateLimiter.observe), chosen with
# `make bench THROTTLE=...` (docs/performance.md#throttling). AWS throttles per API (service,
# operation, account and region), so the rate that adapts is per API, under its lane's
# fixed cap; an API has one only once it is held to a rate.
# - Held: at least HELD_REFUSED of its answers in the last ESTIMATE_S seconds throttled,
#   and at least a third of them. Its rate is then what it was accepted at in that time
#   (at least FLOOR_RATE), paced from an empty bucket (the server's is empty when it
#   throttles). Under a rate throttle that is the server's rate (plus its burst), so one
#   second of answers is enough, where halving a rate over windows needed more windows
#   than an API of a scan sees. Not on the first throttled answer: under throttling at
#   random an API's first second of answers is its demand so far, not a limit (holding
#   APIs there made a scan 11x slower, measured while jobs were still queued by lane);
#   nor only after a run of throttled answers, which a rate throttle interleaves with
#   accepted ones.
# - Then decisions are taken once per window (at least WINDOW seconds and WINDOW_ANSWERS
#   answers). A window with more than CUT_FRACTION of its answers throttled sets the rate to
#   the calls per second accepted in it. When the window after such a measured cut is still
#   throttled, the throttling is not about the rate (a share refused whatever the rate):
#   the API's rate is dropped (the lane's cap alone again) and none is set for FUTILE_S
#   seconds; retries absorb that kind.
# - A window with little throttling raises the rate by PROBE of itself per second.
ESTIMATE_S = 1.0
WINDOW = 1.0
WINDOW_ANSWERS = 6
HELD_REFUSED = 4
CUT_FRACTION = 0.1
FUTILE_S = 60.0
PROBE = 0.05
FLOOR_RATE = 1.0
# More attempts for a throttled read than for other failures (Target.max_attempts).
THROTTLED_EXTRA_ATTEMPTS = 3

# Where an adaptive rate applies: a service's operation in a region.
Api = tuple[str, str, str]
# What FairPool queues by: a lane, or an API of one (a job that makes that API's call).
Queue = Lane | Api


class _Api:
    """One API's recent answers and its adaptive rate, once it has been throttled."""

    def __init__(self, now: float) -> None:
        # The times of its un-throttled and throttled answers in the last ESTIMATE_S.
        self.accepted: deque[float] = deque()
        self.refused: deque[float] = deque()
        self.bucket: TokenBucket | None = None
        self.start = now  # the current window's
        self.answers = 0
        self.throttles = 0
        # The last decision cut the rate to a measured one (the next window judges it).
        self.cut = False
        self.futile_until = now - 1.0


class RateLimiter:
    """One token bucket per (service, region), shared by the threads calling it, and one
    per API (service, region, operation) once that API is held to a rate (observe).

    Hooked on botocore's before-send event, so retries pass through the caps as well.
    A service's rate is its entry in `overrides`, else `rate` for every service, else
    SERVICE_RATES, else DEFAULT_RATE.
    A rate of 0 or less turns the cap off (throttled answers are still counted).
    """

    def __init__(
        self,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        overrides: Mapping[str, float] | None = None,
    ) -> None:
        self.rate = rate
        # Per-service rates (`--rate-limit ec2=50`), ahead of `rate` and the defaults.
        self.overrides = dict(overrides or {})
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[Lane, TokenBucket] = {}
        self._lock = threading.Lock()
        self.waited: dict[str, float] = defaultdict(float)
        self.throttled: dict[tuple[str, str], int] = defaultdict(int)
        # A token FairPool took for the job a thread is running: that job's first call to
        # the service spends it instead of taking another.
        self._prepaid = threading.local()
        self._apis: dict[Api, _Api] = {}
        # Each API's rate decisions (first estimate, cuts, drops), for tests and the bench.
        self.cuts: dict[Api, int] = defaultdict(int)

    def api_rate(self, service: str, region: str, operation: str) -> float | None:
        """The API's own adaptive rate, or None while it has none (the lane's cap alone)."""
        api = self._apis.get((service, region, operation))
        return None if api is None or api.bucket is None else api.bucket.rate

    def api_bucket(self, service: str, region: str, operation: str) -> TokenBucket | None:
        api = self._apis.get((service, region, operation))
        return None if api is None else api.bucket

    def observe(self, service: str, region: str, operation: str, throttled: bool) -> None:
        """Adjusts the API's own rate after one of its answers (see ESTIMATE_S and the
        lines around it)."""
        cap = self.rate_for(service)
        if cap <= 0:
            return
        now = self._clock()
        key = (service, region, operation)
        with self._lock:
            api = self._apis.get(key)
            if api is None:
                api = self._apis[key] = _Api(now)
            for recent in (api.accepted, api.refused):
                while recent and recent[0] <= now - ESTIMATE_S:
                    recent.popleft()
            (api.refused if throttled else api.accepted).append(now)
            accepted_1s, refused_1s = len(api.accepted), len(api.refused)
            # The last second says the API is held to a rate: a third of its answers or more
            # refused, HELD_REFUSED at least.
            held = refused_1s >= HELD_REFUSED and 2 * refused_1s >= accepted_1s
            if api.bucket is None:
                if held and now >= api.futile_until:
                    # Held to a rate (or again, after a futile period): the rate the API was
                    # accepted at in the last second, paced from an empty bucket.
                    api.bucket = TokenBucket(
                        min(cap, max(FLOOR_RATE, float(accepted_1s))),
                        clock=self._clock,
                        sleep=self._sleep,
                        empty=True,
                    )
                    api.cut = False
                    api.start, api.answers, api.throttles = now, 0, 0
                    self.cuts[key] += 1
                return
            api.answers += 1
            api.throttles += throttled
            elapsed = now - api.start
            if elapsed < WINDOW or api.answers < WINDOW_ANSWERS:
                return
            bucket = api.bucket
            accepted = (api.answers - api.throttles) / elapsed
            throttled_share = api.throttles / api.answers
            api.start, api.answers, api.throttles = now, 0, 0
            if throttled_share > CUT_FRACTION:
                if api.cut:
                    # Measured and still throttled: not about the rate.
                    api.bucket = None
                    api.futile_until = now + FUTILE_S
                    api.cut = False
                    self.cuts[key] += 1
                    return
                new, empty = min(cap, max(FLOOR_RATE, accepted)), True
                api.cut = True
                self.cuts[key] += 1
            else:
                api.cut = False
                new, empty = min(cap, bucket.rate * (1 + PROBE * elapsed)), False
        if new != bucket.rate or empty:
            bucket.set_rate(new, empty=empty)

    def rate_for(self, service: str) -> float:
        if service in self.overrides:
            return self.overrides[service]
        if self.rate is not None:
            return self.rate
        return SERVICE_RATES.get(service, DEFAULT_RATE)

    def bucket(self, service: str, region: str) -> TokenBucket | None:
        rate = self.rate_for(service)
        if rate <= 0:
            return None
        with self._lock:
            found = self._buckets.get((service, region))
            if found is None:
                found = TokenBucket(rate, clock=self._clock, sleep=self._sleep)
                self._buckets[(service, region)] = found
            return found

    def try_acquire(self, service: str, region: str, operation: str = "") -> float:
        """0.0 if a call to `service` in `region` (to `operation`, if given) may go now (a
        token is taken for it from the lane's cap and from the API's rate, if it has
        one), else the seconds until one may."""
        own = self.api_bucket(service, region, operation) if operation else None
        if own is not None:
            wait = own.try_acquire()
            if wait > 0:
                return wait
        bucket = self.bucket(service, region)
        wait = 0.0 if bucket is None else bucket.try_acquire()
        if wait > 0 and own is not None:
            own.refund()
        return wait

    def prepay(self, queue: Queue | None) -> None:
        """The current thread holds a token for its next call in `queue`'s lane (and, for
        an API's queue, that API's token if it had a rate of its own; None: no token)."""
        self._prepaid.lane = queue

    def handoff(self) -> Callable[[], None]:
        """Moves the current thread's prepaid token to another thread: call the result there
        (a call run in a thread of its own, calls.Calls, spends its job's token)."""
        lane = getattr(self._prepaid, "lane", None)
        self._prepaid.lane = None
        return lambda: self.prepay(lane)

    def add_wait(self, service: str, seconds: float) -> None:
        with self._lock:
            self.waited[service] += seconds

    def install(self, client: Any, service: str, region: str, max_attempts: int = 0) -> None:
        """Hooks the caps on a client's events. A throttled answer that outlasted botocore's
        `max_attempts` (0: unknown) gets THROTTLED_EXTRA_ATTEMPTS more: each waits for its
        API's token, so they cost time, not a storm, and a read is lost to throttling only
        after 8 throttled answers in a row (a fifth throttled at random: about once in
        400,000 reads, against once in 3,000 after 5)."""
        bucket = self.bucket(service, region)
        lane = (service, region)

        def before_send(event_name: str = "", **_: Any) -> None:
            # Every attempt passes here (botocore builds and sends a retry anew), so a
            # throttled call's retry waits for its API's token as the first attempt did.
            if bucket is None:
                return
            operation = event_name.rpartition(".")[2]
            prepaid = getattr(self._prepaid, "lane", None)
            if prepaid is not None and prepaid[:2] == lane:
                self._prepaid.lane = None
            else:
                waited = bucket.acquire()
                if waited:
                    self.add_wait(service, waited)
            # The event is before-send.<service id>.<operation>: the API's own rate, once
            # it has been throttled, unless FairPool took its token for a job queued by API
            # (or the rate was set since: one call over it).
            api = self.api_bucket(service, region, operation)
            if api is not None and prepaid != (*lane, operation):
                waited = api.acquire()
                if waited:
                    self.add_wait(service, waited)

        def needs_retry(
            response: Any = None, operation: Any = None, attempts: int = 1, **_: Any
        ) -> float | None:
            # Observes; botocore's own retry handler decides whether to retry, up to its
            # max_attempts (it answers None from then on, and this handler's delay counts).
            if not response or operation is None:
                return None
            parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
            code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
            throttled = code in THROTTLE_CODES
            if throttled:
                with self._lock:
                    self.throttled[(service, operation.name)] += 1
            self.observe(service, region, operation.name, throttled)
            extra = max_attempts <= attempts < max_attempts + THROTTLED_EXTRA_ATTEMPTS
            if throttled and max_attempts and extra:
                # botocore's legacy back-off (base 2, full jitter), at most 8 s.
                return random.uniform(0, min(8.0, 2.0 ** (attempts - 1)))
            return None

        client.meta.events.register("before-send", before_send)
        client.meta.events.register("needs-retry", needs_retry)


_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class FairPool:
    """A bounded pool of worker threads that serves per-service queues in turn.

    A plain thread pool takes jobs in submission order: when hundreds of calls to one
    rate-capped service come first, every worker ends up asleep in that service's token
    bucket while calls to other services wait behind them, and the scan takes the sum of
    the services' capped times instead of the longest one. Here a worker takes the next
    job of the next lane (service and region, round robin) whose bucket has a token now,
    takes the token for it (the job's first call spends it, see RateLimiter.prepay), and
    sleeps only when no queued lane has a token. Lanes without a cap are always ready.
    Jobs queued by API (service, region, operation) wait for that API's own rate as well
    (RateLimiter.observe), so a throttled API's jobs do not put every worker to sleep in
    its bucket while the lane's other APIs have work.
    """

    def __init__(self, workers: int, limiter: RateLimiter | None, name: str) -> None:
        self._workers = max(1, workers)
        self._limiter = limiter
        self._name = name
        self._queues: dict[Queue, deque[_Job]] = {}
        self._order: deque[Queue] = deque()  # lanes with queued jobs, next in turn first
        self._blocked_since: dict[Queue, float] = {}
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting in _take
        self._queued = 0  # jobs not yet taken
        self._shutdown = False

    def submit(self, lane: Queue, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new jobs after shutdown")
            queue = self._queues.get(lane)
            if queue is None:
                queue = self._queues[lane] = deque()
                self._order.append(lane)
            queue.append((fut, fn, args))
            self._queued += 1
            # A thread more whenever the jobs waiting outnumber the threads waiting: a woken
            # thread counts as waiting until it runs, so "no thread idle" would miss a burst
            # of jobs that arrives while the threads wait for a capped lane's token.
            if self._queued > self._idle and len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return fut

    def shutdown(self, cancel_futures: bool = False) -> None:
        """Stops the workers once the queues are empty; never waits for running jobs."""
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                for queue in self._queues.values():
                    for fut, _fn, _args in queue:
                        fut.cancel()
                self._queues.clear()
                self._order.clear()
                self._queued = 0
            self._cond.notify_all()

    def _take(self) -> tuple[Queue, _Job] | None:
        with self._cond:
            while True:
                timeout: float | None = None  # no capped lane to wait for: until notified
                if not self._order:
                    if self._shutdown:
                        return None
                else:
                    for _ in range(len(self._order)):
                        lane = self._order[0]
                        wait = self._limiter.try_acquire(*lane) if self._limiter else 0.0
                        if wait <= 0:
                            return lane, self._pop(lane)
                        self._order.rotate(-1)
                        self._blocked_since.setdefault(lane, time.monotonic())
                        timeout = wait if timeout is None else min(timeout, wait)
                self._idle += 1
                self._cond.wait(timeout)
                self._idle -= 1

    def _pop(self, lane: Queue) -> _Job:
        queue = self._queues[lane]
        job = queue.popleft()
        self._queued -= 1
        self._order.popleft()
        if queue:
            self._order.append(lane)  # to the back: the others go first
        else:
            del self._queues[lane]
        blocked = self._blocked_since.pop(lane, None)
        if blocked is not None and self._limiter is not None:
            # --stats: how long the cap held back a service that had work queued.
            self._limiter.add_wait(lane[0], time.monotonic() - blocked)
        return job

    def _work(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            lane, (fut, fn, args) = taken
            if not fut.set_running_or_notify_cancel():
                continue
            if self._limiter is not None:
                self._limiter.prepay(lane)
            try:
                result = fn(*args)
            except BaseException as exc:  # the future carries it to whoever waits
                fut.set_exception(exc)
            else:
                fut.set_result(result)
            finally:
                if self._limiter is not None:
                    self._limiter.prepay(None)


class InFlight:
    """At most `limit` API requests on the wire at once, across every client of a scan.

    A slot is taken just before a request is sent (botocore's `before-send`, after the
    request is built and signed, and after the rate caps and botocore's adaptive limiter
    let it go) and given back as soon as its answer has been read (`before-parse`), or
    when the attempt ends without one (`response-received` with an exception, or
    `after-call-error` when an error escapes botocore). So `--max-workers` slots are spent
    waiting on the network, not on the scanner's own work around each call (building,
    signing and parsing are a millisecond or more of CPU per call), and a retry's back-off
    sleep holds no slot. A thread makes one request at a time, so the set of holding
    threads says whether it holds a slot, and giving back twice is harmless.
    """

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, limit))
        # The threads holding a slot: a call abandoned at its deadline (calls.Calls) gives
        # its slot back from the waiting thread, and its own thread's later give is a no-op.
        self._holders: set[int] = set()
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        """Registers on a client's events; register after every other `before-send`
        handler that may wait (rate caps), so waiting for a token holds no slot."""
        events = client.meta.events
        events.register("before-send", self._take)
        events.register("before-parse", self._give)
        events.register("response-received", self._give)
        events.register("after-call-error", self._give)

    def _take(self, **_: Any) -> None:
        self._slots.acquire()
        with self._lock:
            self._holders.add(threading.get_ident())

    def _give(self, **_: Any) -> None:
        self.abandon(threading.get_ident())

    def abandon(self, thread: int) -> None:
        """Gives back the slot `thread` holds, if it holds one."""
        with self._lock:
            if thread not in self._holders:
                return
            self._holders.discard(thread)
        self._slots.release()
