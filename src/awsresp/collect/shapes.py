"""The regular shapes of the spec language, executed: joins against a listing, details read
only `when` a path holds, and the order details are read in."""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jmespath
from jmespath import functions as jp_functions

if TYPE_CHECKING:
    from awsresp.collect.specs import DetailSpec, EachRead, JoinSpec


class _Functions(jp_functions.Functions):  # type: ignore[misc]
    """JMESPath's functions and the few a spec needs to take an ARN or an id apart, or to
    read a document an answer carries as text (which JMESPath cannot): split(text,
    separator), csv(text)."""

    @jp_functions.signature({"types": ["string", "null"]}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_split(self, text: str | None, separator: str) -> list[str]:
        return [] if text is None else text.split(separator)

    @jp_functions.signature({"types": ["string", "null"]})  # type: ignore[untyped-decorator]
    def _func_csv(self, text: str | None) -> list[dict[str, str]]:
        """A CSV document with a header row as one object per row, every value a string (a
        missing one ""; values beyond the header are dropped); null as no rows."""
        if text is None:
            return []
        rows = csv_module.DictReader(io.StringIO(text), restval="")
        return [{k: v for k, v in row.items() if k is not None} for row in rows]


_OPTIONS = jmespath.Options(custom_functions=_Functions())


def search(expr: str, data: Any) -> Any:
    """A spec path over an answer or an item, with the spec language's functions."""
    return jmespath.search(expr, data, options=_OPTIONS)


def ast_roots(node: Mapping[str, Any]) -> set[str]:
    """The top-level fields a JMESPath AST reads from the document it is applied to."""
    kind = node.get("type")
    children = node.get("children", [])
    if kind == "field":
        return {str(node["value"])}
    if kind in ("literal", "current", "identity"):
        return set()
    if kind in (
        "subexpression",
        "index_expression",
        "projection",
        "value_projection",
        "filter_projection",
        "flatten",
        "pipe",
    ):
        # The left side reads the document; the right side reads what the left produced.
        return ast_roots(children[0]) if children else set()
    # Multi-selects, functions, comparisons, and/or/not read every child from the document.
    out: set[str] = set()
    for child in children:
        if isinstance(child, dict):
            out |= ast_roots(child)
    return out


def roots(expr: str) -> set[str]:
    return ast_roots(jmespath.compile(expr).parsed)


def stages(details: Sequence[DetailSpec]) -> list[list[DetailSpec]]:
    """The details in the order they can be read: each stage only after the ones it needs
    (specs.py has refused cycles); within a stage, concurrently."""
    from awsresp.collect.specs import depends_on

    keys = {d.key for d in details}
    done: set[str] = set()
    out: list[list[DetailSpec]] = []
    pending = list(details)
    while pending:
        ready = [d for d in pending if depends_on(d, keys) <= done] or pending
        out.append(ready)
        done |= {d.key for d in ready}
        pending = [d for d in pending if d.key not in done]
    return out


def applies(detail: DetailSpec, config: Mapping[str, Any]) -> bool:
    """Whether the detail is read for this item (its `when` holds)."""
    return not detail.when or bool(search(detail.when, config))


def _as_list(found: Any) -> list[Any]:
    """A path's value as a list: a list as it is, null as none, anything else as one."""
    return found if isinstance(found, list) else [] if found is None else [found]


def join_keys(join: JoinSpec, config: Mapping[str, Any]) -> list[str]:
    return [str(v) for v in _as_list(search(join.item_key, config)) if v is not None]


def join_values(
    join: JoinSpec,
    answer: Any,
    configs: Sequence[Mapping[str, Any]],
    finish: Callable[[Any], Any],
) -> list[Any]:
    """Each item's entries of the listing (by the keys it names, in their order), passed
    through `finish` (the detail's result path and transform)."""
    # `items` reads a list of pages; an operation botocore cannot paginate answers one.
    pages = answer if isinstance(answer, list) else [answer]
    index: dict[str, list[Any]] = {}
    for entry in search(join.items, pages) or []:
        if isinstance(entry, dict):
            key = search(join.key, entry)
            if key is not None:
                index.setdefault(str(key), []).append(entry)
    return [
        finish([e for k in join_keys(join, config) for e in index.get(k, [])]) for config in configs
    ]


def each_read_roots(read: EachRead) -> set[str]:
    """The element's fields an `each` read names (parameters, region, join key, `when`)."""
    if read.over:  # its parameters and region read the values, not the element
        paths = [read.over]
    else:
        paths = [p for v in read.call.params.values() for p in (v if isinstance(v, list) else [v])]
        paths += [read.region] if read.region else []
    paths += [read.join.item_key] if read.join else []
    paths += [read.when] if read.when else []
    return {r for p in paths if isinstance(p, str) and not p.startswith("$") for r in roots(p)}


def each_stages(reads: Sequence[EachRead]) -> list[list[EachRead]]:
    """An `each` detail's reads in the order they can be made: a read after those whose
    `into` field it names (specs.py refuses a read naming a later one's)."""
    stage_of: dict[str, int] = {}
    stages: list[list[EachRead]] = []
    for read in reads:
        stage = 1 + max((stage_of[r] for r in each_read_roots(read) if r in stage_of), default=-1)
        if read.into:
            stage_of[read.into] = stage
        while len(stages) <= stage:
            stages.append([])
        stages[stage].append(read)
    return stages


def union(key: str, listed: Any, more: Any) -> list[Any]:
    """A detail's list with the entries of a second listing whose `key` it lacks appended
    (each once), in the listings' order."""
    out = list(listed) if isinstance(listed, list) else []
    seen = {str(search(key, e)) for e in out if isinstance(e, dict)}
    for entry in more if isinstance(more, list) else []:
        if isinstance(entry, dict):
            found = search(key, entry)
            if found is not None and str(found) not in seen:
                seen.add(str(found))
                out.append(entry)
    return out


def each_applies(read: EachRead, element: Any) -> bool:
    """Whether an `each` read is made for this element (its `when` holds)."""
    return not read.when or bool(search(read.when, element))


def over_values(path: str, element: Any) -> list[Any]:
    """The distinct values at a path, in order: an `each` read's `over` values (an alarm's
    topics), a `from` detail's list (the trails' buckets)."""
    values = _as_list(search(path, element))
    return list(dict.fromkeys(v for v in values if isinstance(v, str | int | float)))
