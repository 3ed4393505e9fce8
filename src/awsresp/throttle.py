"""Client-side rate cap per service (token buckets) and a count of throttled answers."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
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

# Calls per second per service. AWS refills most read APIs' token buckets at 20 or more
# calls per second per account (EC2 describe calls, IAM), so 20 leaves the rest to the
# account's own production callers of the same APIs.
DEFAULT_RATE = 20.0
# S3 serves at least 5,500 reads per second per bucket prefix; per-bucket configuration
# reads at 100 per second over all buckets stay far below that, and 20 would make an
# account with many buckets take (calls / 20) seconds however fast the network is.
SERVICE_RATES = {"s3": 100.0}


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
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Takes one token, sleeping if none is left; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiter:
    """One token bucket per service, shared by that service's clients in every region.

    Hooked on botocore's before-send event, so retries pass through the cap as well.
    `rate` applies to every service; None means SERVICE_RATES, else DEFAULT_RATE.
    A rate of 0 or less turns the cap off (throttled answers are still counted).
    """

    def __init__(
        self,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self.waited: dict[str, float] = defaultdict(float)
        self.throttled: dict[tuple[str, str], int] = defaultdict(int)

    def rate_for(self, service: str) -> float:
        if self.rate is not None:
            return self.rate
        return SERVICE_RATES.get(service, DEFAULT_RATE)

    def bucket(self, service: str) -> TokenBucket | None:
        rate = self.rate_for(service)
        if rate <= 0:
            return None
        with self._lock:
            found = self._buckets.get(service)
            if found is None:
                found = TokenBucket(rate, clock=self._clock, sleep=self._sleep)
                self._buckets[service] = found
            return found

    def install(self, client: Any, service: str) -> None:
        bucket = self.bucket(service)

        def before_send(**_: Any) -> None:
            if bucket is not None:
                waited = bucket.acquire()
                if waited:
                    with self._lock:
                        self.waited[service] += waited

        def needs_retry(response: Any = None, operation: Any = None, **_: Any) -> None:
            # Observes only; botocore's own retry handler decides whether to retry.
            if not response or operation is None:
                return
            parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
            code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
            if code in THROTTLE_CODES:
                with self._lock:
                    self.throttled[(service, operation.name)] += 1

        client.meta.events.register("before-send", before_send)
        client.meta.events.register("needs-retry", needs_retry)
