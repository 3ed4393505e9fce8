"""Executes collector specs against AWS: pagination, detail calls, errors into CollectionIssues."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect import hooks, shapes
from awsresp.collect.calls import (
    BUDGET_EXCEEDED,
    DEADLINE_EXCEEDED,
    HTML_PAGE_MESSAGE,
    MALFORMED,
    NETWORK_ERRORS,
    CallFailed,
    Calls,
    classify,
    error_code,
    one_line,
    to_json_safe,
)
from awsresp.collect.iam_actions import action_for
from awsresp.collect.session import Target
from awsresp.collect.specs import (
    CallSpec,
    DetailSpec,
    EachRead,
    JoinSpec,
    ResourceSpec,
    ServiceSpec,
    is_template,
)
from awsresp.collect.throttle import FairPool
from awsresp.model import CollectionIssue, Finding, Inventory, IssueKind, Resource

__all__ = [
    "BUDGET_EXCEEDED",
    "DEADLINE_EXCEEDED",
    "HTML_PAGE_MESSAGE",
    "MALFORMED",
    "Collector",
    "classify",
    "error_code",
    "one_line",
    "to_json_safe",
]

GLOBAL = "global"
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")

ProgressCallback = Callable[[str], None]


class _Absent:
    """The read succeeded and said "not configured"."""


ABSENT = _Absent()


@dataclass
class _ScanContext:
    """What hooks see (hooks.HookContext): scan variables plus the scan's calls, in one region."""

    calls: Calls
    account: str
    partition: str
    region: str

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.calls.cached(service, self.region, operation, params)
        return answer

    def call_in(self, region: str, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        return self.calls.cached(service, region, operation, params)

    def call_uncached(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.calls.uncached(service, self.region, operation, params)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        return self.calls.once(key, compute)


def _client_of(hook: str, operation: str) -> str:
    """The client a hook calls `operation` on (its declared operations say)."""
    for service, name in hooks.HOOKS[hook].operations:
        if name == operation:
            return service
    return hooks.HOOKS[hook].operations[0][0]


def _render(template: str, item: Mapping[str, Any], variables: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        found = shapes.search(name, item)
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


# Evaluation, handed each (resource type, region)'s resources as soon as they are
# collected (in the worker thread, so it overlaps with the calls still under way); its
# findings are kept in inventory order. Collection never imports evaluation: the scan
# passes it in.
TypeEvaluator = Callable[[Sequence[Resource]], Sequence[Finding]]


@dataclass(frozen=True)
class Collected:
    """What a collection gives: the inventory, and the findings of the evaluator it was
    given (empty without one), in inventory order."""

    inventory: Inventory
    findings: tuple[Finding, ...] = ()


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
    ) -> None:
        self.target = target
        self.specs = specs
        self.account = account
        self.partition = partition
        self.regions = list(regions)
        self.progress = progress or (lambda _msg: None)
        self._issues: list[CollectionIssue] = []
        self._lock = threading.Lock()
        # The listings' items members: an answer without one is malformed (calls.malformed).
        for spec in specs:
            for res in spec.resources:
                if res.list is not None and res.list_items:
                    head = re.split(r"[.\[]", res.list_items, maxsplit=1)[0]
                    target.expected[(res.client, res.list.operation)] = head
                # The blob members a spec reads as text (`text`), for the scan's calls.
                calls = [res.list] if res.list else []
                calls += [c for d in res.details for c in d.calls()]
                for call in calls:
                    if call.text:
                        key = (call.client or res.client, call.operation)
                        known = target.text.get(key, ())
                        target.text[key] = tuple(dict.fromkeys([*known, *call.text]))
        # A time.monotonic() instant after which no new call is made and calls under way are
        # abandoned (--deadline, the Lambda's time budget): they fail as 'DeadlineExceeded',
        # so what they would have shown is unknown.
        self.calls = Calls(
            target.client,
            target.service_budget,
            call_deadline=target.call_deadline,
            deadline=deadline,
            abandon=target.in_flight.abandon,
            handoff=target.limiter.handoff,
            text=target.text,
        )
        # At most max_workers requests are on the wire at once, whichever pool's thread (or
        # hook) makes them (the target's clients hold a slot per request: throttle.InFlight);
        # each pool has that many threads, so threads building, signing or parsing a call
        # do not leave slots idle.
        workers = max(1, target.max_workers)
        # Two pools, because a listing waits for its details. Both serve services in turn,
        # so one rate-capped service does not hold every worker (throttle.FairPool).
        self._list_pool = FairPool(workers, target.limiter, "awsresp-list")
        self._detail_pool = FairPool(workers, target.limiter, "awsresp-detail")

    @property
    def deadline(self) -> float | None:
        return self.calls.deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self.calls.deadline = value

    # -- public ---------------------------------------------------------------------------

    def run(self) -> Inventory:
        return self.collect().inventory

    def collect(self, evaluate: TypeEvaluator | None = None) -> Collected:
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
                self._list_pool.submit(
                    (job[1].client, job[2]), self._collect_and_evaluate, *job, evaluate
                )
                for job in jobs
            ]
            done = [f.result() for f in futures]
        finally:
            self._list_pool.shutdown(cancel_futures=True)
            self._detail_pool.shutdown(cancel_futures=True)
            # The raw answers were only kept so no call is made twice; the resources hold
            # what was extracted from them. Freed now, evaluation and writing reuse the
            # memory instead of adding to the peak.
            self.calls.clear()
        inventory = Inventory(
            account=self.account,
            partition=self.partition,
            regions=tuple(self.regions),
            resources=tuple(r for built, _ in done for r in built),
            # In a fixed order, not the order the threads happened to finish in.
            issues=tuple(sorted(self._issues, key=_issue_order)),
            started_at=started,
            finished_at=_now(),
            complete=not self._issues,
            services=tuple(dict.fromkeys(spec.service for spec in self.specs)),
        )
        return Collected(inventory, tuple(f for _, found in done for f in found))

    # -- calls ----------------------------------------------------------------------------

    def _home_region(self) -> str:
        return "us-gov-west-1" if self.partition == "aws-us-gov" else "us-east-1"

    def _read(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        call: CallSpec,
        params: Mapping[str, Any],
    ) -> Any:
        """One classified read: the value, ABSENT, or a CallFailed carrying the issue."""
        try:
            return self.calls.cached(
                call.client or res.client,
                region,
                call.operation,
                {**call.const_params, **params},
                call.page_size,
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in call.absent_on:
                return ABSENT
            message = str(exc.response.get("Error", {}).get("Message", ""))
            raise CallFailed(_call_issue(spec, res, region, call, code, message)) from None
        except CallFailed as failure:
            issue = dataclasses.replace(
                failure.issue,
                service=spec.service,
                resource_type=res.type,
                iam_action=call.iam_action,
            )
            raise CallFailed(issue) from None

    def _ready(self, spec: ServiceSpec, res: ResourceSpec, region: str, name: str) -> None:
        """A detail's ready hook, run once per scan and region whichever detail asks first
        (the others wait for it); a CallFailed carrying the hook's issue if it failed."""
        ctx = _ScanContext(self.calls, self.account, self.partition, region)
        try:
            self.calls.once(f"ready {name} {region}", lambda: hooks.HOOKS[name].fn(ctx))
        except (ClientError, CallFailed, *NETWORK_ERRORS) as exc:
            raise CallFailed(self._hook_issue(spec, res, region, name, exc)) from None

    def _read_ready(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        detail: DetailSpec,
        params: Mapping[str, Any],
    ) -> Any:
        """A detail's read, after its ready hook (if it names one)."""
        assert detail.call is not None
        if detail.ready:
            self._ready(spec, res, region, detail.ready)
        return self._read(spec, res, region, detail.call, params)

    def _hook_issue(
        self, spec: ServiceSpec, res: ResourceSpec, region: str, hook: str, exc: Exception
    ) -> CollectionIssue:
        if isinstance(exc, CallFailed):
            # The call that failed says which service and operation it was.
            called = exc.issue
            return dataclasses.replace(
                called,
                service=spec.service,
                resource_type=res.type,
                iam_action=action_for(called.service, called.operation),
            )
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
            iam_action=action_for(_client_of(hook, operation), operation),
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

    def _collect_and_evaluate(
        self, spec: ServiceSpec, res: ResourceSpec, region: str, evaluate: TypeEvaluator | None
    ) -> tuple[list[Resource], Sequence[Finding]]:
        built = self._collect_type(spec, res, region)
        return built, (evaluate(built) if evaluate else ())

    def _collect_type(self, spec: ServiceSpec, res: ResourceSpec, region: str) -> list[Resource]:
        scope_region = GLOBAL if spec.scope == GLOBAL else region
        if res.singleton:
            items: list[dict[str, Any]] = [{}]
        else:
            try:
                items = self._list(spec, res, region)
            except CallFailed as failure:
                self._record(failure.issue)
                self.progress(f"{res.type} {scope_region}: could not list ({failure.issue.kind})")
                return [self._unlisted(res, scope_region)]
        # By id: a listing's order is the service's (moto's IAM policies come in any order),
        # and outputs people diff keep the same rows in the same place from scan to scan.
        built = sorted(
            self._with_details(spec, res, region, scope_region, items), key=lambda r: r.id
        )
        self.progress(f"{res.type} {scope_region}: {len(built)}")
        return built

    def _list(self, spec: ServiceSpec, res: ResourceSpec, region: str) -> list[dict[str, Any]]:
        if res.list_hook:
            hook = hooks.HOOKS[res.list_hook]
            ctx = _ScanContext(self.calls, self.account, self.partition, region)
            try:
                return [dict(i) for i in hook.fn(ctx, [])]
            except (ClientError, CallFailed, *NETWORK_ERRORS) as exc:
                raise CallFailed(self._hook_issue(spec, res, region, res.list_hook, exc)) from None
        assert res.list is not None and res.list_items is not None
        answer = self._read(spec, res, region, res.list, res.list.params)
        if answer is ABSENT:
            return []
        pages = answer if isinstance(answer, list) else [answer]
        items: list[dict[str, Any]] = []
        for page in pages:
            found = shapes.search(res.list_items, page) or []
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
        call_details = [d for d in details if d.call and not d.join]
        for i, item in enumerate(items):
            for detail in call_details:
                if detail.unless and shapes.search(detail.unless, item):
                    continue
                if not self._applies(detail, configs[i], unreadable[i]):
                    continue
                params = {
                    name: self._param(path, item, region_of(i))
                    for name, path in detail.call.params.items()
                }
                fut = self._detail_pool.submit(
                    # Queued by API: a throttled API's own rate holds back only its jobs.
                    (detail.call.client or res.client, region_of(i), detail.call.operation),
                    self._read_ready,
                    spec,
                    res,
                    region_of(i),
                    detail,
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
            ctx = _ScanContext(self.calls, self.account, self.partition, region_of(0))
            try:
                values = hooks.HOOKS[detail.hook].fn(ctx, items)
            except (ClientError, CallFailed, *NETWORK_ERRORS) as exc:
                self._record(self._hook_issue(spec, res, region_of(0), detail.hook, exc))
                for i in range(len(items)):
                    configs[i][detail.key] = None
                    unreadable[i].add(detail.key)
                continue
            for i, value in enumerate(values):
                configs[i][detail.key] = to_json_safe(value)
        by_key = {d.key: d for d in details}
        for i, key, fut in futures:
            detail = by_key[key]
            assert detail.call is not None
            try:
                value = self._settle(spec, res, region_of(i), detail.call, fut.result())
                if detail.union:
                    value = self._union(spec, res, region_of(i), detail, value)
                configs[i][key] = value
            except CallFailed as failure:
                self._record(failure.issue)
                configs[i][key] = None
                unreadable[i].add(key)
        for detail in (d for d in details if d.from_):
            assert detail.from_ is not None
            for i, config in enumerate(configs):
                if not self._applies(detail, config, unreadable[i]):
                    continue
                # A list from an unreadable detail is unreadable, never empty.
                readable = not shapes.roots(detail.from_) & unreadable[i]
                config[detail.key] = shapes.over_values(detail.from_, config) if readable else None
                if not readable:
                    unreadable[i].add(detail.key)
        for detail in details:
            if detail.each:
                self._each(spec, res, region_of, detail, configs, unreadable)

    def _settle(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        call: CallSpec,
        answer: Any,
        missing: str | None = None,
    ) -> Any:
        """A detail's value from its answer; a `required` result that is null is a failed
        read, named by the answer's first refused entry where it has one (else `missing`,
        what was looked for)."""
        value = _finish(call, answer)
        if value is not None or not call.required:
            return value
        refused = shapes.search(call.failed, answer) if call.failed and answer else None
        first = refused[0] if isinstance(refused, list) and refused else {}
        first = first if isinstance(first, dict) else {}
        code = str(first.get("errorCode") or first.get("ErrorCode") or "MissingResult")
        message = str(first.get("errorMessage") or first.get("ErrorMessage") or "")
        message = message or missing or f"the answer has no {call.result}"
        raise CallFailed(_call_issue(spec, res, region, call, code, message))

    def _union(
        self, spec: ServiceSpec, res: ResourceSpec, region: str, detail: DetailSpec, value: Any
    ) -> list[Any]:
        """A detail's list with the entries its union's listing adds (one read per region,
        cached); a CallFailed if that read fails, as a list without them would be short."""
        assert detail.union is not None
        call = detail.union.call
        more = _finish(call, self._read(spec, res, region, call, {}))
        return shapes.union(detail.union.key, value, more)

    def _each(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region_of: Callable[[int], str],
        detail: DetailSpec,
        configs: list[dict[str, Any]],
        unreadable: list[set[str]],
    ) -> None:
        """An `each` detail: its reads for every element of the list, concurrently, a read
        after those whose `into` field it names; one failed read leaves the whole list
        unreadable (a partial list would read as fewer detectors or policies than there
        are)."""
        assert detail.each is not None
        each, key = detail.each, detail.key
        rows: dict[int, list[Any]] = {}
        for i, config in enumerate(configs):
            value = config.get(key)
            if key in unreadable[i] or not isinstance(value, list):
                continue
            rows[i] = [
                {each.as_: v} if each.as_ else dict(v) if isinstance(v, dict) else v for v in value
            ]
        failed: set[int] = set()
        for stage in shapes.each_stages(each.reads):
            jobs: list[tuple[int, dict[str, Any], EachRead, str, Future[Any]]] = []
            for read in stage:
                if read.join:
                    self._each_join(spec, res, region_of, read, rows, failed)
                    continue
                for i, listed in rows.items():
                    if i in failed:
                        continue
                    for row in listed:
                        if not isinstance(row, dict):
                            continue
                        if not shapes.each_applies(read, row):
                            _skip(row, read)
                            continue
                        if read.over:
                            row[str(read.into)] = []
                        for source in _sources(read, row):
                            region = self._element_region(read, source, region_of(i))
                            params = {
                                name: self._param(path, source, region)
                                for name, path in read.call.params.items()
                            }
                            fut = self._detail_pool.submit(
                                (read.call.client or res.client, region, read.call.operation),
                                self._read,
                                spec,
                                res,
                                region,
                                read.call,
                                params,
                            )
                            jobs.append((i, row, read, region, fut))
            for i, row, read, region, fut in jobs:
                try:
                    value = self._settle(spec, res, region, read.call, fut.result())
                except CallFailed as failure:
                    self._record(failure.issue)
                    failed.add(i)
                    continue
                if read.over:
                    row[str(read.into)] += value if isinstance(value, list) else []
                else:
                    _put(row, read, value)
        for i, listed in rows.items():
            if i in failed:
                configs[i][key] = None
                unreadable[i].add(key)
            else:
                configs[i][key] = listed

    @staticmethod
    def _element_region(read: EachRead, row: Any, default: str) -> str:
        found = shapes.search(read.region, row) if read.region else None
        return str(found) if found else default

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
            sources = [configs[i] for i in indexes]
            try:
                matched = self._joined(spec, res, region, call, join, sources, detail.ready)
            except CallFailed as failure:
                self._record(failure.issue)
                for i in indexes:
                    configs[i][detail.key] = None
                    unreadable[i].add(detail.key)
                continue
            for i, entries in zip(indexes, matched, strict=True):
                configs[i][detail.key] = _finish(call, entries)

    def _joined(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region: str,
        call: CallSpec,
        join: JoinSpec,
        sources: Sequence[Mapping[str, Any]],
        ready: str | None = None,
    ) -> list[list[Any]]:
        """The listing's entries each source (an item, an element) names by key: one read
        in the region (after the `ready` hook), made only when some source names a key; a
        CallFailed if it fails."""
        answer: Any = []
        if any(shapes.join_keys(join, source) for source in sources):
            if ready:
                self._ready(spec, res, region, ready)
            answer = self._read(spec, res, region, call, {})
        return shapes.join_values(join, [] if answer is ABSENT else answer, sources, lambda v: v)

    def _each_join(
        self,
        spec: ServiceSpec,
        res: ResourceSpec,
        region_of: Callable[[int], str],
        read: EachRead,
        rows: dict[int, list[Any]],
        failed: set[int],
    ) -> None:
        """An `each` read joined from one read of a listing per region (the recorders'
        statuses; a log group's alarms), made only when some element there names a key."""
        assert read.join is not None
        join = read.join
        by_region: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, listed in rows.items():
            if i in failed:
                continue
            for row in listed:
                if isinstance(row, dict) and not shapes.each_applies(read, row):
                    _skip(row, read)
                elif isinstance(row, dict):
                    region = self._element_region(read, row, region_of(i))
                    by_region.setdefault(region, []).append((i, row))
        for region, elements in by_region.items():
            try:
                matched = self._joined(
                    spec, res, region, read.call, join, [row for _i, row in elements]
                )
            except CallFailed as failure:
                self._record(failure.issue)
                failed.update(i for i, _row in elements)
                continue
            for (i, row), entries in zip(elements, matched, strict=True):
                keys = ", ".join(shapes.join_keys(join, row))
                missing = f"the answer has no entry whose {join.key} is {keys}"
                try:
                    value = self._settle(spec, res, region, read.call, entries, missing)
                except CallFailed as failure:
                    self._record(failure.issue)
                    failed.add(i)
                    continue
                _put(row, read, value)

    def _param(self, path: Any, item: Any, region: str) -> Any:
        if isinstance(path, list):
            return [self._param(p, item, region) for p in path]
        if path == "$account":
            return self.account
        if path == "$region":
            return region
        if path == "$partition":
            return self.partition
        return shapes.search(path, item)

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
            str(shapes.search(res.region, c) or scope_region) if res.region else scope_region
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
                found = shapes.search(res.id, config)
                rid = "" if found is None else str(found)
            name = shapes.search(res.name, config) if res.name else None
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
                    tags=_tags(shapes.search(res.tags, config)) if res.tags else {},
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
        value = shapes.search(call.result, value)
    if call.transform:
        value = hooks.TRANSFORMS[call.transform](value)
    return value


def _sources(read: EachRead, row: dict[str, Any]) -> list[Any]:
    """What an `each` read's parameters are read from: the element, or (`over`) each
    distinct value at that path of it."""
    return shapes.over_values(read.over, row) if read.over else [row]


def _call_issue(
    spec: ServiceSpec, res: ResourceSpec, region: str, call: CallSpec, code: str, message: str
) -> CollectionIssue:
    """A failed spec read as an issue: its service, type and the IAM action it needs."""
    return CollectionIssue(
        service=spec.service,
        region=region,
        operation=call.operation,
        error_code=code,
        kind=classify(code, call.not_enabled_on),
        message=one_line(message),
        resource_type=res.type,
        iam_action=call.iam_action,
    )


def _put(row: dict[str, Any], read: EachRead, value: Any) -> None:
    """An `each` read's value: into its field, or merged into the element."""
    if read.into:
        row[read.into] = value
    elif isinstance(value, dict):
        row.update(value)


def _skip(row: dict[str, Any], read: EachRead) -> None:
    """An `each` read not made for an element (its `when` does not hold): its field is null."""
    if read.into:
        row[read.into] = None


def _issue_order(issue: CollectionIssue) -> tuple[str, ...]:
    return (
        issue.service,
        issue.region,
        issue.resource_type or "",
        issue.operation,
        issue.error_code,
        issue.message,
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
