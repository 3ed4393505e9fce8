"""Loads and validates the declarative collector specs (collectors/*.yaml) into typed objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jmespath
import yaml
from jmespath.exceptions import JMESPathError

from awsresp.collect import hooks
from awsresp.collect.iam_actions import action_for
from awsresp.errors import SpecError
from awsresp.paths import collectors_dir, load_yaml

# Parameter values starting with "$" name a scan variable instead of an item path.
SCAN_VARIABLES = ("$account", "$region", "$partition")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class CallSpec:
    """One read-only API call: a list call, or a per-item detail call."""

    operation: str
    # Detail calls: parameter -> item path or scan variable. List calls: literal values.
    params: Mapping[str, Any]
    const_params: Mapping[str, Any]
    result: str | None
    absent_on: tuple[str, ...]
    not_enabled_on: tuple[str, ...]
    page_size: int | None
    iam_action: str
    transform: str | None = None
    # A detail call on another client than its resource's (a load balancer's WAFv2 web ACL).
    client: str | None = None
    # A null result is a failed read, not "nothing there" (a batch answer that lacks the
    # one entry asked for); `failed` is the answer's path to the entries it refused, the
    # first of which names the error (errorCode, errorMessage).
    required: bool = False
    failed: str | None = None
    # Top-level blob members of the answer kept as UTF-8 text (GetCredentialReport's CSV
    # Content); every other blob is "<N bytes>" (calls.Calls, calls.to_json_safe).
    text: tuple[str, ...] = ()


@dataclass(frozen=True)
class JoinSpec:
    """A detail joined from one read of a listing (per client and region) instead of a
    call per item: the entries at `items` in the answer whose `key` is the item's
    `item_key` (a value, or a list of values: the entries of each, in that order)."""

    items: str
    key: str
    item_key: str


@dataclass(frozen=True)
class EachRead:
    """One call per element of a detail's list (a detector's details, a policy's compliance):
    `params` are paths into the element; `region` (a path) sends the call to the element's own
    region; the result goes `into` a field of the element, or is merged into it."""

    call: CallSpec
    region: str | None = None
    into: str | None = None
    # One read of a listing (per client and region) instead of a call per element: the
    # entries whose `key` is the element's `item_key`, as a detail's join.
    join: JoinSpec | None = None
    # One call per value at this path of the element (an alarm's topics): `params` and
    # `region` are then paths into the value (`@` is the value), and the results, lists,
    # go one after another `into` the field.
    over: str | None = None
    # Made only for the elements where this path (over the element) holds; elsewhere its
    # `into` field is null and nothing is merged.
    when: str | None = None


@dataclass(frozen=True)
class UnionSpec:
    """A second listing whose entries the detail's list lacks (by `key`) are appended to it:
    CloudTrail's ListTrails names the single-region trails of other regions, which the home
    region's DescribeTrails does not describe."""

    call: CallSpec
    key: str


@dataclass(frozen=True)
class EachSpec:
    """The reads made for every element of a detail's list; `as_` wraps bare values (ids) as
    {as_: value} first."""

    reads: tuple[EachRead, ...]
    as_: str | None = None


@dataclass(frozen=True)
class DetailSpec:
    key: str
    call: CallSpec | None
    hook: str | None
    before_region: bool
    # Skip the call for items where this path already has a value (e.g. ListBuckets
    # answers BucketRegion, so GetBucketLocation is only needed when it does not).
    unless: str | None = None
    join: JoinSpec | None = None
    # Read only for items where this path (over the item and its earlier details) holds;
    # elsewhere the detail is null. Details it names are read first.
    when: str | None = None
    each: EachSpec | None = None
    union: UnionSpec | None = None
    # No call: the distinct values at this path over the item's earlier details (the
    # buckets the trails deliver to), read after them; usually with `each` reads.
    from_: str | None = None
    # A ready hook run once per scan and region before the detail's call (IAM's credential
    # report is built on request): it makes no field; if it fails, the detail is unreadable.
    ready: str | None = None

    def calls(self) -> list[CallSpec]:
        """The detail's calls (its own, its union's) and its per-element reads."""
        own = [self.call] if self.call else []
        own += [self.union.call] if self.union else []
        return own + [r.call for r in self.each.reads] if self.each else own


@dataclass(frozen=True)
class ResourceSpec:
    service: str
    noun: str
    client: str  # the boto3 client the calls go to (usually the service)
    iam_prefix: str
    list: CallSpec | None
    list_items: str | None
    list_hook: str | None
    singleton: bool
    id: str
    name: str | None
    arn: str
    region: str | None
    tags: str | None
    details: tuple[DetailSpec, ...]
    redact: tuple[str, ...]

    @property
    def type(self) -> str:
        return f"{self.service}.{self.noun}"


@dataclass(frozen=True)
class ServiceSpec:
    service: str  # the boto3 client name
    file: str
    scope: Literal["global", "regional"]
    iam_prefix: str
    resources: tuple[ResourceSpec, ...]

    def operations(self) -> list[tuple[str, str]]:
        """(client name, operation) for every call this spec and its hooks can make."""
        ops: list[tuple[str, str]] = []
        for res in self.resources:
            if res.list:
                ops.append((res.client, res.list.operation))
            if res.list_hook:
                ops.extend(hooks.HOOKS[res.list_hook].operations)
            for d in res.details:
                if d.ready:  # made before the detail's call
                    ops.extend(hooks.HOOKS[d.ready].operations)
                ops += [(c.client or res.client, c.operation) for c in d.calls()]
                if d.hook:
                    ops.extend(hooks.HOOKS[d.hook].operations)
        return list(dict.fromkeys(ops))

    def iam_actions(self) -> list[str]:
        acts: list[str] = []
        for res in self.resources:
            calls = [res.list] if res.list else []
            calls += [c for d in res.details for c in d.calls()]
            acts += [c.iam_action for c in calls if c]
            hook_names = [res.list_hook] if res.list_hook else []
            hook_names += [name for d in res.details for name in (d.hook, d.ready) if name]
            for name in hook_names:
                acts += list(hooks.HOOKS[name].iam_actions)
        return list(dict.fromkeys(acts))


def is_template(text: str) -> bool:
    """'{account}/{Name}' is a template; '{Status: Status}' is a JMESPath multiselect."""
    fields = _TEMPLATE_FIELD.findall(text)
    return bool(fields) and not any(":" in f for f in fields)


class _Reader:
    """Reads one mapping node, remembering where it is for error messages."""

    def __init__(self, file: str, where: str, node: Any, allowed: set[str]) -> None:
        if not isinstance(node, dict):
            raise SpecError(file, where, f"expected a mapping, got {type(node).__name__}")
        unknown = set(node) - allowed
        if unknown:
            raise SpecError(file, where, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
        self.file, self.where, self.node = file, where, node

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.node.get(key, default)
        if value is not None and not isinstance(value, kind):
            raise SpecError(self.file, self.where, f"'{key}' has the wrong type")
        return value

    def need(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.node:
            raise SpecError(self.file, self.where, f"missing '{key}'")
        return self.get(key, kind)

    def fail(self, message: str) -> SpecError:
        return SpecError(self.file, self.where, message)


def _check_path(r: _Reader, key: str, expr: str | None) -> None:
    if expr is None:
        return
    try:
        jmespath.compile(expr)
    except JMESPathError as exc:
        raise r.fail(f"'{key}' is not a valid path ({expr!r}): {exc}") from None


def _call(r: _Reader, node: Any, where: str, iam_prefix: str, is_list: bool) -> CallSpec:
    keys = {"operation", "params", "const_params", "result", "absent_on", "not_enabled_on"}
    keys |= {"page_size", "iam_action", "transform", "required", "failed", "text"}
    if is_list:
        keys.add("items")
    else:
        keys.add("client")
    c = _Reader(r.file, where, node, keys)
    client = c.get("client", str)
    op = c.need("operation", str)
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", op):
        raise c.fail(f"operation {op!r} is not an API operation name")
    result = c.get("result", str)
    _check_path(c, "result", result)
    params = c.get("params", dict, {})
    if not is_list:
        for name, value in params.items():
            # A list parameter is a list of paths (accountIds: [$account]).
            for path in value if isinstance(value, list) else [value]:
                if not isinstance(path, str):
                    raise c.fail(f"params.{name} must be an item path or one of {SCAN_VARIABLES}")
                if path.startswith("$"):
                    if path not in SCAN_VARIABLES:
                        raise c.fail(f"params.{name}: unknown scan variable {path!r}")
                else:
                    _check_path(c, f"params.{name}", path)
    failed = c.get("failed", str)
    _check_path(c, "failed", failed)
    transform = c.get("transform", str)
    if transform and transform not in hooks.TRANSFORMS:
        raise c.fail(f"unknown transform {transform!r}")
    text = c.get("text", list, [])
    for member in text:
        # Members of the answer itself: tests/test_specs.py checks each is a blob of the
        # operation's output in botocore's model.
        if not isinstance(member, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", member):
            raise c.fail(f"'text' names top-level members of the answer, not {member!r}")
    return CallSpec(
        operation=op,
        params=params,
        const_params=c.get("const_params", dict, {}),
        result=result,
        absent_on=tuple(c.get("absent_on", list, [])),
        not_enabled_on=tuple(c.get("not_enabled_on", list, [])),
        page_size=c.get("page_size", int),
        # A call on another client is that service's IAM action.
        iam_action=c.get("iam_action", str)
        or (action_for(client, op) if client else f"{iam_prefix}:{op}"),
        transform=transform,
        client=client,
        required=bool(c.get("required", bool, False)),
        failed=failed,
        text=tuple(text),
    )


_DETAIL_SHAPES = ("before_region", "unless", "join", "when", "each", "union", "ready")


def _hook_named(r: _Reader, key: str, name: str, kind: str) -> str:
    """A registered hook of the kind the key takes: `hook` makes a field, `ready` makes a
    spec read possible."""
    if name not in hooks.HOOKS:
        raise r.fail(f"unknown {'ready ' if kind == 'ready' else ''}hook {name!r}")
    found = hooks.HOOKS[name].kind
    if found != kind:
        other = "'ready'" if found == "ready" else "'hook'"
        raise r.fail(f"'{key}: {name}' names a {found} hook, which {other} takes")
    return name


def _join(file: str, where: str, node: Any) -> JoinSpec:
    jr = _Reader(file, f"{where} join", node, {"items", "key", "item_key"})
    join = JoinSpec(jr.need("items", str), jr.need("key", str), jr.need("item_key", str))
    for name in ("items", "key", "item_key"):
        _check_path(jr, name, getattr(join, name))
    return join


def _each(file: str, where: str, node: Any, iam_prefix: str) -> EachSpec:
    er = _Reader(file, where, node, {"as", "read"})
    as_ = er.get("as", str)
    reads_node = er.need("read", list)
    if not reads_node:
        raise er.fail("'read' names at least one call")
    reads = []
    for n, rnode in enumerate(reads_node):
        rwhere = f"{where} read {n + 1}"
        rr = _Reader(file, rwhere, rnode, set(rnode) if isinstance(rnode, dict) else set())
        region, into, over = rr.get("region", str), rr.get("into", str), rr.get("over", str)
        when = rr.get("when", str)
        for name, path in (("region", region), ("over", over), ("when", when)):
            _check_path(rr, name, path)
        shape_keys = ("region", "into", "join", "over", "when")
        body = {k: v for k, v in rnode.items() if k not in shape_keys}
        call = _call(rr, body, rwhere, iam_prefix, False)
        join = _join(file, rwhere, rnode["join"]) if "join" in rnode else None
        if join and call.params:
            raise rr.fail("a join reads its listing once: const_params only, no per-item params")
        if over and (join or not into):
            raise rr.fail("a read 'over' values puts its results 'into' a field, and is no join")
        reads.append(EachRead(call, region, into, join, over, when))
    from awsresp.collect.shapes import each_read_roots

    for n, read in enumerate(reads):
        ahead = each_read_roots(read) & {r.into for r in reads[n:] if r.into}
        if ahead:
            raise er.fail(f"read {n + 1} names {sorted(ahead)}, made by it or a later read")
    return EachSpec(tuple(reads), as_)


def _detail(file: str, where: str, r: _Reader, key: str, dnode: Any, iam_prefix: str) -> DetailSpec:
    dwhere = f"{where} detail {key}"
    if not isinstance(dnode, dict):
        raise SpecError(file, dwhere, "expected a mapping")
    before = bool(dnode.get("before_region", False))
    unless = dnode.get("unless")
    if unless is not None:
        _check_path(r, f"details.{key}.unless", str(unless))
    if "hook" in dnode:
        dr = _Reader(file, dwhere, dnode, {"hook", "before_region"})
        hook = _hook_named(dr, "hook", dr.need("hook", str), "detail")
        return DetailSpec(key, None, hook, before)
    if "from" in dnode:
        fr = _Reader(file, dwhere, dnode, {"from", "when", "each"})
        source, when = fr.need("from", str), fr.get("when", str)
        _check_path(fr, "from", source)
        _check_path(fr, "when", when)
        each = _each(file, f"{dwhere} each", dnode["each"], iam_prefix) if "each" in dnode else None
        return DetailSpec(key, None, None, False, when=when, each=each, from_=source)
    body = {k: v for k, v in dnode.items() if k not in _DETAIL_SHAPES}
    call = _call(r, body, dwhere, iam_prefix, False)
    dr = _Reader(file, dwhere, dnode, set(dnode))
    when = dr.get("when", str)
    _check_path(dr, "when", when)
    ready = dr.get("ready", str)
    if ready is not None:
        _hook_named(dr, "ready", ready, "ready")
    join = None
    if "join" in dnode:
        join = _join(file, dwhere, dnode["join"])
        if call.params:
            raise dr.fail("a join reads its listing once: const_params only, no per-item params")
        if before or unless:
            raise dr.fail("a join takes neither 'before_region' nor 'unless'")
    each = None
    if "each" in dnode:
        each = _each(file, f"{dwhere} each", dnode["each"], iam_prefix)
        if join:
            raise dr.fail("a detail takes either 'join' or 'each'")
    union = _union(file, dwhere, dnode["union"], iam_prefix) if "union" in dnode else None
    if union and (join or call.params):
        raise dr.fail("a union appends to one constant listing: no join, no per-item params")
    return DetailSpec(key, call, None, before, unless, join, when, each, union, ready=ready)


def _union(file: str, where: str, node: Any, iam_prefix: str) -> UnionSpec:
    ur = _Reader(file, f"{where} union", node, set(node) if isinstance(node, dict) else set())
    key = ur.need("key", str)
    _check_path(ur, "key", key)
    call = _call(ur, {k: v for k, v in node.items() if k != "key"}, ur.where, iam_prefix, False)
    if call.params:
        raise ur.fail("a union reads its listing once: const_params only, no per-item params")
    return UnionSpec(call, key)


def depends_on(detail: DetailSpec, keys: set[str]) -> set[str]:
    """The details of the same resource this one is read after: those its `when` (or
    `from`) reads."""
    paths = [p for p in (detail.when, detail.from_) if p]
    return {r for p in paths for r in _roots(p)} & keys


def _roots(expr: str) -> set[str]:
    from awsresp.collect.shapes import roots

    return roots(expr)


def _check_order(file: str, where: str, details: list[DetailSpec]) -> None:
    keys = {d.key for d in details}
    by_key = {d.key: d for d in details}
    for d in details:
        if d.key in depends_on(d, keys):
            raise SpecError(file, f"{where} detail {d.key}", "its 'when' or 'from' reads itself")
        for name in depends_on(d, keys):
            if by_key[name].before_region != d.before_region and not by_key[name].before_region:
                raise SpecError(
                    file, f"{where} detail {d.key}", f"read before the region, after {name!r}"
                )
    done: set[str] = set()
    pending = list(details)
    while pending:
        ready = [d for d in pending if depends_on(d, keys) <= done]
        if not ready:
            names = ", ".join(sorted(d.key for d in pending))
            raise SpecError(file, where, f"details wait for each other: {names}")
        done |= {d.key for d in ready}
        pending = [d for d in pending if d.key not in done]


def _resource(file: str, service: str, noun: str, node: Any, iam_prefix: str) -> ResourceSpec:
    where = f"resource {service}.{noun}"
    allowed = {"list", "singleton", "id", "name", "arn", "region", "tags", "details", "redact"}
    allowed |= {"client", "iam_prefix"}
    r = _Reader(file, where, node, allowed)
    client = r.get("client", str) or service
    iam_prefix = r.get("iam_prefix", str) or iam_prefix
    if not _NAME.match(noun):
        raise r.fail("resource names are lower-case words joined by '-'")
    singleton = bool(r.get("singleton", bool, False))
    list_node = r.get("list", dict)
    if singleton == (list_node is not None):
        raise r.fail("a resource has either 'list' or 'singleton: true', not both or neither")
    list_call = list_items = list_hook = None
    if list_node is not None:
        if "hook" in list_node:
            lr = _Reader(file, f"{where} list", list_node, {"hook"})
            list_hook = _hook_named(lr, "hook", lr.need("hook", str), "detail")
        else:
            list_call = _call(r, list_node, f"{where} list", iam_prefix, is_list=True)
            list_items = _Reader(file, f"{where} list", list_node, set(list_node)).need(
                "items", str
            )
            _check_path(r, "list.items", list_items)
    details = [
        _detail(file, where, r, key, dnode, iam_prefix)
        for key, dnode in (r.get("details", dict, {}) or {}).items()
    ]
    _check_order(file, where, details)
    for key in ("id", "name", "region", "tags"):
        value = r.get(key, str)
        if not (key == "id" and value and is_template(value)):
            _check_path(r, key, value)
    arn = r.need("arn", str)
    for fld in _TEMPLATE_FIELD.findall(arn):
        if fld not in ("partition", "account", "region"):
            _check_path(r, "arn", fld)
    redact = tuple(r.get("redact", list, []))
    return ResourceSpec(
        service=service,
        noun=noun,
        client=client,
        iam_prefix=iam_prefix,
        list=list_call,
        list_items=list_items,
        list_hook=list_hook,
        singleton=singleton,
        id=r.need("id", str),
        name=r.get("name", str),
        arn=arn,
        region=r.get("region", str),
        tags=r.get("tags", str),
        details=tuple(details),
        redact=redact,
    )


def load_spec_file(path: Path) -> ServiceSpec:
    file = path.name
    try:
        node = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError) as exc:
        raise SpecError(file, "", f"cannot read: {exc}") from None
    r = _Reader(file, "top level", node, {"service", "scope", "iam_prefix", "resources"})
    service = r.need("service", str)
    scope = r.need("scope", str)
    if scope not in ("global", "regional"):
        raise r.fail("scope must be 'global' or 'regional'")
    iam_prefix = r.get("iam_prefix", str) or service
    resources = tuple(
        _resource(file, service, noun, rnode, iam_prefix)
        for noun, rnode in (r.need("resources", dict) or {}).items()
    )
    return ServiceSpec(service, file, scope, iam_prefix, resources)


def load_specs(directory: Path | None = None) -> list[ServiceSpec]:
    directory = directory or collectors_dir()
    specs = [load_spec_file(p) for p in sorted(directory.glob("*.yaml"))]
    seen: dict[str, str] = {}
    for spec in specs:
        for res in spec.resources:
            if res.type in seen:
                raise SpecError(
                    spec.file, f"resource {res.type}", f"also defined in {seen[res.type]}"
                )
            seen[res.type] = spec.file
    return specs


def resource_types(specs: list[ServiceSpec]) -> dict[str, ResourceSpec]:
    return {res.type: res for spec in specs for res in spec.resources}
