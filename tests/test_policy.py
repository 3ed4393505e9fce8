"""`awsresp policy`: valid least-privilege JSON whose every action is a real read."""

from __future__ import annotations

import json
from functools import cache

import botocore.session

from awsresp.collect import hooks
from awsresp.collect.policy import ACTION_OPERATIONS, SCANNER_ACTIONS, actions, policy_document
from awsresp.collect.specs import load_specs

from .conftest import run_cli
from .test_specs import READ_EXCEPTIONS, READ_VERBS

SPECS = load_specs()
_BOTOCORE = botocore.session.get_session()
# AWS's limit for a customer-managed policy, whitespace excluded.
MANAGED_POLICY_MAX_CHARS = 6144


@cache
def _operations_by_prefix() -> dict[str, set[tuple[str, str]]]:
    """IAM service prefix -> (client, operation) of every botocore model. The IAM prefix is
    usually the signing name, but not always (CloudWatch signs as "monitoring" and its IAM
    prefix is "cloudwatch", the client's name), so a model is filed under all three names."""
    out: dict[str, set[tuple[str, str]]] = {}
    for client in _BOTOCORE.get_available_services():
        model = _BOTOCORE.get_service_model(client)
        ops = {(client, op) for op in model.operation_names}
        for prefix in {client, model.signing_name, model.endpoint_prefix} - {None}:
            out.setdefault(str(prefix), set()).update(ops)
    return out


def _used_operations() -> set[tuple[str, str]]:
    ops = {op for spec in SPECS for op in spec.operations()}
    return ops | {op for hook in hooks.HOOKS.values() for op in hook.operations}


def test_policy_command_prints_valid_sorted_grouped_json() -> None:
    result = run_cli(["policy"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == policy_document(SPECS)
    assert doc["Version"] == "2012-10-17"
    prefixes = [st["Action"][0].split(":")[0] for st in doc["Statement"]]
    assert prefixes == sorted(set(prefixes)), "one statement per service, sorted"
    listed: list[str] = []
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow" and st["Resource"] == "*" and st["Sid"].isalnum()
        assert st["Action"] == sorted(st["Action"])
        assert {a.split(":")[0] for a in st["Action"]} == {st["Action"][0].split(":")[0]}
        listed += st["Action"]
    assert listed == actions(SPECS)
    assert not any("*" in a for a in listed), "no wildcards: exactly the actions used"
    assert len(json.dumps(doc, separators=(",", ":"))) <= MANAGED_POLICY_MAX_CHARS


def test_policy_is_exactly_the_actions_of_specs_and_hooks() -> None:
    from_specs = {a for spec in SPECS for a in spec.iam_actions()}
    assert set(actions(SPECS)) == from_specs | set(SCANNER_ACTIONS)


def test_every_action_is_a_read_operation_of_botocore() -> None:
    by_prefix = _operations_by_prefix()
    used = _used_operations()
    for action in actions(SPECS):
        prefix, name = action.split(":")
        assert prefix in by_prefix, f"{action}: no AWS service signs as {prefix!r}"
        if action in ACTION_OPERATIONS:
            # Documented exception: the action allows an operation of another name.
            client, op = ACTION_OPERATIONS[action].split(":")
            assert (client, op) in by_prefix[prefix], f"{action}: {client} has no {op}"
            assert (client, op) in used or action in SCANNER_ACTIONS, f"{action}: unused"
        else:
            ops = {op for _, op in by_prefix[prefix]}
            assert name in ops, f"{action} matches no {prefix} operation; document it"
            op = name
        assert op.startswith(READ_VERBS) or any(op == e for _, e in READ_EXCEPTIONS), action


def test_policy_for_one_service() -> None:
    doc = json.loads(run_cli(["policy", "-s", "s3"]).stdout)
    assert {a.split(":")[0] for st in doc["Statement"] for a in st["Action"]} == {"s3", "ec2"}
    assert run_cli(["policy", "-s", "nosuch"]).exit_code == 2
