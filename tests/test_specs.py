"""Meta-lint of every collector spec against botocore's own service models, offline."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import botocore.session
import jmespath
import pytest

from awsresp.collect import hooks
from awsresp.collect.shapes import roots
from awsresp.collect.specs import CallSpec, JoinSpec, ResourceSpec, ServiceSpec, load_specs

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
            out += [(spec, res, c, False) for d in res.details for c in d.calls()]
    return out


def _ids(calls: list[tuple[ServiceSpec, ResourceSpec, CallSpec, bool]]) -> list[str]:
    return [f"{r.type}:{c.operation}" for _, r, c, _ in calls]


def _first_fields(expr: str) -> set[str]:
    from awsresp.evaluate.rules import _roots

    return _roots(jmespath.compile(expr).parsed)


def _joins() -> list[tuple[ResourceSpec, str, CallSpec, JoinSpec]]:
    """Every join: a detail's, and an `each` read's."""
    out = []
    for s in SPECS:
        for r in s.resources:
            for d in r.details:
                if d.join and d.call:
                    out.append((r, d.key, d.call, d.join))
                for read in d.each.reads if d.each else ():
                    if read.join:
                        out.append((r, f"{d.key}.each", read.call, read.join))
    return out


# A member read as a CSV document: its entries' keys are the document's header, which the
# model does not know.
_CSV_MEMBER = re.compile(r"csv\((\w+)\)\[\]")


def _list_member(shape: Any, path: str) -> Any:
    """The shape of one entry at a simple path over a list of pages ("[].FlowLogs[]"); for a
    CSV member's rows ("[].csv(Content)[]"), the member's own shape."""
    for part in path.removeprefix("[].").split("."):
        csv_member = _CSV_MEMBER.fullmatch(part)
        if csv_member:
            return shape.members[csv_member.group(1)]
        shape = shape.members[part.removesuffix("[]")]
        if part.endswith("[]"):
            shape = shape.member
    return shape


@pytest.mark.parametrize(
    ("res", "key", "call", "join"), _joins(), ids=[f"{r.type}:{k}" for r, k, _c, _j in _joins()]
)
def test_a_join_reads_entries_and_keys_the_listing_has(
    res: ResourceSpec, key: str, call: CallSpec, join: JoinSpec
) -> None:
    model = _model(call.client or res.client)
    op = model.operation_model(call.operation)
    assert join.items.startswith("[]."), "a join's items are read over the pages"
    entry = _list_member(op.output_shape, join.items)
    if entry.type_name == "blob":
        # CSV rows of a blob read as text (its keys are checked by the collector's tests).
        member = _CSV_MEMBER.search(join.items)
        assert member and member.group(1) in call.text, "a blob is read as text only by 'text'"
    else:
        missing = roots(join.key) - set(entry.members)
        assert not missing, f"{call.operation} entries have no {missing}"
    if op.input_shape:
        missing = set(op.input_shape.required_members) - set(call.const_params)
        assert not missing, f"a join reads its listing without per-item parameters: {missing}"


@pytest.mark.parametrize(("spec", "res", "call", "is_list"), _calls(), ids=_ids(_calls()))
def test_operation_exists_and_paths_fit_the_output_shape(spec, res, call, is_list) -> None:  # type: ignore[no-untyped-def]
    client = call.client or res.client
    model = _model(client)
    assert call.operation in model.operation_names, f"{client} has no {call.operation}"
    op = model.operation_model(call.operation)
    members = set(op.output_shape.members) if op.output_shape else set()
    joined = any(d.call is call and d.join for d in res.details) or any(
        read.call is call and read.join
        for d in res.details
        for read in (d.each.reads if d.each else ())
    )
    # A join's result reads the list of entries it matched (test above), not the answer.
    path = res.list_items if is_list else None if joined else call.result
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
        botocore_client = _BOTOCORE.create_client(client, region_name="us-east-1")
        assert botocore_client.can_paginate(botocore.xform_name(call.operation)), (
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


def test_every_hook_is_used_and_lives_in_its_services_module() -> None:
    used = {d.hook for s in SPECS for r in s.resources for d in r.details if d.hook}
    used |= {d.ready for s in SPECS for r in s.resources for d in r.details if d.ready}
    used |= {r.list_hook for s in SPECS for r in s.resources if r.list_hook}
    assert set(hooks.HOOKS) == used, "a hook no spec names is dead code"
    for name, hook in hooks.HOOKS.items():
        assert hook.fn.__module__ == f"awsresp.collect.hooks.{hook.service}", name
        assert name.startswith(hook.service.replace("-", "_")), name


def test_iam_actions_look_like_actions() -> None:
    for spec in SPECS:
        for action in spec.iam_actions():
            assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), action


def test_no_spec_or_hook_reads_secret_values() -> None:
    ops = {op for spec in SPECS for _, op in spec.operations()}
    assert not ops & {"GetSecretValue", "BatchGetSecretValue", "GetParameter", "GetParameters"}


def _not_blobs(client: str, call: CallSpec) -> list[str]:
    """The members a call's `text` names that are not blobs of its operation's output."""
    shape = _model(client).operation_model(call.operation).output_shape
    members = shape.members if shape is not None else {}
    return [m for m in call.text if m not in members or members[m].type_name != "blob"]


_TEXT_CALLS = [(s, r, c, lst) for s, r, c, lst in _calls() if c.text]


@pytest.mark.parametrize(("spec", "res", "call", "is_list"), _TEXT_CALLS, ids=_ids(_TEXT_CALLS))
def test_text_names_blobs_of_the_answer(spec, res, call, is_list) -> None:  # type: ignore[no-untyped-def]
    assert not _not_blobs(call.client or res.client, call), (
        f"{call.operation}: 'text' names a member that is no blob of its output"
    )


def test_text_is_checked_against_the_model_and_never_reads_the_mfa_seeds() -> None:
    assert _TEXT_CALLS, "the credential report's Content is read as text"
    iam_calls = [c for _s, r, c, _l in _calls() if r.client == "iam"]
    # ListVirtualMFADevices answers the devices' seeds and QR codes as blobs: never text.
    assert all(not c.text for c in iam_calls if c.operation == "ListVirtualMFADevices")
    secret = CallSpec("ListVirtualMFADevices", {}, {}, None, (), (), None, "iam:x", text=("X",))
    assert _not_blobs("iam", secret) == ["X"]
    truncated = CallSpec("ListVirtualMFADevices", {}, {}, None, (), (), None, "iam:x")
    assert _not_blobs("iam", dataclasses.replace(truncated, text=("IsTruncated",))) == [
        "IsTruncated"
    ]
    report = dataclasses.replace(truncated, operation="GetCredentialReport", text=("Content",))
    assert _not_blobs("iam", report) == []


# Measured when the ratchet last moved (issue 16 aims at 3 and 5): the credential report's
# ready hook on iam.account and iam.user; no control reads a field a hook makes.
HOOKED_TYPES = 2
HOOK_READING_CONTROLS = 0


def test_hooks_stay_few() -> None:
    """A ratchet on Python hooks (issue 16 aims at 3 resource types and 5 controls): resource
    types that need one, and controls reading a field one makes, may only become fewer. A
    type whose read waits for a `ready` hook needs one, but that detail is a spec read: the
    fields it makes are no hook's."""
    from awsresp.evaluate import rules
    from awsresp.scan import Definitions

    hooked = {
        r.type: {d.key for d in r.details if d.hook}
        for s in SPECS
        for r in s.resources
        if r.list_hook or any(d.hook or d.ready for d in r.details)
    }

    def roots(cond: object) -> set[str]:
        if isinstance(cond, rules.Test):
            return set(cond.roots)
        if isinstance(cond, rules.Not):
            return roots(cond.part)
        if isinstance(cond, rules.AllOf | rules.AnyOf):
            return {r for part in cond.parts for r in roots(part)}
        return set()

    controls = Definitions.load().catalog.controls.values()

    def reading_fields(made: dict[str, set[str]]) -> list[str]:
        return [
            c.id
            for c in controls
            if (roots(c.condition) | roots(c.applies_when)) & made.get(c.resource_type, set())
        ]

    reading = reading_fields(hooked)
    assert len(hooked) <= HOOKED_TYPES, sorted(hooked)
    assert len(reading) <= HOOK_READING_CONTROLS, sorted(reading)
    # The walk finds the controls reading a field (were the credential report's rows made
    # by a hook again, these would count).
    assert len(reading_fields({"iam.user": {"Credentials"}, "iam.account": {"CredentialReport"}}))
    assert len(reading_fields({"iam.account": {"CredentialReport"}})) == 4
