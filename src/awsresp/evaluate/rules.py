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


class _Functions(jp_functions.Functions):  # type: ignore[misc]
    """JMESPath functions for AWS's loose shapes (a policy's Statement or Action may be
    a single value or a list)."""

    @jp_functions.signature({"types": []})  # type: ignore[untyped-decorator]
    def _func_to_list(self, value: Any) -> list[Any]:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

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


def _roots(node: Mapping[str, Any]) -> set[str]:
    """The top-level fields a JMESPath AST reads from the document it is applied to."""
    kind = node.get("type")
    children = node.get("children", [])
    if kind == "field":
        return {str(node["value"])}
    if kind in ("literal", "current", "identity"):
        return set()
    if kind in ("subexpression", "index_expression", "projection", "value_projection"):
        # The left side reads the document; the right side reads what the left produced.
        return _roots(children[0]) if children else set()
    if kind == "filter_projection":
        return _roots(children[0]) if children else set()
    if kind in ("flatten",):
        return _roots(children[0]) if children else set()
    if kind == "pipe":
        return _roots(children[0]) if children else set()
    if kind in ("multi_select_list", "multi_select_dict", "key_val_pair"):
        out: set[str] = set()
        for child in children:
            out |= _roots(child)
        return out
    # Functions, comparisons, and/or/not read every argument from the document.
    out = set()
    for child in children:
        if isinstance(child, dict):
            out |= _roots(child)
    return out


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
    return Test(path, op, node[op], frozenset(_roots(compiled.parsed)), compiled)


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
