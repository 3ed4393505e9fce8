"""Executes collector specs against AWS: pagination, detail calls, errors into CollectionIssues."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import jmespath
from botocore import xform_name
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from awsresp.collect import hooks, shapes
from awsresp.collect.session import Target
from awsresp.collect.specs import CallSpec, DetailSpec, ResourceSpec, ServiceSpec, is_template
from awsresp.collect.throttle import THROTTLE_CODES, FairPool
from awsresp.model import CollectionIssue, Inventory, IssueKind, Resource

GLOBAL = "global"
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
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
# Throttling that outlasted the retries; the rate limiter backs off on the same codes.
_THROTTLED = THROTTLE_CODES
_NETWORK_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    # An answer that is not the protocol's format, after botocore's retries: e.g. the HTML
    # error page an endpoint (moto) sends for an operation it does not implement.
    ResponseParserError,
    # The same gap in moto in-process (tests): it raises instead of answering HTML.
    NotImplementedError,
)

ProgressCallback = Callable[[str], None]
DEADLINE_EXCEEDED = "DeadlineExceeded"


def classify(code: str, not_enabled: Iterable[str] = ()) -> IssueKind:
    if code in _DENIED:
        return IssueKind.ACCESS_DENIED
    if code in _NOT_ENABLED or code in set(not_enabled):
        return IssueKind.NOT_ENABLED
    if code in _THROTTLED:
        return IssueKind.THROTTLED
    return IssueKind.ERROR


def to_json_safe(value: Any) -> Any:
    """Raw API answers as plain JSON values: timestamps become ISO 8601 strings in UTC."""
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
    if isinstance(value, float) and value.is_integer():
        return value
    return value


_HTML_PAGE = re.compile(r"<!doctype html|<html", re.IGNORECASE)
HTML_PAGE_MESSAGE = "the endpoint answered with an HTML error page, not an AWS error"


def one_line(text: str) -> str:
    """An issue's message as one line of at most 300 characters, so CSV rows and syslog
    lines stay whole; an HTML error page (moto's answer to an operation it does not
    implement, or a proxy's) is named, not copied."""
    if _HTML_PAGE.search(text):
        return HTML_PAGE_MESSAGE
    return " ".join(text.split())[:300]


def error_code(exc: ClientError) -> str:
    """The AWS error code; the HTTP status when the body carries none (some 403s have no body)."""
    meta = exc.response.get("ResponseMetadata", {})
    return str(exc.response.get("Error", {}).get("Code") or meta.get("HTTPStatusCode") or "Unknown")


BUDGET_EXCEEDED = "ServiceTimeBudgetExceeded"


class _Failure(Exception):
    """A read that failed in a classified way; carries the CollectionIssue."""

    def __init__(self, issue: CollectionIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class _Absent:
    """The read succeeded and said "not configured"."""


ABSENT = _Absent()


@dataclass
class _ScanContext:
    """What hooks see: scan variables plus cached calls for one region."""

    collector: Collector
    account: str
    partition: str
    region: str

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.collector._cached_call(
            service, self.region, operation, params
        )
        return answer

    def call_in(self, region: str, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        return self.collector._cached_call(service, region, operation, params)

    def call_uncached(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.collector.check_deadline(operation)
        self.collector._within_budget(service, operation)
        client = self.collector.target.client(service, self.region)
        return dict(getattr(client, _snake(client, operation))(**params))

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        return self.collector._once(key, compute)


def _hook_action(hook: str, res: ResourceSpec, operation: str) -> str:
    # A hook may call other services (ELBv2's reads WAFv2, the CIS alarms read CloudTrail and
    # CloudWatch Logs):
    # the action it declared for the operation, else the resource's own prefix.
    for action in hooks.HOOKS[hook].iam_actions:
        if action.endswith(f":{operation}"):
            return action
    return f"{res.iam_prefix}:{operation}"


def _snake(client: Any, operation: str) -> str:
    return str(xform_name(operation))


def _render(template: str, item: Mapping[str, Any], variables: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        found = jmespath.search(name, item)
        return "" if found is None else str(found)

    return _TEMPLATE_FIELD.sub(value, template)


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        out: dict[str, str] = {}
        for t in raw:
            if isinstance(t, dict):
                key = t.get("Key", t.get("key", t.get("TagKey")))
                val = t.get("Value", t.get("value", t.get("TagValue", "")))
                if key is not None:
                    out[str(key)] = str(val)
        return out
    return {}


REDACTED = "<redacted>"


def redact(config: dict[str, Any], path: str) -> None:
    """Replaces the value at a dotted path (every value, if it is a mapping) in place."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = config.get(head[:-2])
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                redact(item, rest)
        return
    if head not in config:
        return
    if rest:
        if isinstance(config[head], dict):
            redact(config[head], rest)
        return
    value = config[head]
    if isinstance(value, dict):
        config[head] = dict.fromkeys(value, REDACTED)
    elif value is not None:
        config[head] = REDACTED


class Collector:
    """Runs every spec for one account over the given regions."""

    def __init__(
        self,
        target: Target,
        specs: Sequence[ServiceSpec],
        account: str,
        partition: str,
        regions: Sequence[str],
        progress: ProgressCallback | None = None,
        deadline: float | None = None,
        after_type: Callable[[list[Resource]], Any] | None = None,
    ) -> None:
        self.target = target
        # Called in the worker thread with each (resource type, region)'s resources as soon
        # as they are collected; its answers are kept in inventory order (after_type_results),
        # so work such as evaluating controls overlaps with the calls still under way.
        self.after_type = after_type
        self.after_type_results: list[Any] = []
        # A time.monotonic() instant after which no new call is made (Lambda's time budget):
        # skipped calls fail as 'DeadlineExceeded', so what they would have shown is unknown.
        self.deadline = deadline
        self.specs = specs
        self.account = account
        self.partition = partition
        self.regions = list(regions)
        self.progress = progress or (lambda _msg: None)
        self._issues: list[CollectionIssue] = []
        self._lock = threading.Lock()
        self._once_cache: dict[str, Future[Any]] = {}
        self._service_started: dict[str, float] = {}
        # At most max_workers requests are on the wire at once, whichever pool's thread (or
        # hook) makes them (the target's clients hold a slot per request: throttle.InFlight);
        # each pool has that many threads, so threads building, signing or parsing a call
        # do not leave slots idle.
        workers = max(1, target.max_workers)
        # Two pools, because a listing waits for its details. Both serve services in turn,
        # so one rate-capped service does not hold every worker (throttle.FairPool).
        self._list_pool = FairPool(workers, target.limiter, "awsresp-list")
        self._detail_pool = FairPool(workers, target.limiter, "awsresp-detail")

    # -- public ---------------------------------------------------------------------------

    def run(self) -> Inventory:
        started = _now()
        jobs: list[tuple[ServiceSpec, ResourceSpec, str]] = []
        for spec in self.specs:
            regions = [self._home_region()] if spec.scope == GLOBAL else self.regions
            jobs += [(spec, res, region) for res in spec.resources for region in regions]
        # A progress reporter that can show a bar learns how many steps to expect.
        set_total = getattr(self.progress, "set_total", None)
        if callable(set_total):
            set_total(len(jobs))
        try:
            futures = [
                self._list_pool.submit((job[1].client, job[2]), self._collect_and_hand_on, *job)
                for job in jobs
            ]
            done = [f.result() for f in futures]
            resources = [r for built, _ in done for r in built]
            self.after_type_results = [result for _, result in done]
        finally:
            self._list_pool.shutdown(cancel_futures=True)
            self._detail_pool.shutdown(cancel_futures=True)
            # The raw answers were only kept so no call is made twice; the resources hold
            # what was extracted from them. Freed now, evaluation and writing reuse the
            # memory instead of adding to the peak.
            with self._lock:
                self._once_cache.clear()
        return Inventory(
            account=self.account,
            partition=self.partition,
            regions=tuple(self.regions),
            resources=tuple(resources),
            issues=tuple(self._issues),
            started_at=started,
            finished_at=_now(),
            complete=not self._issues,
            services=tuple(dict.fromkeys(spec.service for spec in self.specs)),
        )

    # -- calls ----------------------------------------------------------------------------

    def check_deadline(self, operation: str) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            # Raised as the error a failed call raises, so every caller (specs and hooks)
            # records it as a CollectionIssue of kind 'error'; never cached.
            raise ClientError(
                {"Error": {"Code": DEADLINE_EXCEEDED, "Message": "time budget used up"}},
                operation,
            )

    def _home_region(self) -> str:
        return "us-gov-west-1" if self.partition == "aws-us-gov" else "us-east-1"

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            fut = self._once_cache.get(key)
            owner = fut is None
            if fut is None:
                fut = Future()
                self._once_cache[key] = fut
        if owner:
            try:
                fut.set_result(compute())
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()

    def _cached_call(
        self,
        service: str,
        region: str,
        operation: str,
        params: Mapping[str, Any],
        page_size: int | None = None,
    ) -> Any:
        """Each (service, region, operation, parameters) is called once per scan.

        Paginated operations return the list of pages; others return the answer.
        """
        key = json.dumps([service, region, operation, params], sort_keys=True, default=str)
        self.check_deadline(operation)

        def compute() -> Any:
            self._within_budget(service, operation)
            client = self.target.client(service, region)
            method = _snake(client, operation)
            if client.can_paginate(method):
                paginator = client.get_paginator(method)
                config = {"PageSize": page_size} if page_size else {}
                answer: Any = list(paginator.paginate(**params, PaginationConfig=config))
            else:
                answer = getattr(client, method)(**params)
            return to_json_safe(answer)

        return self._once(key, compute)

    def _within_budget(self, service: str, operation: str) -> None:
        """Fails every further call to a service once it has used up its time budget, so a
        service that stays unavailable ends as issues in bounded time instead of a hang (each
        call is itself bounded by the timeouts and retries of the Target)."""
        now = time.monotonic()
        with self._lock:
            started = self._service_started.setdefault(service, now)
        if now - started > self.target.service_budget:
            message = f"{service} used up its time budget of {self.target.service_budget:g}s"
            raise ClientError({"Error": {"Code": BUDGET_EXCEEDED, "Message": message}}, operation)

    def _read(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        call: CallSpec,
        params: Mapping[str, Any],
    ) -> Any:
        """One classified read: the value, ABSENT, or a _Failure carrying the issue."""
        try:
            return self._cached_call(
                call.client or res.client,
                region,
                call.operation,
                {**call.const_params, **params},
                call.page_size,
            )
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = error_code(exc)
            if code in call.absent_on:
                return ABSENT
            kind = classify(code, call.not_enabled_on)
            raise _Failure(
                CollectionIssue(
                    service=spec.service,
                    region=region,
                    operation=call.operation,
                    error_code=code,
                    kind=kind,
                    message=one_line(str(err.get("Message", ""))),
                    resource_type=res.type,
                    iam_action=call.iam_action,
                )
            ) from None
        except _NETWORK_ERRORS as exc:
            raise _Failure(
                CollectionIssue(
                    service=spec.service,
                    region=region,
                    operation=call.operation,
                    error_code=type(exc).__name__,
                    kind=IssueKind.ERROR,
                    message=one_line(str(exc)),
                    resource_type=res.type,
                    iam_action=call.iam_action,
                )
            ) from None

    def _hook_issue(
        self, spec: ServiceSpec, res: ResourceSpec, region: str, hook: str, exc: Exception
    ) -> CollectionIssue:
        if isinstance(exc, ClientError):
            code, operation = error_code(exc), exc.operation_name
        else:  # a network error: the hook's first operation is the best name there is
            code, operation = type(exc).__name__, hooks.HOOKS[hook].operations[0][1]
        return CollectionIssue(
            service=spec.service,
            region=region,
            operation=operation,
            error_code=code,
            kind=classify(code),
            message=one_line(str(exc)),
            resource_type=res.type,
            iam_action=_hook_action(hook, res, operation),
        )

    def _record(self, issue: CollectionIssue) -> None:
        if self.target.sandbox and issue.message == HTML_PAGE_MESSAGE:
            # moto, the sandbox's AWS, answers operations it does not implement (Firewall
            # Manager, SSM inventory, ...) with an HTML page: in the sandbox that service is
            # not available, so say so rather than report a server error.
            issue = dataclasses.replace(
                issue,
                error_code="NotImplementedBySandbox",
                kind=IssueKind.NOT_ENABLED,
                message=f"the sandbox (moto) does not implement {issue.operation}: not assessed",
            )
        with self._lock:
            self._issues.append(issue)

    # -- one resource type in one region ----------------------------------------------

    def _collect_and_hand_on(
        self, spec: ServiceSpec, res: ResourceSpec, region: str
    ) -> tuple[list[Resource], Any]:
        built = self._collect_type(spec, res, region)
        return built, (self.after_type(built) if self.after_type else None)

    def _collect_type(self, spec: ServiceSpec, res: ResourceSpec, region: str) -> list[Resource]:
        scope_region = GLOBAL if spec.scope == GLOBAL else region
        if res.singleton:
            items: list[dict[str, Any]] = [{}]
        else:
            try:
                items = self._list(spec, res, region)
            except _Failure as failure:
                self._record(failure.issue)
                self.progress(f"{res.type} {scope_region}: could not list ({failure.issue.kind})")
                return [self._unlisted(res, scope_region)]
        built = self._with_details(spec, res, region, scope_region, items)
        self.progress(f"{res.type} {scope_region}: {len(built)}")
        return built

    def _list(self, spec: ServiceSpec, res: ResourceSpec, region: str) -> list[dict[str, Any]]:
        if res.list_hook:
            hook = hooks.HOOKS[res.list_hook]
            ctx = _ScanContext(self, self.account, self.partition, region)
            try:
                return [dict(i) for i in hook.fn(ctx, [])]
            except (ClientError, *_NETWORK_ERRORS) as exc:
                raise _Failure(self._hook_issue(spec, res, region, res.list_hook, exc)) from None
        assert res.list is not None and res.list_items is not None
        answer = self._read(spec, res, region, res.list, res.list.params)
        if answer is ABSENT:
            return []
        pages = answer if isinstance(answer, list) else [answer]
        items: list[dict[str, Any]] = []
        for page in pages:
            found = jmespath.search(res.list_items, page) or []
            items += [i if isinstance(i, dict) else {"Value": i} for i in found]
        return items

    def _unlisted(self, res: ResourceSpec, region: str) -> Resource:
        return Resource(
            type=res.type,
            id="*",
            arn="",
            name="(could not be listed)",
            account=self.account,
            region=region,
            unreadable=frozenset({"*"}),
            account_fact=res.singleton,
            unlisted=True,
        )

    def _detail_values(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region_of: Callable[[int], str],
        items: Sequence[dict[str, Any]],
        details: Sequence[Any],
        configs: list[dict[str, Any]],
        unreadable: list[set[str]],
    ) -> None:
        """Fills configs[i][detail.key] for every item, concurrently."""
        if not items:
            # Nothing to detail; hooks would otherwise ask for the region of item 0.
            return
        futures: list[tuple[int, str, Future[Any]]] = []
        # Item by item: one item's calls follow one another, so botocore's endpoint cache
        # (100 entries per client, keyed by parameters such as the bucket name) answers all
        # but the first. Detail by detail, more than 100 buckets evict each other and every
        # S3 call evaluates the whole endpoint rule set again.
        call_details = [d for d in details if not d.hook and not d.join]
        for i, item in enumerate(items):
            for detail in call_details:
                if detail.unless and jmespath.search(detail.unless, item):
                    continue
                if not self._applies(detail, configs[i], unreadable[i]):
                    continue
                params = {
                    name: self._param(path, item, region_of(i))
                    for name, path in detail.call.params.items()
                }
                fut = self._detail_pool.submit(
                    (detail.call.client or res.client, region_of(i)),
                    self._read,
                    spec,
                    res,
                    region_of(i),
                    detail.call,
                    params,
                )
                futures.append((i, detail.key, fut))
        # Joins and hooks run here while the calls above are under way.
        for detail in details:
            if detail.join:
                self._join(spec, res, region_of, detail, configs, unreadable)
        for detail in details:
            if not detail.hook:
                continue
            ctx = _ScanContext(self, self.account, self.partition, region_of(0))
            try:
                values = hooks.HOOKS[detail.hook].fn(ctx, items)
            except (ClientError, *_NETWORK_ERRORS) as exc:
                self._record(self._hook_issue(spec, res, region_of(0), detail.hook, exc))
                for i in range(len(items)):
                    configs[i][detail.key] = None
                    unreadable[i].add(detail.key)
                continue
            for i, value in enumerate(values):
                configs[i][detail.key] = to_json_safe(value)
        calls = {d.key: d.call for d in details if d.call}
        for i, key, fut in futures:
            try:
                value = fut.result()
            except _Failure as failure:
                self._record(failure.issue)
                configs[i][key] = None
                unreadable[i].add(key)
                continue
            configs[i][key] = _finish(calls[key], value)

    def _applies(self, detail: DetailSpec, config: dict[str, Any], unreadable: set[str]) -> bool:
        """Whether an item's detail is read. Where its `when` does not hold the detail is
        null; where what `when` reads could not be read, neither can the detail."""
        if not detail.when:
            return True
        if shapes.roots(detail.when) & unreadable:
            unreadable.add(detail.key)
            config[detail.key] = None
            return False
        if not shapes.applies(detail, config):
            config[detail.key] = None
            return False
        return True

    def _join(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region_of: Callable[[int], str],
        detail: DetailSpec,
        configs: list[dict[str, Any]],
        unreadable: list[set[str]],
    ) -> None:
        """A join: one read of the listing per region, made only when some item names a key."""
        assert detail.call is not None and detail.join is not None
        by_region: dict[str, list[int]] = {}
        for i, config in enumerate(configs):
            if self._applies(detail, config, unreadable[i]):
                by_region.setdefault(region_of(i), []).append(i)
        call, join = detail.call, detail.join
        for region, indexes in by_region.items():
            answer: Any = []
            if any(shapes.join_keys(join, configs[i]) for i in indexes):
                try:
                    answer = self._read(spec, res, region, call, {})
                except _Failure as failure:
                    self._record(failure.issue)
                    for i in indexes:
                        configs[i][detail.key] = None
                        unreadable[i].add(detail.key)
                    continue
            if answer is ABSENT:
                answer = []
            values = shapes.join_values(
                join, answer, [configs[i] for i in indexes], lambda v: _finish(call, v)
            )
            for i, value in zip(indexes, values, strict=True):
                configs[i][detail.key] = value

    def _param(self, path: str, item: Mapping[str, Any], region: str) -> Any:
        if path == "$account":
            return self.account
        if path == "$region":
            return region
        if path == "$partition":
            return self.partition
        return jmespath.search(path, item)

    def _with_details(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        scope_region: str,
        items: list[dict[str, Any]],
    ) -> list[Resource]:
        # Cached answers are JSON-safe already: each configuration is a shallow copy of its
        # item and shares the nested values with the answer, so the raw data is held once.
        configs = [dict(item) for item in items]
        unreadable: list[set[str]] = [set() for _ in items]
        first = [d for d in res.details if d.before_region]
        rest = [d for d in res.details if not d.before_region]
        for stage in shapes.stages(first):
            self._detail_values(spec, res, lambda _i: region, items, stage, configs, unreadable)
        regions = [
            str(jmespath.search(res.region, c) or scope_region) if res.region else scope_region
            for c in configs
        ]

        def region_of(i: int) -> str:
            # Detail calls go to the item's own region; global resources use the home region.
            return region if regions[i] == GLOBAL else regions[i]

        for stage in shapes.stages(rest):
            self._detail_values(spec, res, region_of, items, stage, configs, unreadable)
        out = []
        for i, config in enumerate(configs):
            variables = {"partition": self.partition, "account": self.account, "region": regions[i]}
            rid = _render(res.id, config, variables) if is_template(res.id) else None
            if rid is None:
                found = jmespath.search(res.id, config)
                rid = "" if found is None else str(found)
            name = jmespath.search(res.name, config) if res.name else None
            for path in res.redact:
                redact(config, path)
            out.append(
                Resource(
                    type=res.type,
                    id=rid,
                    arn=_render(res.arn, config, variables),
                    name=str(name) if name is not None else rid,
                    account=self.account,
                    region=regions[i],
                    tags=_tags(jmespath.search(res.tags, config)) if res.tags else {},
                    config=config,
                    unreadable=frozenset(unreadable[i]),
                    account_fact=res.singleton,
                )
            )
        return out


def _finish(call: CallSpec, value: Any) -> Any:
    """A detail's value from its answer: ABSENT as null, then its result path and transform
    (JSON-safe already, as every cached answer)."""
    if value is ABSENT:
        return None
    if call.result:
        value = jmespath.search(call.result, value)
    if call.transform:
        value = hooks.TRANSFORMS[call.transform](value)
    return value


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
