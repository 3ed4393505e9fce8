"""Access Analyzer: the analyzers of each region (Stubber: moto lacks the service)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import boto3

from awsresp.collect.session import Target
from awsresp.model import IssueKind

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    judge,
)


def _analyzer(kind: str, status: str = "ACTIVE") -> dict[str, object]:
    return {
        "arn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/{kind.lower()}",
        "name": kind.lower(),
        "type": kind,
        "createdAt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "status": status,
    }


def test_access_analyzer_is_read_per_region_and_judged() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "accessanalyzer")
    stub.add_response(
        "list_analyzers",
        {"analyzers": [_analyzer("ACCOUNT_UNUSED_ACCESS")], "nextToken": "t"},
    )
    stub.add_response(
        "list_analyzers", {"analyzers": [_analyzer("ORGANIZATION")]}, {"nextToken": "t"}
    )
    with stub:
        inv = collect_only(target, "accessanalyzer.analyzers", "Analyzers")
    stub.assert_no_pending_responses()
    (fact,) = inv.resources
    assert fact.account_fact and fact.id == f"{ACCOUNT}/{REGION}"
    assert [a["type"] for a in fact.config["Analyzers"]] == [
        "ACCOUNT_UNUSED_ACCESS",
        "ORGANIZATION",
    ]
    control = "access-rights.accessanalyzer.external-access-analyzer-active"
    assert judge(control, fact) == "pass"
    unused_only = dataclasses.replace(fact, config={"Analyzers": fact.config["Analyzers"][:1]})
    assert judge(control, unused_only) == "fail"


def test_access_analyzer_denied_is_unknown_never_a_failure() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "accessanalyzer")
    stub.add_client_error("list_analyzers", "AccessDeniedException", http_status_code=403)
    with stub:
        inv = collect_only(target, "accessanalyzer.analyzers", "Analyzers")
    (fact,) = inv.resources
    assert fact.unreadable == frozenset({"Analyzers"})
    assert judge("access-rights.accessanalyzer.external-access-analyzer-active", fact) == (
        "unknown"
    )
    assert [(i.operation, i.iam_action, i.kind) for i in inv.issues] == [
        ("ListAnalyzers", "access-analyzer:ListAnalyzers", IssueKind.ACCESS_DENIED)
    ]
