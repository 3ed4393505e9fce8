"""Meta-lint of every collector spec against botocore's own service models, offline."""

from __future__ import annotations

import re

import botocore.session
import jmespath
import pytest

from awsresp.collect import hooks
from awsresp.collect.specs import CallSpec, ResourceSpec, ServiceSpec, load_specs

SPECS = load_specs()
_BOTOCORE = botocore.session.get_session()
_MODELS: dict[str, object] = {}

# Read verbs; anything else must be named here with the reason it is still a read.
READ_VERBS = ("Describe", "List", "Get", "Lookup", "Search", "BatchGet", "Head")
READ_EXCEPTIONS = {
    # Asks IAM to (re)build the credential report; changes no configuration.
    ("iam", "GenerateCredentialReport"),
}


def _model(client: str):  # type: ignore[no-untyped-def]
    if client not in _MODELS:
        _MODELS[client] = _BOTOCORE.get_service_model(client)
    return _MODELS[client]


def _calls() -> list[tuple[ServiceSpec, ResourceSpec, CallSpec, bool]]:
    out = []
    for spec in SPECS:
        for res in spec.resources:
            if res.list:
                out.append((spec, res, res.list, True))
            out += [(spec, res, d.call, False) for d in res.details if d.call]
    return out


def _ids(calls: list[tuple[ServiceSpec, ResourceSpec, CallSpec, bool]]) -> list[str]:
    return [f"{r.type}:{c.operation}" for _, r, c, _ in calls]


def _first_fields(expr: str) -> set[str]:
    from awsresp.evaluate.rules import _roots

    return _roots(jmespath.compile(expr).parsed)


@pytest.mark.parametrize(("spec", "res", "call", "is_list"), _calls(), ids=_ids(_calls()))
def test_operation_exists_and_paths_fit_the_output_shape(spec, res, call, is_list) -> None:  # type: ignore[no-untyped-def]
    model = _model(res.client)
    assert call.operation in model.operation_names, f"{res.client} has no {call.operation}"
    op = model.operation_model(call.operation)
    members = set(op.output_shape.members) if op.output_shape else set()
    path = res.list_items if is_list else call.result
    if path:
        missing = _first_fields(path) - members
        assert not missing, f"{call.operation} output has no {missing} (has {sorted(members)})"
    inputs = set(op.input_shape.members) if op.input_shape else set()
    for name in [*call.params, *call.const_params]:
        assert name in inputs, f"{call.operation} takes no parameter {name}"
    if op.input_shape:
        for required in op.input_shape.required_members:
            assert required in call.params or required in call.const_params, (
                f"{call.operation} needs {required}"
            )
    if call.page_size:
        client = _BOTOCORE.create_client(res.client, region_name="us-east-1")
        assert client.can_paginate(botocore.xform_name(call.operation)), (
            "page_size on a non-paginated call"
        )


def test_every_operation_is_a_read() -> None:
    ops = {op for spec in SPECS for op in spec.operations()}
    for hook in hooks.HOOKS.values():
        ops |= set(hook.operations)
    writes = sorted(
        (client, op)
        for client, op in ops
        if not op.startswith(READ_VERBS) and (client, op) not in READ_EXCEPTIONS
    )
    assert not writes, f"operations that are not reads: {writes}"


def test_hook_operations_exist() -> None:
    for name, hook in hooks.HOOKS.items():
        for client, op in hook.operations:
            assert op in _model(client).operation_names, f"hook {name}: {client} has no {op}"


def test_iam_actions_look_like_actions() -> None:
    for spec in SPECS:
        for action in spec.iam_actions():
            assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), action
