"""Helpers for collector tests: answers from botocore's Stubber instead of moto, and a count
of the requests under way at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import ServiceSpec, load_specs
from awsresp.model import Inventory

ACCOUNT = "123456789012"
REGION = "us-east-1"
# EC2 reads moto (5.2) does not implement: in-process it raises NotImplementedError, which
# the collector reports as an issue; a test collecting EC2 under mock_aws expects these.
MOTO_LACKS_EC2 = frozenset(
    {"GetSnapshotBlockPublicAccessState", "DescribeVpcBlockPublicAccessOptions"}
)


def collect_only(target: Target, rtype: str, *details: str) -> Inventory:
    """Collects one resource type with only the named details: a Stubber answers in the
    order it was given, so the test keeps the collector's concurrent calls out of it."""
    service, noun = rtype.split(".")
    spec = next(s for s in load_specs() if s.service == service)
    res = next(r for r in spec.resources if r.noun == noun)
    res = replace(res, details=tuple(d for d in res.details if d.key in details))
    one = ServiceSpec(spec.service, spec.file, spec.scope, spec.iam_prefix, (res,))
    return Collector(target, [one], ACCOUNT, "aws", [REGION]).run()


def stubbed(target: Target, service: str) -> tuple[Any, Stubber]:
    """A stubbed client placed where the collector looks for (service, REGION)."""
    client = boto3.Session(region_name=REGION).client(service, region_name=REGION)
    target._clients[(service, REGION)] = client
    return client, Stubber(client)


Answer = Callable[[dict[str, Any]], dict[str, Any]]


def answering(
    target: Target, service: str, region: str, answers: Mapping[str, Answer]
) -> list[Any]:
    """A client placed where the collector looks for (service, region) whose calls are
    answered by operation name (answers[op](params)), in whatever order concurrent calls
    come, which a Stubber cannot do; returns the (operation, params) asked, in order. An
    operation without an answer fails the test."""
    client = boto3.Session(region_name=region).client(service, region_name=region)
    target._clients[(service, region)] = client
    asked: list[Any] = []
    lock = threading.Lock()

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["answering_params"] = dict(params)

    def reply(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        params = context.get("answering_params", {})
        with lock:
            asked.append((model.name, params))
        assert model.name in answers, f"{service} {region}: unexpected {model.name}"
        return AWSResponse("https://example.invalid", 200, {}, None), answers[model.name](params)

    client.meta.events.register("before-parameter-build.*.*", keep)
    client.meta.events.register("before-call.*.*", reply)
    return asked


class PeakOnTheWire:
    """A `before-send` handler that counts the requests under way at once (`peak`). It
    holds each request a moment, so concurrent ones pile up if anything lets too many
    through; register it after the handlers whose bound it checks."""

    def __init__(self, hold: float = 0.01) -> None:
        self.hold = hold
        self.peak = 0
        self._now = 0
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self._lock:
            self._now += 1
            self.peak = max(self.peak, self._now)
        time.sleep(self.hold)
        with self._lock:
            self._now -= 1
