"""The CIS metric-filter checks are data (mappings/cis-metric-filters.yaml), matched by the
rule evaluator's metric_filter_matches(); no Python line under src/ knows a pattern."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from awsresp.errors import SpecError
from awsresp.evaluate import metric_filters, rules

CHECKS = metric_filters.checks()
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_documented_pattern_matches_its_check_and_no_other(name: str) -> None:
    pattern = CHECKS[name].pattern
    assert metric_filters.matches(CHECKS[name], pattern)
    # Whitespace and quoting are not significant.
    unquoted = " ".join(pattern.replace('"', "").split(" "))
    assert metric_filters.matches(CHECKS[name], unquoted)
    others = [k for k, c in CHECKS.items() if k != name and metric_filters.matches(c, pattern)]
    assert others == []


def test_fifteen_checks_each_with_its_cis_section() -> None:
    assert sorted(c.section for c in CHECKS.values()) == sorted(f"4.{n}" for n in range(1, 16))


def test_a_pattern_missing_a_term_does_not_match() -> None:
    iam = CHECKS["IamPolicyChanges"]
    # Only the Version events: CreatePolicy / DeletePolicy themselves are not watched.
    partial = iam.pattern.replace("($.eventName=CreatePolicy)||", "")
    partial = partial.replace("($.eventName=DeletePolicy)||", "")
    assert "CreatePolicyVersion" in partial
    assert not metric_filters.matches(iam, partial)
    # A negated term is not the term.
    mfa = CHECKS["ConsoleSignInWithoutMfa"]
    assert not metric_filters.matches(mfa, '{ $.eventName != "ConsoleLogin" }')
    assert not metric_filters.matches(mfa, None)


def test_the_rule_function_reads_the_checks_and_refuses_unknown_names() -> None:
    cond = rules.parse(
        {"path": "filters[?metric_filter_matches(pattern, 'RootUsage')].name", "empty": False}
    )
    config = {"filters": [{"name": "root", "pattern": CHECKS["RootUsage"].pattern}]}
    evidence: dict[str, object] = {}
    assert rules.evaluate(cond, config, frozenset(), dt.datetime.now(dt.UTC), evidence)
    assert list(evidence.values()) == [["root"]]
    with pytest.raises(rules.ConditionError, match="unknown metric filter check 'Nope'"):
        rules.parse({"path": "metric_filter_matches(p, 'Nope')", "equals": True})


def test_a_documented_pattern_without_its_terms_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / metric_filters.FILE
    bad.write_text(
        "source: test\nchecks:\n  X: {cis: '4.1', pattern: '{ $.a = 1 }', event_names: [Nope]}\n"
    )
    with pytest.raises(SpecError, match="lacks one of its terms"):
        metric_filters.load(bad)


@pytest.mark.parametrize(
    "event_name", ["ConsoleLogin", "DeleteTrail", "AuthorizeSecurityGroupIngress", "DisableKey"]
)
def test_no_python_line_under_src_knows_a_cis_pattern(event_name: str) -> None:
    knowing = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if event_name in line
    ]
    assert knowing == [], f"{event_name} belongs in mappings/{metric_filters.FILE}"
