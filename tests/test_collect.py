"""The spec executor: pagination, absent values, classified failures, unlisted types."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.executor import Collector, classify, redact
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.collect.throttle import RateLimiter
from awsresp.model import IssueKind

from .stubs import MOTO_LACKS_EC2, PeakOnTheWire


def _collect(services: set[str], region: str = "us-east-1", **target_kw: Any) -> Any:
    specs = [s for s in load_specs() if s.service in services]
    target = Target(boto3.Session(region_name=region), **target_kw)
    return Collector(target, specs, "123456789012", "aws", [region]).run(), target


@mock_aws
def test_absent_configuration_is_data_not_an_issue() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="plain-bucket")
    inv, _ = _collect({"s3"})
    bucket = next(r for r in inv.resources if r.type == "s3.bucket")
    assert bucket.config["PublicAccessBlock"] is None
    assert bucket.config["Encryption"] is None
    assert bucket.unreadable == frozenset()
    assert inv.issues == () and inv.complete


@mock_aws
def test_iam_authorization_details_is_read_once_for_four_types() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    for i in range(3):
        iam.create_user(UserName=f"user-{i}")
    inv, target = _collect({"iam"})
    assert target.stats.calls[("iam", "GetAccountAuthorizationDetails")] == 1
    assert {r.id for r in inv.resources if r.type == "iam.user"} == {"user-0", "user-1", "user-2"}
    account = next(r for r in inv.resources if r.type == "iam.account")
    assert account.account_fact and account.config["PasswordPolicy"] is None


def test_denied_detail_makes_only_that_key_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="denied-acl")
        real = boto3.Session.client

        def client(self: Any, service: str, *a: Any, **kw: Any) -> Any:
            c = real(self, service, *a, **kw)
            if service == "s3":

                def deny(**_: Any) -> Any:
                    raise ClientError(
                        {"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetBucketAcl"
                    )

                c.get_bucket_acl = deny
            return c

        monkeypatch.setattr(boto3.Session, "client", client)
        inv, _ = _collect({"s3"})
    bucket = next(r for r in inv.resources if r.type == "s3.bucket")
    assert bucket.unreadable == frozenset({"Acl"})
    (issue,) = inv.issues
    assert (issue.kind, issue.operation, issue.iam_action) == (
        IssueKind.ACCESS_DENIED,
        "GetBucketAcl",
        "s3:GetBucketAcl",
    )
    assert not inv.complete


def test_failed_list_leaves_an_unlisted_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    with mock_aws():
        real = boto3.Session.client

        def client(self: Any, service: str, *a: Any, **kw: Any) -> Any:
            c = real(self, service, *a, **kw)
            if service == "s3":

                def deny(*_: Any, **__: Any) -> Any:
                    raise ClientError({"Error": {"Code": "AccessDenied"}}, "ListBuckets")

                c.get_paginator = lambda _name: type("P", (), {"paginate": deny})()
            return c

        monkeypatch.setattr(boto3.Session, "client", client)
        inv, _ = _collect({"s3"})
    placeholder = next(r for r in inv.resources if r.type == "s3.bucket")
    assert placeholder.unlisted and placeholder.id == "*"
    assert inv.issues[0].iam_action == "s3:ListAllMyBuckets"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("AccessDenied", IssueKind.ACCESS_DENIED),
        ("UnauthorizedOperation", IssueKind.ACCESS_DENIED),
        ("OptInRequired", IssueKind.NOT_ENABLED),
        ("ThrottlingException", IssueKind.THROTTLED),
        ("InternalError", IssueKind.ERROR),
    ],
)
def test_error_codes_are_classified(code: str, kind: IssueKind) -> None:
    assert classify(code) == kind


def test_redact_replaces_values_but_keeps_keys() -> None:
    config = {"Environment": {"Variables": {"DB_PASSWORD": "hunter2", "MODE": "prod"}}}
    redact(config, "Environment.Variables")
    assert config == {
        "Environment": {"Variables": {"DB_PASSWORD": "<redacted>", "MODE": "<redacted>"}}
    }
    items = {"Params": [{"Value": "s3cret"}, {"Value": "x"}]}
    redact(items, "Params[].Value")
    assert items == {"Params": [{"Value": "<redacted>"}, {"Value": "<redacted>"}]}


def test_issue_messages_are_one_line_and_name_html_pages() -> None:
    from awsresp.collect.executor import HTML_PAGE_MESSAGE, one_line

    assert one_line("a\n  b\r\n\tc") == "a b c"
    assert len(one_line("x" * 1000)) == 300
    page = "An error occurred (500): <!doctype html>\n<html lang=en><title>500</title>"
    assert one_line(page) == HTML_PAGE_MESSAGE


def test_max_workers_bounds_the_calls_in_flight_across_both_pools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_wire = PeakOnTheWire()

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        kms = boto3.client("kms", region_name="us-east-1")
        for i in range(12):
            s3.create_bucket(Bucket=f"bucket-{i}")
            kms.create_key(Description=f"key-{i}")
        real = Target.client

        def client(self: Target, service: str, region: str) -> Any:
            c = real(self, service, region)
            if not getattr(c, "_test_counted", False):
                c.meta.events.register("before-send", on_wire)
                c._test_counted = True
            return c

        monkeypatch.setattr(Target, "client", client)
        inv, target = _collect(
            {"s3", "kms", "iam", "ec2"}, max_workers=3, limiter=RateLimiter(rate=0)
        )
    assert target.stats.total > 100  # list and detail calls of four services
    assert 1 < on_wire.peak <= 3
    assert {i.operation for i in inv.issues} <= MOTO_LACKS_EC2


def test_a_scan_evaluates_each_type_as_it_is_collected_to_the_same_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime as dt
    import threading

    from awsresp.evaluate import findings as mapping
    from awsresp.scan import Definitions, evaluate, scan_account

    threads: set[str] = set()
    real = mapping.findings_for

    def findings_for(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="open-bucket")
        s3.create_bucket(Bucket="closed-bucket")
        s3.put_public_access_block(
            Bucket="closed-bucket",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        boto3.client("iam", region_name="us-east-1").create_user(UserName="someone")
        definitions = Definitions.load().select(["s3", "iam"])
        monkeypatch.setattr(mapping, "findings_for", findings_for)
        result = scan_account(Target(boto3.Session(region_name="us-east-1")), definitions, [])
    # Evaluated in the listing threads, while other types were still being collected ...
    assert threads and all(name.startswith("awsresp-list") for name in threads)
    # ... and to exactly what evaluating the finished inventory gives.
    now = dt.datetime.fromisoformat(result.scanned_at)
    after = evaluate(result.inventory, definitions, now)
    key = [(f.control.id, f.resource.id, f.status) for f in result.findings]
    assert key == [(f.control.id, f.resource.id, f.status) for f in after.findings]
    assert {"pass", "fail"} <= {f.status.value for f in result.findings}


@mock_aws
def test_clients_of_a_service_share_one_class_across_regions_and_sessions() -> None:
    # botocore would build a class per client (a method per operation, again per region);
    # session.py builds one per service and API version. Each client keeps its own region,
    # endpoint and handlers, and works.
    one = Target(boto3.Session(region_name="us-east-1"))
    other = Target(boto3.Session(region_name="eu-west-1"))
    us, eu = one.client("sqs", "us-east-1"), other.client("sqs", "eu-west-1")
    assert type(us) is type(eu) and type(us) is not type(one.client("kms", "us-east-1"))
    assert (us.meta.region_name, eu.meta.region_name) == ("us-east-1", "eu-west-1")
    assert us.meta.endpoint_url != eu.meta.endpoint_url
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="q")
    assert eu.list_queues()["QueueUrls"] and "QueueUrls" not in us.list_queues()


def test_service_models_are_held_without_their_documentation() -> None:
    # The scanner never renders a docstring: operations and shapes lose theirs when a model
    # is first loaded (session.py); clientContextParams keep theirs (botocore reads them).
    import botocore.loaders

    import awsresp.collect.session  # noqa: F401  (installs the loader's wrapper)

    model = botocore.loaders.create_loader().load_service_model("s3", "service-2")
    ops, shapes = model["operations"], model["shapes"]
    assert not any("documentation" in op for op in ops.values())
    assert not any("documentation" in s for s in shapes.values())
    members = [m for s in shapes.values() for m in s.get("members", {}).values()]
    assert members and not any("documentation" in m for m in members)
    assert all("documentation" in p for p in model["clientContextParams"].values())
    assert ops["ListBuckets"]["http"]["requestUri"] == "/"  # the rest of the model is whole
