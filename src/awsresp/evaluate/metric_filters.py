"""Named CloudWatch Logs metric-filter checks (mappings/cis-metric-filters.yaml) and whether a
filter pattern has every term of one."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awsresp.errors import SpecError
from awsresp.paths import load_yaml, mappings_dir

FILE = "cis-metric-filters.yaml"


@dataclass(frozen=True)
class FilterCheck:
    name: str
    section: str  # the benchmark's section ("4.3")
    pattern: str  # the pattern the benchmark documents
    terms: tuple[str, ...]  # what a filter's pattern must contain, normalized


def normalize(pattern: str) -> str:
    """A filter pattern without whitespace and double quotes, as the terms are written."""
    return "".join(pattern.split()).replace('"', "")


def load(path: Path) -> dict[str, FilterCheck]:
    node = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(node, dict) or not isinstance(node.get("checks"), dict):
        raise SpecError(path.name, "top level", "expected 'source' and a mapping 'checks'")
    if not isinstance(node.get("source"), str):
        raise SpecError(path.name, "top level", "missing 'source' (the benchmark and section)")
    checks: dict[str, FilterCheck] = {}
    for name, entry in node["checks"].items():
        where = f"check {name}"
        allowed = {"cis", "pattern", "terms", "event_names"}
        if not isinstance(entry, dict) or set(entry) - allowed:
            raise SpecError(path.name, where, f"a check has only the keys {sorted(allowed)}")
        terms = [str(t) for t in entry.get("terms") or []]
        terms += [f"$.eventName={n}" for n in entry.get("event_names") or []]
        if not terms or not isinstance(entry.get("pattern"), str) or "cis" not in entry:
            raise SpecError(path.name, where, "needs 'cis', 'pattern' and terms or event_names")
        check = FilterCheck(
            str(name), str(entry["cis"]), entry["pattern"], tuple(normalize(t) for t in terms)
        )
        if not matches(check, check.pattern):
            raise SpecError(path.name, where, "the documented pattern lacks one of its terms")
        checks[str(name)] = check
    return checks


@functools.cache
def checks() -> dict[str, FilterCheck]:
    """The packaged checks, by name."""
    return load(mappings_dir() / FILE)


@functools.lru_cache(maxsize=1024)
def _term(term: str) -> re.Pattern[str]:
    # A term ends at a name boundary: CreatePolicy is not CreatePolicyVersion.
    return re.compile(re.escape(term) + r"(?![A-Za-z0-9])")


def matches(check: FilterCheck, pattern: Any) -> bool:
    """Whether a metric filter pattern has every term of the check (extra terms, such as
    exclusions, are accepted)."""
    if not isinstance(pattern, str):
        return False
    text = normalize(pattern)
    return all(_term(t).search(text) for t in check.terms)
