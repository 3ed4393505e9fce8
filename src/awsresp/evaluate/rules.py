"""The condition language of controls, and its three-valued evaluation (pass, fail, unknown)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath import functions as jp_functions
from jmespath.exceptions import JMESPathError

from awsresp.collect.shapes import ast_roots
from awsresp.evaluate import metric_filters

# Evaluation result: True (holds), False (does not hold), None (could not be read).
Tri = bool | None


def _days_since(value: Any, now: dt.datetime) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (now - when).total_seconds() / 86400


def _cmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any, dt.datetime], bool]:
    def op(value: Any, expected: Any, _now: dt.datetime) -> bool:
        try:
            return value is not None and fn(value, expected)
        except TypeError:
            return False

    return op


def _empty(value: Any) -> bool:
    return value is None or value in ([], {}, "")


def _older(value: Any, days: Any, now: dt.datetime) -> bool:
    age = _days_since(value, now)
    return age is not None and age > float(days)


def _within(value: Any, days: Any, now: dt.datetime) -> bool:
    age = _days_since(value, now)
    return age is not None and age <= float(days)


# Every operator a test can use: name -> (value, expected, now) -> bool.
OPERATORS: dict[str, Callable[[Any, Any, dt.datetime], bool]] = {
    "equals": lambda v, e, _n: v == e,
    "not_equals": lambda v, e, _n: v != e,
    "in": lambda v, e, _n: v in e,
    "not_in": lambda v, e, _n: v not in e,
    "gt": _cmp(lambda v, e: v > e),
    "gte": _cmp(lambda v, e: v >= e),
    "lt": _cmp(lambda v, e: v < e),
    "lte": _cmp(lambda v, e: v <= e),
    "exists": lambda v, e, _n: (v is not None) == bool(e),
    "empty": lambda v, e, _n: _empty(v) == bool(e),
    "contains": lambda v, e, _n: isinstance(v, list | str) and e in v,
    "matches": lambda v, e, _n: isinstance(v, str) and re.search(e, v) is not None,
    "older_than_days": _older,
    "within_days": _within,
}
_LIST_OPERATORS = {"in", "not_in"}


# Named sets of sensitive ports for ports_open() and nacl_ports_open(): (port, protocol,
# what listens there). A set is security meaning, named by the controls that use it.
_TCP, _UDP = "tcp", "udp"
PORT_SETS: dict[str, tuple[tuple[int, str, str], ...]] = {
    # CIS AWS Foundations 3.0 5.1-5.3 and 4.0 5.2-5.4: SSH and RDP "using the TCP (6),
    # UDP (17) or ALL (-1) protocols" (4.0 wording).
    "remote-admin": (
        (22, _TCP, "SSH"),
        (22, _UDP, "SSH"),
        (3389, _TCP, "RDP"),
        (3389, _UDP, "RDP"),
    ),
    # AWS FSBP EC2.19's high-risk ports (20, 21, 22, 23, 25, 110, 135, 143, 445, 1433,
    # 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300),
    # Prowler's ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_* checks (Oracle
    # 1521/2483, Redis 6379, Cassandra 7199/8888/9160, Kafka 9092, Memcached 11211, MongoDB
    # 27017/27018) and its ec2_instance_port_*_exposed_to_internet checks (Oracle 2484,
    # NetBIOS 139, Cassandra 7000/7001/9042, Kerberos 88/464/749/750, LDAP 389/636); CIS
    # 4.0 5.1.2 (CIFS 445). UDP where the service answers on UDP.
    "high-risk": (
        (20, _TCP, "FTP data"),
        (21, _TCP, "FTP"),
        (22, _TCP, "SSH"),
        (23, _TCP, "Telnet"),
        (25, _TCP, "SMTP"),
        (88, _TCP, "Kerberos"),
        (88, _UDP, "Kerberos"),
        (110, _TCP, "POP3"),
        (135, _TCP, "MS RPC"),
        (137, _UDP, "NetBIOS name"),
        (138, _UDP, "NetBIOS datagram"),
        (139, _TCP, "NetBIOS/SMB"),
        (143, _TCP, "IMAP"),
        (389, _TCP, "LDAP"),
        (389, _UDP, "CLDAP"),
        (445, _TCP, "SMB/CIFS"),
        (464, _TCP, "Kerberos password"),
        (464, _UDP, "Kerberos password"),
        (636, _TCP, "LDAPS"),
        (749, _TCP, "Kerberos admin"),
        (750, _UDP, "Kerberos v4"),
        (1433, _TCP, "MSSQL"),
        (1434, _TCP, "MSSQL admin"),
        (1434, _UDP, "MSSQL browser"),
        (1521, _TCP, "Oracle"),
        (2483, _TCP, "Oracle"),
        (2484, _TCP, "Oracle TLS"),
        (3000, _TCP, "web dev (Node/Go/Ruby)"),
        (3306, _TCP, "MySQL/Aurora"),
        (3389, _TCP, "RDP"),
        (3389, _UDP, "RDP"),
        (4333, _TCP, "mSQL"),
        (5000, _TCP, "web dev (Python)"),
        (5432, _TCP, "PostgreSQL"),
        (5500, _TCP, "fcp-addr-srvr1/VNC"),
        (5601, _TCP, "Kibana/OpenSearch Dashboards"),
        (6379, _TCP, "Redis"),
        (7000, _TCP, "Cassandra"),
        (7001, _TCP, "Cassandra TLS"),
        (7199, _TCP, "Cassandra JMX"),
        (8080, _TCP, "HTTP proxy"),
        (8088, _TCP, "legacy HTTP"),
        (8888, _TCP, "alt HTTP/Cassandra"),
        (9042, _TCP, "Cassandra CQL"),
        (9092, _TCP, "Kafka"),
        (9160, _TCP, "Cassandra Thrift"),
        (9200, _TCP, "Elasticsearch/OpenSearch"),
        (9300, _TCP, "Elasticsearch/OpenSearch"),
        (11211, _TCP, "Memcached"),
        (11211, _UDP, "Memcached"),
        (27017, _TCP, "MongoDB"),
        (27018, _TCP, "MongoDB"),
    ),
}
# Protocol names and numbers a security group rule or NACL entry may carry.
_PROTOCOLS = {"-1": "all", "all": "all", "6": _TCP, "tcp": _TCP, "17": _UDP, "udp": _UDP}
_ICMP = {"1", "icmp", "58", "icmpv6"}
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")
# Functions whose second argument names a port set, checked when a condition is parsed.
_PORT_SET_FUNCTIONS = ("ports_open", "nacl_ports_open")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class _Rule:
    """A security group permission or a NACL entry, normalized: protocol ("all", "tcp",
    "udp", or another protocol as given) and the inclusive port range it covers."""

    protocol: str
    low: int
    high: int

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> _Rule:
        raw = entry.get("IpProtocol", entry.get("Protocol"))
        text = str(raw).strip().lower() if raw is not None else "-1"
        protocol = _PROTOCOLS.get(text, text)
        ports = entry.get("PortRange")
        if isinstance(ports, Mapping):  # a NACL entry
            low, high = ports.get("From"), ports.get("To")
        else:  # a security group permission
            low, high = entry.get("FromPort"), entry.get("ToPort")
        # A missing or negative bound (all traffic, or a malformed entry) means every port.
        lo, hi = _int(low, -1), _int(high, -1)
        lo = 0 if lo < 0 else lo
        hi = 65535 if hi < 0 else hi
        return cls(protocol, lo, hi)

    def covers(self, port: int, protocol: str) -> bool:
        if self.protocol == "all":
            return True
        return self.protocol == protocol and self.low <= port <= self.high

    def describe(self) -> str | None:
        """How the rule opens ports ("tcp 443", "udp 0-65535", "all"); None for ICMP."""
        if self.protocol == "all":
            return "all"
        if self.protocol in _ICMP:
            return None
        if self.protocol not in (_TCP, _UDP):
            return f"protocol {self.protocol}"
        span = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{self.protocol} {span}"


def _entries(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [e for e in items if isinstance(e, Mapping)]


def _port_set(name: Any) -> tuple[tuple[int, str, str], ...]:
    ports = PORT_SETS.get(str(name))
    if ports is None:  # parse() refuses unknown names; a computed name can still miss
        raise JMESPathError(f"unknown port set {name!r} (one of: {', '.join(PORT_SETS)})")
    return ports


def _is_world(cidr: Any, ipv6: bool) -> bool:
    """0.0.0.0/0 or ::/0 (any spelling of a /0 of that family)."""
    text = str(cidr or "").strip()
    return text.endswith("/0") and ((":" in text) == ipv6)


def _label(port: int, protocol: str, service: str) -> str:
    return f"{port}/{protocol} {service}"


class _Functions(jp_functions.Functions):  # type: ignore[misc]
    """JMESPath functions for AWS's loose shapes (a policy's Statement or Action may be
    a single value or a list), for joining two lists of a resource, and for port reasoning
    over security group rules and NACLs."""

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_to_list(self, value: Any) -> list[Any]:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @jp_functions.signature({"types": []}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_ports_open(self, entries: Any, set_name: str) -> list[str]:
        """The ports of a named set that any of the given security group permissions or
        NACL entries opens (all traffic, a range, protocol names or numbers), as
        "5432/tcp PostgreSQL", in port order. The caller filters the entries (source,
        direction, allow); rule order is not considered."""
        rules = [_Rule.of(e) for e in _entries(entries)]
        return [
            _label(port, proto, service)
            for port, proto, service in _port_set(set_name)
            if any(r.covers(port, proto) for r in rules)
        ]

    @jp_functions.signature({"types": []}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_nacl_ports_open(self, entries: Any, set_name: str) -> list[str]:
        """The ports of a named set that a network ACL lets in from anywhere (0.0.0.0/0 or
        ::/0), with AWS's rule order: for each port and address family, the lowest-numbered
        inbound entry for the whole internet that matches the protocol and port decides
        (allow or deny). Entries for narrower ranges neither open nor close a port to
        everyone; an entry without a rule number is never first."""
        inbound = [
            e
            for e in _entries(entries)
            if e.get("Egress") is not True and str(e.get("Egress")).lower() != "true"
        ]
        open_ports = []
        for port, proto, service in _port_set(set_name):
            for key, ipv6 in (("CidrBlock", False), ("Ipv6CidrBlock", True)):
                matching = sorted(
                    (
                        e
                        for e in inbound
                        if _is_world(e.get(key), ipv6) and _Rule.of(e).covers(port, proto)
                    ),
                    key=lambda e: _int(e.get("RuleNumber"), 1 << 31),
                )
                if matching and str(matching[0].get("RuleAction", "")).lower() == "allow":
                    open_ports.append(_label(port, proto, service))
                    break
        return open_ports

    @jp_functions.signature({"types": []}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_metric_filter_matches(self, pattern: Any, check: str) -> bool:
        """Whether a CloudWatch Logs metric filter pattern has every term of a named check
        of mappings/cis-metric-filters.yaml (whitespace and double quotes aside; extra
        terms accepted); false for anything but a text."""
        found = metric_filters.checks().get(check)
        if found is None:  # parse() refuses unknown names; a computed name can still miss
            raise JMESPathError(f"unknown metric filter check {check!r}")
        return metric_filters.matches(found, pattern)

    @jp_functions.signature({"types": []}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_alarmed_metric_filters(self, trails: Any, check: str) -> list[str]:
        """CIS section 4's question for the trails given (as the cis-alarms collector reads
        them: each with the metric filters of its log group, the alarms on their metrics and
        the subscriptions of the topics those notify): the filters whose pattern has every
        term of the check, with an alarm on the filter's metric (name and namespace) whose
        actions are enabled and notify an SNS topic with a confirmed subscription (an ARN,
        not "PendingConfirmation"), as "trail: filter -> alarm"."""
        found: list[str] = []
        for trail in trails if isinstance(trails, list) else []:
            if not isinstance(trail, dict):
                continue
            confirmed = {
                str(s.get("TopicArn"))
                for s in _dicts(trail.get("Subscriptions"))
                if str(s.get("SubscriptionArn") or "").startswith("arn:")
            }
            for filt in _dicts(trail.get("MetricFilters")):
                if not self._func_metric_filter_matches(filt.get("filterPattern"), check):
                    continue
                metrics = {
                    (m.get("metricName"), m.get("metricNamespace"))
                    for m in _dicts(filt.get("metricTransformations"))
                }
                for alarm in _dicts(trail.get("Alarms")):
                    actions = alarm.get("AlarmActions")
                    if (
                        (alarm.get("MetricName"), alarm.get("Namespace")) in metrics
                        and alarm.get("ActionsEnabled") is not False
                        and isinstance(actions, list)
                        and confirmed & {str(a) for a in actions}
                    ):
                        name, alarmed = filt.get("filterName"), alarm.get("AlarmName")
                        found.append(f"{trail.get('Name')}: {name} -> {alarmed}")
        return found

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_records_all_management_events(self, trail: Any) -> bool:
        """Whether a trail's event selectors (basic or advanced, as GetEventSelectors answers
        them) log read and write management events."""
        if not isinstance(trail, dict):
            return False
        for sel in _dicts(trail.get("EventSelectors")):
            if sel.get("IncludeManagementEvents") is True and sel.get("ReadWriteType") == "All":
                return True
        for adv in _dicts(trail.get("AdvancedEventSelectors")):
            fields = {f.get("Field"): f for f in _dicts(adv.get("FieldSelectors"))}
            equals = fields.get("eventCategory", {}).get("Equals")
            if isinstance(equals, list) and "Management" in equals and "readOnly" not in fields:
                return True
        return False

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_timestamp_in(self, text: Any) -> str | None:
        """The first "YYYY-MM-DD HH:MM:SS" time in a text (EC2's StateTransitionReason:
        "User initiated (2026-05-29 04:05:06 GMT)"), as ISO 8601 in UTC; null if none."""
        found = _TIMESTAMP.search(text) if isinstance(text, str) else None
        return f"{found.group(1)}T{found.group(2)}+00:00" if found else None

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_port_ranges(self, entries: Any) -> list[str]:
        """How the given security group permissions open ports: "all", "tcp 443",
        "udp 0-65535", "protocol 50" (ICMP is left out), sorted and without duplicates."""
        described = {_Rule.of(e).describe() for e in _entries(entries)}
        return sorted(d for d in described if d is not None)

    # Policy documents: condition operators and keys are case-insensitive and are the
    # *names* of their mappings, a document may still be JSON text (URL-encoded, as IAM's
    # raw API sends it), and condition values may be numbers or booleans.

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_lower(self, value: Any) -> str | None:
        """A string in lower case; a number or boolean as its JSON text; else null."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value).lower()
        return None

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_entries(self, value: Any) -> list[dict[str, Any]]:
        """An object's members as [{key, value}, ...]; anything else as []."""
        if not isinstance(value, dict):
            return []
        return [{"key": k, "value": v} for k, v in value.items()]

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_json(self, value: Any) -> Any:
        """A JSON document as data: objects and arrays as they are, JSON text (plain or
        URL-encoded) decoded; anything that is not a document is null."""
        if isinstance(value, dict | list):
            return value
        if not isinstance(value, str):
            return None
        for text in (value, urllib.parse.unquote(value)):
            try:
                decoded = json.loads(text)
            except ValueError:
                continue
            return decoded if isinstance(decoded, dict | list) else None
        return None

    @jp_functions.signature({"types": ["string"]}, {"types": []})  # type: ignore[untyped-decorator]
    def _func_re_search(self, pattern: str, value: Any) -> bool:
        """Whether a regular expression matches anywhere in a value (a number or boolean
        as its JSON text); false for anything else."""
        text = self._func_lower(value) if isinstance(value, bool | int | float) else value
        return isinstance(text, str) and _regex(pattern).search(text) is not None

    @jp_functions.signature({"types": ["array", "null"]}, {"types": ["array", "null"]})  # type: ignore[untyped-decorator]
    def _func_difference(self, values: list[Any] | None, others: list[Any] | None) -> list[Any]:
        """The values not among the others, in order: a join of two lists read apart
        (running instances less the managed ones)."""
        hashable: set[Any] = set()
        other: list[Any] = []
        for o in others or []:
            try:
                hashable.add(o)
            except TypeError:  # a dict or a list: compared one by one
                other.append(o)

        def excluded(v: Any) -> bool:
            try:
                if v in hashable:
                    return True
            except TypeError:
                pass
            return v in other

        return [v for v in values or [] if not excluded(v)]


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_OPTIONS = jmespath.Options(custom_functions=_Functions())


def search(compiled: Any, document: Any) -> Any:
    return compiled.search(document, options=_OPTIONS)


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message says what is wrong."""


@dataclass(frozen=True)
class Test:
    path: str
    operator: str
    expected: Any
    roots: frozenset[str]  # the top-level config keys the path reads
    compiled: Any


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Test | AllOf | AnyOf | Not


# The top-level fields a JMESPath AST reads (shared with the collector's `when`).
_roots = ast_roots


def parse(node: Any) -> Condition:
    """Parses a condition from its YAML form; raises ConditionError."""
    if not isinstance(node, dict) or not node:
        raise ConditionError("a condition is a mapping: {all|any: [...]}, {not: ...} or a test")
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        if len(node) != 1 or not isinstance(node[key], list) or not node[key]:
            raise ConditionError(f"'{key}' takes a non-empty list of conditions and nothing else")
        parts = tuple(parse(p) for p in node[key])
        return AllOf(parts) if key == "all" else AnyOf(parts)
    if "not" in node:
        if len(node) != 1:
            raise ConditionError("'not' takes one condition and nothing else")
        return Not(parse(node["not"]))
    if "path" not in node:
        raise ConditionError(f"unknown condition keys: {', '.join(sorted(node))}")
    ops = [k for k in node if k != "path"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise ConditionError(
            f"a test has 'path' and exactly one operator of: {', '.join(OPERATORS)}"
            f" (got {', '.join(ops) or 'none'})"
        )
    op = ops[0]
    if op in _LIST_OPERATORS and not isinstance(node[op], list):
        raise ConditionError(f"'{op}' takes a list")
    if op == "matches":
        try:
            re.compile(node[op])
        except re.error as exc:
            raise ConditionError(f"bad regular expression {node[op]!r}: {exc}") from None
    if op in ("older_than_days", "within_days") and not isinstance(node[op], int | float):
        raise ConditionError(f"'{op}' takes a number of days")
    path = node["path"]
    if not isinstance(path, str):
        raise ConditionError("'path' must be a string")
    try:
        compiled = jmespath.compile(path)
    except JMESPathError as exc:
        raise ConditionError(f"bad path {path!r}: {exc}") from None
    for name in _literal_arguments(compiled.parsed, _PORT_SET_FUNCTIONS):
        if name not in PORT_SETS:
            raise ConditionError(f"unknown port set {name!r} (one of: {', '.join(PORT_SETS)})")
    checks = ("metric_filter_matches", "alarmed_metric_filters")
    for name in _literal_arguments(compiled.parsed, checks):
        if name not in metric_filters.checks():
            raise ConditionError(
                f"unknown metric filter check {name!r} (see {metric_filters.FILE})"
            )
    return Test(path, op, node[op], frozenset(_roots(compiled.parsed)), compiled)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list (anything else: none): collected data may be null or odd."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _literal_arguments(node: Mapping[str, Any], functions: tuple[str, ...]) -> list[str]:
    """The literal second arguments a path passes to the named functions (the port set
    of ports_open(), the check of metric_filter_matches())."""
    found: list[str] = []
    children = [c for c in node.get("children", []) if isinstance(c, dict)]
    if (
        node.get("type") == "function_expression"
        and node.get("value") in functions
        and len(children) > 1
        and children[1].get("type") == "literal"
    ):
        found.append(str(children[1].get("value")))
    for child in children:
        found += _literal_arguments(child, functions)
    return found


def paths(cond: Condition) -> list[str]:
    if isinstance(cond, Test):
        return [cond.path]
    if isinstance(cond, Not):
        return paths(cond.part)
    return [p for part in cond.parts for p in paths(part)]


def _summarize(value: Any) -> Any:
    if isinstance(value, list) and len(value) > 10:
        return [*value[:10], f"... {len(value) - 10} more"]
    return value


def evaluate(
    cond: Condition,
    config: Mapping[str, Any],
    unreadable: frozenset[str],
    now: dt.datetime,
    evidence: dict[str, Any],
) -> Tri:
    """Three-valued evaluation; fills `evidence` with the observed value of every path."""
    if isinstance(cond, Test):
        if cond.roots & unreadable or "*" in unreadable:
            evidence[cond.path] = "<unreadable>"
            return None
        # Real accounts hold odd shapes (a null where a list was expected, a number where a
        # string was): a path or test that cannot be applied to what was read is unknown,
        # with the reason as its evidence, never an exception that ends the scan.
        try:
            value = search(cond.compiled, config)
        except (JMESPathError, TypeError, ValueError) as exc:
            evidence[cond.path] = f"<cannot evaluate: {type(exc).__name__}>"
            return None
        evidence[cond.path] = _summarize(value)
        try:
            return OPERATORS[cond.operator](value, cond.expected, now)
        except (TypeError, ValueError):
            evidence[cond.path] = f"<cannot apply {cond.operator} to a {type(value).__name__}>"
            return None
    if isinstance(cond, Not):
        inner = evaluate(cond.part, config, unreadable, now, evidence)
        return None if inner is None else not inner
    results = [evaluate(p, config, unreadable, now, evidence) for p in cond.parts]
    if isinstance(cond, AllOf):
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False
