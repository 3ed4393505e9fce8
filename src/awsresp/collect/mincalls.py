"""The fewest API calls the collector specs allow for an inventory, and the time they take."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from awsresp.collect import hooks, shapes
from awsresp.collect.specs import CallSpec, DetailSpec, ResourceSpec, ServiceSpec

GLOBAL = "global"
# whoami: sts:GetCallerIdentity, before anything else.
_IDENTITY_CALLS = 1


@dataclass
class MinimumCalls:
    """Calls by service and the longest chain of calls that must happen one after another."""

    by_service: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # The same calls by (client, region): the rate cap's lanes (throttle.Lane).
    by_lane: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    chain: int = _IDENTITY_CALLS

    @property
    def total(self) -> int:
        return sum(self.by_service.values())

    def bound_seconds(
        self, latency: float, workers: int, rate: Callable[[str], float] | None = None
    ) -> float:
        """The shortest possible scan: the calls spread over the workers, never shorter than
        the dependent chain, and never faster than each service's rate cap allows."""
        spread = math.ceil(self.total / max(1, workers)) * latency
        chained = self.chain * latency
        capped = 0.0
        for (client, _region), n in self.by_lane.items():
            r = rate(client) if rate else 0.0
            if r > 0:
                # The cap's bucket starts full (burst = rate): the first `r` calls are free.
                capped = max(capped, max(0.0, n - r) / r)
        return max(spread, chained, capped)


@dataclass
class _Tally:
    """What the count carries from detail to detail: the calls counted so far (`seen`, by
    client, region, operation and parameters; `hook_ops`, the constant reads counted once
    per region) and the listings' item counts (their pages are counted at the end)."""

    account: str
    result: MinimumCalls
    seen: set[tuple[str, str, str, str]] = field(default_factory=set)
    hook_ops: set[tuple[str, str, str]] = field(default_factory=set)
    list_items: dict[tuple[str, str, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )


def _items_by_type(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in resources:
        out[str(r["type"])].append(r)
    return out


def _param(path: str, config: Any, account: str, region: str) -> Any:
    if path == "$account":
        return account
    if path == "$region":
        return region
    if path == "$partition":
        return "aws"
    return shapes.search(path, config)


def minimum_calls(
    specs: Sequence[ServiceSpec],
    resources: Iterable[Mapping[str, Any]],
    regions: Sequence[str],
    account: str = "",
    home_region: str = "us-east-1",
) -> MinimumCalls:
    """Counts list pages and unavoidable per-item calls for what a scan found.

    `resources` are scan.json resource records (type, region, config, unlisted). Each
    distinct (client, region, operation, parameters) counts once, as the engine calls it
    once. A list's pages are its items over its page size (one page when the spec sets
    none); a detail call is one per item unless its `unless` path answers; a hook (and a
    detail's `ready` hook, when the detail reads anything: a polled operation counts once)
    costs its operations once per region unless a list call already made the same operation.
    """
    by_type = _items_by_type(resources)
    result = MinimumCalls()
    result.by_service["sts"] += _IDENTITY_CALLS
    result.by_lane[("sts", home_region)] += _IDENTITY_CALLS
    list_page_size: dict[tuple[str, str, str, str], int | None] = {}
    t = _Tally(account, result)
    chains: list[int] = []

    for spec in specs:
        job_regions = [home_region] if spec.scope == GLOBAL else list(regions)
        for res in spec.resources:
            for region in job_regions:
                found = [
                    r
                    for r in by_type.get(res.type, [])
                    if spec.scope == GLOBAL or r.get("region") == region
                ]
                chains.append(_type_calls(spec, res, region, found, t))
                if res.list:
                    key = (res.client, region, res.list.operation, _key(res.list.params))
                    list_page_size[key] = res.list.page_size
    list_ops = {(k[0], k[1], k[2]) for k in t.list_items}
    for key, count in t.list_items.items():
        size = list_page_size[key]
        pages = max(1, math.ceil(count / size)) if size else 1
        result.by_service[key[0]] += pages
        result.by_lane[(key[0], key[1])] += pages
    for client, region, op in t.hook_ops:
        if (client, region, op) not in list_ops:
            result.by_service[client] += 1
            result.by_lane[(client, region)] += 1
    result.chain = _IDENTITY_CALLS + max(chains, default=0)
    return result


def _unconditional(name: str) -> list[tuple[str, str]]:
    hook = hooks.HOOKS[name]
    return [op for op in hook.operations if op not in hook.conditional]


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _type_calls(
    spec: ServiceSpec,
    res: ResourceSpec,
    region: str,
    found: list[Mapping[str, Any]],
    t: _Tally,
) -> int:
    """Adds one resource type's detail calls; returns the length of its dependent chain."""
    items = [r for r in found if not r.get("unlisted")]
    chain = 0
    if res.list:
        key = (res.client, region, res.list.operation, _key(res.list.params))
        t.list_items[key] += len(items)
        size = res.list.page_size
        chain += max(1, math.ceil(len(items) / size)) if size else 1
    elif res.list_hook:
        ops = _unconditional(res.list_hook)
        t.hook_ops.update((c, region, op) for c, op in ops)
        chain += len(ops)
    if res.singleton and not items:
        items = [{"config": {}, "region": region}]
    if not res.list and not res.singleton:
        return chain
    steps: set[tuple[bool, int]] = set()
    for before in (True, False):
        group = [d for d in res.details if d.before_region == before]
        for stage, details in enumerate(shapes.stages(group)):
            for detail in details:
                ready, calls = _detail_calls(spec, res, region, detail, items, t)
                # A hook's calls follow one another, and a ready hook's come before the read.
                chain += ready
                if detail.hook:
                    chain += calls
                elif calls:
                    steps.add((before, stage))
    return chain + len(steps)


def _hook_calls(
    name: str,
    region: str,
    t: _Tally,
) -> int:
    """A hook's unconditional operations once per region: how many are new."""
    ops = _unconditional(name)
    # A hook's call without parameters shares the engine's cache with a detail call.
    asked = {(c, r, op) for c, r, op, p in t.seen if p == _key({})}
    new = {(c, region, op) for c, op in ops} - t.hook_ops - asked
    t.hook_ops.update(new)
    return len(new)


def _detail_calls(
    spec: ServiceSpec,
    res: ResourceSpec,
    region: str,
    detail: DetailSpec,
    items: list[Mapping[str, Any]],
    t: _Tally,
) -> tuple[int, int]:
    """Adds one detail's calls over the items; returns how many are new: its ready hook's,
    and the others."""
    if detail.hook:
        if not items:  # the engine runs no detail hook for an empty list
            return 0, 0
        return 0, _hook_calls(detail.hook, region, t)
    if detail.from_:  # no call of its own: only its elements' reads
        applying = [(i, i.get("config") or {}) for i in items]
        applying = [(i, c) for i, c in applying if shapes.applies(detail, c)]
        return 0, _each_calls(spec, res, region, detail, applying, t)
    reads, calls = _call_detail_calls(spec, res, region, detail, items, t)
    # The ready hook runs only when the detail makes a read (cached or not).
    ready = _hook_calls(detail.ready, region, t) if detail.ready and reads else 0
    return ready, calls


def _call_detail_calls(
    spec: ServiceSpec,
    res: ResourceSpec,
    region: str,
    detail: DetailSpec,
    items: list[Mapping[str, Any]],
    t: _Tally,
) -> tuple[bool, int]:
    """A call detail's calls over the items: whether it reads anything, and how many of
    its calls are new."""
    assert detail.call is not None
    client = detail.call.client or res.client
    if detail.union and items:
        # The union's listing: one constant read per region, as a join's.
        t.hook_ops.add(
            (detail.union.call.client or res.client, region, detail.union.call.operation)
        )
    if not detail.call.params and _is_a_listing(spec, client, detail.call):
        # A constant read of a collector's own listing (the IAM account's roles from
        # GetAccountAuthorizationDetails): the engine's cache answers it.
        if items:
            t.hook_ops.add((client, region, detail.call.operation))
        return bool(items), 0
    configs = [item.get("config") or {} for item in items]
    applying = [
        (item, config)
        for item, config in zip(items, configs, strict=True)
        if shapes.applies(detail, config)
        and not (detail.unless and shapes.search(detail.unless, config))
    ]
    # The reads made for each element of the detail's list, whatever read the list.
    each = _each_calls(spec, res, region, detail, applying, t)
    if detail.join or not detail.call.params:
        # One read of a listing per region (a join's only when some item names a key): the
        # listing's own read when a collector lists it too, or another detail's same call
        # (the IAM users' credential report rows and the account's; CloudTrail's and the CIS
        # alarms' DescribeTrails in the home region).
        if detail.join and not any(shapes.join_keys(detail.join, c) for _i, c in applying):
            return False, each
        if not applying:
            return False, each
        op = (client, region, detail.call.operation)
        key = (*op, _key(detail.call.const_params))
        if op in t.hook_ops or key in t.seen:
            return True, each
        t.hook_ops.add(op)
        t.seen.add(key)
        return True, each + 1
    calls = 0
    for item, config in applying:
        item_region = str(item.get("region") or region)
        call_region = region if item_region == GLOBAL else item_region
        calls += _one_call(client, call_region, detail.call, config, t)
    return bool(applying), each + calls


def _each_calls(
    spec: ServiceSpec,
    res: ResourceSpec,
    region: str,
    detail: DetailSpec,
    applying: list[tuple[Mapping[str, Any], Mapping[str, Any]]],
    t: _Tally,
) -> int:
    """An `each` detail's reads, one per element the scan found (a join's once per region
    where some element names a key)."""
    if not detail.each:
        return 0
    calls = 0
    for item, config in applying:
        item_region = str(item.get("region") or region)
        own_region = region if item_region == GLOBAL else item_region
        value = config.get(detail.key)
        elements = value if isinstance(value, list) else []
        for element in elements:
            if not isinstance(element, dict):
                continue
            for read in detail.each.reads:
                # Judged on the element as the scan left it: a read whose `when` names
                # fields another read merged in may be left out (this is a lower bound).
                if not shapes.each_applies(read, element):
                    continue
                client = read.call.client or res.client
                if read.over:
                    for value in shapes.over_values(read.over, element):
                        found = shapes.search(read.region, value) if read.region else None
                        at = str(found) if found else own_region
                        calls += _one_call(client, at, read.call, value, t)
                    continue
                found = shapes.search(read.region, element) if read.region else None
                call_region = str(found) if found else own_region
                if read.join:
                    if not shapes.join_keys(read.join, element):
                        continue
                    # Counted once per region with the hooks' and joins' reads.
                    t.hook_ops.add((client, call_region, read.call.operation))
                    continue
                calls += _one_call(client, call_region, read.call, element, t)
    return calls


def _one_call(
    client: str,
    region: str,
    call: CallSpec,
    source: Any,
    t: _Tally,
) -> int:
    """One call with its parameters from `source` (an item or an element): 1 when no earlier
    call had the same client, region, operation and parameters (the engine makes it once)."""
    params = {
        name: _each_param(path, source, t.account, region) for name, path in call.params.items()
    }
    key = (client, region, call.operation, _key({**call.const_params, **params}))
    if key in t.seen:
        return 0
    t.seen.add(key)
    # Counted for the client it goes to (a CIS alarm's subscriptions are SNS calls).
    t.result.by_service[client] += 1
    t.result.by_lane[(client, region)] += 1
    return 1


def _each_param(path: Any, element: Any, account: str, region: str) -> Any:
    if isinstance(path, list):
        return [_each_param(p, element, account, region) for p in path]
    return _param(path, element, account, region)


def _is_a_listing(spec: ServiceSpec, client: str, call: CallSpec) -> bool:
    return any(
        r.list
        and r.client == client
        and r.list.operation == call.operation
        and _key(r.list.params) == _key(call.const_params)
        for r in spec.resources
    )
