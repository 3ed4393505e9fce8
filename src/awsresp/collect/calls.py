"""How every read is made: once per scan, within the deadlines and budgets, checked, classified.

The collector and the hooks (through `HookContext`) call AWS only through `Calls`. A read
ends in one of three ways: an answer, a `ClientError` from AWS (hooks may expect some codes,
as a spec's `absent_on` does), or a `CallFailed` carrying the
`CollectionIssue` that says why nothing was read (an exhausted budget, a deadline, a
malformed answer, the network). Nothing here invents a `ClientError`.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import random
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from awsresp.collect.throttle import THROTTLE_CODES
from awsresp.model import CollectionIssue, IssueKind

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
    "403",
}
_NOT_ENABLED = {
    "OptInRequired",
    "SubscriptionRequiredException",
    "AWSOrganizationsNotInUseException",
    "InvalidClientTokenId",  # what a disabled opt-in region answers
}
NETWORK_ERRORS: tuple[type[Exception], ...] = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    # moto in-process (tests) raises this for an operation it does not implement, where its
    # server answers an HTML page.
    NotImplementedError,
)
# What botocore (or one of its customizations, such as S3's bucket-location handler) raises
# while reading an answer that is not the protocol's format: a body that is not UTF-8, XML
# that does not parse, an HTML page where the query protocol expects `<OpResult>`.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ResponseParserError,
    UnicodeError,
    ET.ParseError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
)

DEADLINE_EXCEEDED = "DeadlineExceeded"
CALL_DEADLINE_EXCEEDED = "CallDeadlineExceeded"
BUDGET_EXCEEDED = "ServiceTimeBudgetExceeded"
MALFORMED = "MalformedResponse"

T = TypeVar("T")


def classify(code: str, not_enabled: Iterable[str] = ()) -> IssueKind:
    if code in _DENIED:
        return IssueKind.ACCESS_DENIED
    if code in _NOT_ENABLED or code in set(not_enabled):
        return IssueKind.NOT_ENABLED
    if code in THROTTLE_CODES:  # throttling that outlasted the retries
        return IssueKind.THROTTLED
    return IssueKind.ERROR


def error_code(exc: ClientError) -> str:
    """The AWS error code; the HTTP status when the body carries none (some 403s have no body)."""
    meta = exc.response.get("ResponseMetadata", {})
    return str(exc.response.get("Error", {}).get("Code") or meta.get("HTTPStatusCode") or "Unknown")


class CallFailed(Exception):
    """A read that ended without an answer, for the reason its issue gives."""

    def __init__(self, issue: CollectionIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class BudgetExhausted(CallFailed):
    """The service used up its time budget: no further call is made to it."""


class DeadlineExceeded(CallFailed):
    """The scan's deadline passed (or a call outlasted its own): the call was not made, or
    was abandoned."""


class MalformedResponse(CallFailed):
    """A 2xx answer that is not the operation's protocol and shape, after retries."""


def _issue(
    service: str, region: str, operation: str, code: str, message: str, kind: IssueKind
) -> CollectionIssue:
    return CollectionIssue(
        service=service,
        region=region,
        operation=operation,
        error_code=code,
        kind=kind,
        message=one_line(message),
    )


def to_json_safe(value: Any) -> Any:
    """Raw API answers as plain JSON values: timestamps become ISO 8601 strings in UTC, and
    blobs "<N bytes>": a blob never becomes text here (ListVirtualMFADevices answers the
    devices' secret seeds and QR codes as blobs). The one way to keep one is a spec's `text`
    (`with_text`)."""
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def with_text(answer: Any, members: Collection[str]) -> Any:
    """An answer (or each page of one) with its top-level blob `members` as UTF-8 text: a
    spec names them in `text` where the blob is a document it reads (GetCredentialReport's
    CSV Content holds booleans and dates, no secret). The only place a blob becomes text;
    a blob that is not UTF-8 raises UnicodeDecodeError, a malformed answer."""
    if not members:
        return answer
    if isinstance(answer, list):
        return [with_text(page, members) for page in answer]
    if not isinstance(answer, Mapping):
        return answer
    out = dict(answer)
    for name in members:
        if isinstance(out.get(name), bytes):
            out[name] = out[name].decode("utf-8")
    return out


_HTML_PAGE = re.compile(r"<!doctype html|<html", re.IGNORECASE)
HTML_PAGE_MESSAGE = "the endpoint answered with an HTML error page, not an AWS error"


def one_line(text: str) -> str:
    """An issue's message as one line of at most 300 characters, so CSV rows and syslog
    lines stay whole; an HTML error page (moto's answer to an operation it does not
    implement, or a proxy's) is named, not copied."""
    if _HTML_PAGE.search(text):
        return HTML_PAGE_MESSAGE
    return " ".join(text.split())[:300]


# --- malformed answers ------------------------------------------------------------------


class MalformedAnswer(Exception):
    """Raised by the after-call check on the last attempt's malformed answer."""


def _body_members(shape: Any) -> bool:
    """Whether the output shape has members the body carries (not headers or status)."""
    if shape is None:
        return False
    return any(
        m.serialization.get("location") is None for m in getattr(shape, "members", {}).values()
    )


def malformed(
    http: Any, parsed: Any, model: Any, expected: Mapping[tuple[str, str], str]
) -> str | None:
    """Why a 2xx answer is not the operation's protocol and shape, or None.

    botocore reads a JSON body that does not parse (HTML, truncated) as `{}` and an HTML page
    in the EC2 or REST-XML protocol as an empty answer: both would mean "nothing there". So
    an answer is malformed when it is an HTML page, when a JSON protocol's body is not a JSON
    object, when XML does not parse, when the body is empty although the shape puts members
    in it, or when a listing's items member (`expected`, from the specs, which know what they
    read) is missing.
    """
    status = getattr(http, "status_code", 0)
    if not 200 <= status < 300 or model.has_streaming_output:
        return None
    # Not by content type: moto's server labels many JSON answers text/html, and some AWS
    # endpoints label theirs loosely; the body says what it is.
    body: bytes = getattr(http, "content", b"") or b""
    protocol = model.service_model.protocol
    shape = model.output_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload and shape.members[payload].type_name in ("string", "blob"):
        # The body is the value itself (S3's GetBucketPolicy answers the policy's JSON).
        protocol = "raw"
    stripped = body.strip()
    if stripped[:14].lower().startswith((b"<!doctype html", b"<html")):
        return "the answer is an HTML page"
    if not stripped:
        if _body_members(model.output_shape):
            return "the answer is empty"
    elif protocol in ("json", "rest-json"):
        try:
            document = json.loads(stripped)
        except ValueError:
            return "the answer is not JSON"
        if not isinstance(document, dict):
            return "the answer is not a JSON object"
    elif protocol == "rest-xml":
        # The query and EC2 parsers reject XML that does not parse; REST-XML's may skip it.
        try:
            ET.fromstring(stripped)
        except ET.ParseError:
            return "the answer is not XML"
    member = expected.get((model.service_model.service_name, model.name))
    if member and isinstance(parsed, dict) and member not in parsed:
        return f"the answer has no {member}"
    return None


def install_answer_check(
    client: Any, expected: Mapping[tuple[str, str], str], max_attempts: int
) -> None:
    """Checks every answer of a client, in one place: a malformed answer or one botocore
    cannot parse is retried like a transient error (botocore's `needs-retry` event, within
    the same number of attempts), and the last attempt's malformed answer raises
    MalformedAnswer (the `after-call` event) instead of reaching the caller as "nothing"."""

    def needs_retry(
        response: Any = None,
        operation: Any = None,
        attempts: int = 1,
        caught_exception: Exception | None = None,
        **_: Any,
    ) -> float | None:
        if attempts >= max_attempts or operation is None:
            return None
        if caught_exception is not None:
            if isinstance(caught_exception, PARSE_ERRORS) and not _other_botocore(caught_exception):
                return _backoff(attempts)
            return None
        answered = isinstance(response, tuple) and len(response) == 2
        if answered and malformed(response[0], response[1], operation, expected):
            return _backoff(attempts)
        return None

    def after_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        reason = malformed(http_response, parsed, model, expected)
        if reason:
            raise MalformedAnswer(reason)

    client.meta.events.register("needs-retry", needs_retry)
    client.meta.events.register("after-call", after_call)


def _other_botocore(exc: Exception) -> bool:
    """A botocore error that is not about the answer's format (parameter validation...)."""
    return isinstance(exc, BotoCoreError) and not isinstance(exc, ResponseParserError)


def _backoff(attempts: int) -> float:
    # botocore's standard mode: full jitter, base 2, at most 20 s; from 50 ms here, since a
    # malformed answer is more often a flaky proxy than a loaded service.
    return random.uniform(0, min(20.0, 0.05 * 2**attempts))


# --- the scan's calls ---------------------------------------------------------------------


class Calls:
    """Every read of one scan: the cache (each (service, region, operation, parameters) at
    most once), values computed once, the scan's deadline, each service's time budget, each
    call's own deadline, and the classification of what went wrong."""

    def __init__(
        self,
        client: Callable[[str, str], Any],
        service_budget: float,
        call_deadline: float | None = None,
        deadline: float | None = None,
        abandon: Callable[[int], None] = lambda _thread: None,
        handoff: Callable[[], Callable[[], None]] = lambda: lambda: None,
        text: Mapping[tuple[str, str], Collection[str]] | None = None,
    ) -> None:
        self._client = client
        # (client, operation) -> the blob members its answers keep as text (specs' `text`,
        # registered on the target by the collector): `with_text`.
        self._text = {} if text is None else text
        self.service_budget = service_budget
        # Seconds one API call (connect, read and botocore's retries together; each page of
        # a listing) may take before it is abandoned: botocore's read timeout restarts with
        # every byte, so an endpoint trickling one byte a second would hold it forever.
        self.call_deadline = call_deadline
        # A time.monotonic() instant after which no call is made and calls under way are
        # abandoned (--deadline, the Lambda's time budget).
        self.deadline = deadline
        # Told the thread id of a call it abandons (the target frees its request slot).
        self._abandon = abandon
        # Moves per-thread state (the rate token a pool job prepaid) to the call's thread.
        self._handoff = handoff
        self._lock = threading.Lock()
        self._once: dict[str, Future[Any]] = {}
        self._service_started: dict[str, float] = {}

    def clear(self) -> None:
        with self._lock:
            self._once.clear()

    # -- limits ------------------------------------------------------------------------

    def check_deadline(self, service: str, region: str, operation: str) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceeded(
                _issue(
                    service,
                    region,
                    operation,
                    DEADLINE_EXCEEDED,
                    "the scan's deadline passed before this read",
                    IssueKind.ERROR,
                )
            )

    def within_budget(self, service: str, region: str, operation: str) -> None:
        """Fails every further call to a service once it has used up its time budget, so a
        service that stays unavailable ends as issues in bounded time instead of a hang."""
        now = time.monotonic()
        with self._lock:
            started = self._service_started.setdefault(service, now)
        if now - started > self.service_budget:
            message = f"{service} used up its time budget of {self.service_budget:g}s"
            raise BudgetExhausted(
                _issue(service, region, operation, BUDGET_EXCEEDED, message, IssueKind.ERROR)
            )

    # -- calls -------------------------------------------------------------------------

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """compute() once per scan, whichever thread asks first; the others wait for it."""
        with self._lock:
            fut = self._once.get(key)
            owner = fut is None
            if fut is None:
                fut = Future()
                self._once[key] = fut
        if owner:
            try:
                fut.set_result(compute())
            except BaseException as exc:
                fut.set_exception(exc)
        result: T = fut.result()
        return result

    def cached(
        self,
        service: str,
        region: str,
        operation: str,
        params: Mapping[str, Any],
        page_size: int | None = None,
    ) -> Any:
        """Each (service, region, operation, parameters) is called once per scan. Paginated
        operations return the list of pages; others the answer, JSON-safe."""
        key = json.dumps([service, region, operation, params], sort_keys=True, default=str)
        self.check_deadline(service, region, operation)
        return self.once(key, lambda: self._call(service, region, operation, params, page_size))

    def uncached(
        self, service: str, region: str, operation: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A call made every time (polling), its answer as botocore gives it (bytes stay bytes)."""
        self.check_deadline(service, region, operation)
        self.within_budget(service, region, operation)
        call = getattr(self._client(service, region), str(xform_name(operation)))
        return dict(self._watched(service, region, operation, lambda _beat: call(**params)))

    def _call(
        self,
        service: str,
        region: str,
        operation: str,
        params: Mapping[str, Any],
        page_size: int | None,
    ) -> Any:
        self.within_budget(service, region, operation)
        client = self._client(service, region)
        method = str(xform_name(operation))
        # Decoded on the call's thread, so a blob that is not UTF-8 is a malformed answer.
        text = self._text.get((service, operation), ())
        if client.can_paginate(method):
            paginator = client.get_paginator(method)
            config = {"PageSize": page_size} if page_size else {}
            answer: Any = self._watched(
                service,
                region,
                operation,
                lambda beat: with_text(
                    _pages(paginator.paginate(**params, PaginationConfig=config), beat), text
                ),
            )
        else:
            call = getattr(client, method)
            answer = dict(
                self._watched(
                    service, region, operation, lambda _beat: with_text(call(**params), text)
                )
            )
        return to_json_safe(answer)

    def _watched(
        self, service: str, region: str, operation: str, fn: Callable[[Callable[[], None]], T]
    ) -> T:
        """Runs fn in a thread of its own and waits at most until the call's deadline (renewed
        by each page) or the scan's: a call that outlasts them is abandoned (its thread ends
        when its socket does) and the read fails as a DeadlineExceeded issue. A parse error
        or a malformed answer fails as MalformedResponse; AWS's errors reach the caller as
        they are, and the network's as a CallFailed."""
        if self.call_deadline is None and self.deadline is None:
            return self._classified(service, region, operation, lambda: fn(lambda: None))
        done = threading.Event()
        last = [time.monotonic()]
        box: list[Any] = []
        thread_id = [0]
        arrive = self._handoff()

        def beat() -> None:
            last[0] = time.monotonic()

        def run() -> None:
            thread_id[0] = threading.get_ident()
            arrive()
            try:
                box.append((True, self._classified(service, region, operation, lambda: fn(beat))))
            except BaseException as exc:  # handed to the waiting thread
                box.append((False, exc))
            finally:
                done.set()

        _RUNNER.submit(run)
        while not done.is_set():
            ends = [] if self.deadline is None else [self.deadline]
            if self.call_deadline is not None:
                ends.append(last[0] + self.call_deadline)
            until = min(ends)
            if time.monotonic() >= until:
                self._abandon(thread_id[0])
                scan = self.deadline is not None and time.monotonic() >= self.deadline
                code = DEADLINE_EXCEEDED if scan else CALL_DEADLINE_EXCEEDED
                message = (
                    "abandoned at the scan's deadline"
                    if scan
                    else f"no answer within the call deadline of {self.call_deadline:g}s"
                )
                raise DeadlineExceeded(
                    _issue(service, region, operation, code, message, IssueKind.ERROR)
                )
            done.wait(max(0.0, until - time.monotonic()))
        ok, value = box[0]
        if ok:
            result: T = value
            return result
        raise value

    @staticmethod
    def _classified(service: str, region: str, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ClientError:
            raise
        except MalformedAnswer as exc:
            raise MalformedResponse(
                _issue(service, region, operation, MALFORMED, str(exc), IssueKind.ERROR)
            ) from None
        except NETWORK_ERRORS as exc:
            raise CallFailed(
                _issue(service, region, operation, type(exc).__name__, str(exc), IssueKind.ERROR)
            ) from None
        except PARSE_ERRORS as exc:
            if _other_botocore(exc):
                raise
            # The whole text: the collector's one_line names an HTML page rather than copy it.
            message = f"unreadable answer ({type(exc).__name__}: {exc})"
            raise MalformedResponse(
                _issue(service, region, operation, MALFORMED, message, IssueKind.ERROR)
            ) from None


class _Runner:
    """Threads that run the calls `_watched` waits for, reused from call to call (starting a
    thread costs about a millisecond, as much as a call's own work); daemon threads, so a
    call abandoned on a hung socket never keeps the process from exiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            # Each job has a thread of its own: an idle one, or a new one.
            start = self._idle == 0
            if start:
                self._count += 1
            else:
                self._idle -= 1
        self._jobs.put(job)
        if start:
            name = f"awsresp-call-{self._count}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            self._jobs.get()()
            with self._lock:
                self._idle += 1


_RUNNER = _Runner()


class NoAnswerInTime(Exception):
    """A bounded call (`bounded`) had no answer by its deadline."""


def bounded(fn: Callable[[], T], until: float | None) -> T:
    """fn on a worker thread, abandoned at `until` (time.monotonic()): the reads before a
    scan's collection (whoami, the account's regions) keep the deadlines its calls keep, so
    a hanging or trickling endpoint cannot hold them either."""
    if until is None:
        return fn()
    done = threading.Event()
    box: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # handed to the waiting thread
            box.append((False, exc))
        finally:
            done.set()

    _RUNNER.submit(run)
    if not done.wait(max(0.0, until - time.monotonic())):
        raise NoAnswerInTime()
    ok, value = box[0]
    if ok:
        result: T = value
        return result
    raise value


def _pages(pages: Iterable[Any], beat: Callable[[], None]) -> list[Any]:
    out = []
    for page in pages:
        out.append(page)
        beat()
    return out
