"""Property tests: no control's condition raises on what an account may hold (nulls, missing
keys, wrong types, odd nesting); what cannot be evaluated is unknown, with the reason."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsresp.evaluate import rules
from awsresp.evaluate.findings import evaluate_control
from awsresp.model import FindingStatus
from awsresp.scan import Definitions

from .conftest import GOLDEN_NOW, make_resource

CONTROLS = Definitions.load().catalog.controls
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["*", "0.0.0.0/0", "::/0", "Allow", "Deny", "true", "ENABLED", "-1", "6"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _roots(cond: Any) -> set[str]:
    if isinstance(cond, rules.Test):
        return set(cond.roots)
    if isinstance(cond, rules.Not):
        return _roots(cond.part)
    return {r for part in cond.parts for r in _roots(part)}


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    control_id = draw(st.sampled_from(sorted(CONTROLS)))
    control = CONTROLS[control_id]
    keys = _roots(control.condition)
    if control.applies_when is not None:
        keys |= _roots(control.applies_when)
    # Each key the control reads is present (any shape) or missing.
    config = {key: draw(_VALUES) for key in sorted(keys) if draw(st.integers(0, 4))}
    return control_id, config


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_no_condition_raises_on_any_shape(case: tuple[str, dict[str, Any]]) -> None:
    control_id, config = case
    control = CONTROLS[control_id]
    outcome = evaluate_control(control, make_resource(control.resource_type, config), GOLDEN_NOW)
    assert outcome is None or outcome[0] in tuple(FindingStatus)


def test_a_type_error_is_unknown_with_its_reason() -> None:
    cond = rules.parse({"path": "length(Grants)", "gt": 0})
    evidence: dict[str, Any] = {}
    assert rules.evaluate(cond, {"Grants": None}, frozenset(), GOLDEN_NOW, evidence) is None
    assert evidence["length(Grants)"] == "<cannot evaluate: JMESPathTypeError>"
    cond = rules.parse({"path": "Name", "contains": 5})
    evidence = {}
    assert rules.evaluate(cond, {"Name": "abc"}, frozenset(), GOLDEN_NOW, evidence) is None
    assert evidence["Name"] == "<cannot apply contains to a str>"
