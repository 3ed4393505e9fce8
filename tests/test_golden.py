"""Golden tests: every control has a fixture file, tests/golden/<service>/<control id>.yaml,
with passing, failing and unreadable configurations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from awsresp.evaluate.findings import evaluate_control
from awsresp.model import Control
from awsresp.scan import Definitions

from .conftest import GOLDEN_NOW, make_resource

GOLDEN = Path(__file__).parent / "golden"
_ALL = Definitions.load().catalog.controls


def _golden(control_id: str) -> Path:
    return GOLDEN / _ALL[control_id].resource_type.split(".", 1)[0] / f"{control_id}.yaml"


def check_golden_file(control: Control, path: Path) -> None:
    """Runs one control's golden fixture: every case gets the verdict it expects, and there
    is a passing, a failing and an unreadable case."""
    assert path.is_file(), f"missing golden fixture {path.name}: every control needs one"
    cases: list[dict[str, Any]] = yaml.safe_load(path.read_text())["cases"]
    expects = {c["expect"] for c in cases}
    assert {"pass", "fail", "unknown"} <= expects, (
        "a control needs a passing, a failing and an unreadable (unknown) case"
    )
    for case in cases:
        resource = make_resource(
            control.resource_type,
            case["config"],
            unreadable=frozenset(case.get("unreadable", [])),
        )
        outcome = evaluate_control(control, resource, GOLDEN_NOW)
        got = "not-applicable" if outcome is None else outcome[0].value
        assert got == case["expect"], f"{control.id} / {case['name']}: {got} (evidence {outcome})"


@pytest.mark.parametrize("control_id", sorted(_ALL))
def test_control_matches_its_golden_cases(control_id: str) -> None:
    check_golden_file(_ALL[control_id], _golden(control_id))


@pytest.mark.parametrize("control_id", sorted(_ALL))
def test_control_is_unknown_when_what_it_reads_is_unreadable(control_id: str) -> None:
    control = _ALL[control_id]
    cases = yaml.safe_load(_golden(control_id).read_text())["cases"]
    config = next(c["config"] for c in cases if c["expect"] == "pass")
    resource = make_resource(
        control.resource_type, config, unreadable=frozenset(config) | frozenset({"*"})
    )
    outcome = evaluate_control(control, resource, GOLDEN_NOW)
    assert outcome is not None and outcome[0].value == "unknown"


def test_no_orphan_golden_files() -> None:
    orphans = [
        str(p.relative_to(GOLDEN))
        for p in GOLDEN.rglob("*.yaml")
        if p.stem not in _ALL or p != _golden(p.stem)
    ]
    assert not orphans, f"golden files without a control: {orphans}"
