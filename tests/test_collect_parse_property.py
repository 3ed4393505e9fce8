"""Property: whatever bytes an endpoint answers, no exception escapes the collector; the
read is either understood or a CollectionIssue."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs

SPECS = load_specs()


class _Raw:
    """What botocore reads an HTTP answer's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


class _Answering(Target):
    """A target whose clients never reach the network: every request is answered with the
    given status, content type and body (botocore parses it as it would a real answer)."""

    answer: tuple[int, str, bytes] = (200, "", b"")

    def client(self, service: str, region: str) -> Any:
        client = super().client(service, region)

        def answer(request: Any, **_: Any) -> AWSResponse:
            status, content_type, body = self.answer
            headers = {"Content-Type": content_type} if content_type else {}
            return AWSResponse(request.url, status, headers, _Raw(body))

        client.meta.events.register_first("before-send", answer, unique_id="test-answer")
        return client


_TARGETS: dict[str, _Answering] = {}

BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(
        [
            b"",
            b"{",
            b'{"Keys": [',
            b"<html><body>portal</body></html>",
            b"<?xml version='1.0'?><Foo><Bar>",
            b"\xff\xfe\x00\x00",
            b"null",
            b"[]",
            b'{"Keys": null}',
        ]
    ),
)


@pytest.mark.parametrize("spec", SPECS, ids=[s.service for s in SPECS])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    status=st.sampled_from([200, 200, 200, 400, 500]),
    content_type=st.sampled_from(["", "application/json", "text/xml", "text/html"]),
    body=BODIES,
)
def test_no_answer_crashes_the_collector(
    spec: Any, status: int, content_type: str, body: bytes
) -> None:
    target = _TARGETS.get(spec.service)
    if target is None:  # clients are built once per service: building one takes ~0.1 s
        session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        target = _TARGETS[spec.service] = _Answering(
            session, endpoint_url="http://127.0.0.1:9", max_attempts=1
        )
    target.answer = (status, content_type, body)
    inventory = Collector(target, [spec], "123456789012", "aws", ["us-east-1"]).run()
    assert inventory.resources or inventory.issues
