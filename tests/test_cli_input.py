"""Credentials and input the CLI rejects with one clear line and exit code 2 (beyond test_cli)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import run_cli
from .test_cli import _one_line_error

_EXPIRED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
    b"<Message>The security token included in the request is expired</Message></Error>"
    b"<RequestId>1</RequestId></ErrorResponse>"
)


@pytest.fixture
def expired_sts() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that answers every call as STS does for expired credentials."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(_EXPIRED)))
            self.end_headers()
            self.wfile.write(_EXPIRED)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_expired_credentials(expired_sts: str) -> None:
    result = run_cli(["scan", "-q", "--endpoint-url", expired_sts])
    _one_line_error(result, "ExpiredToken")
    assert "credentials" in result.stderr


def test_expired_sso_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An SSO profile whose token was never cached (or has expired): botocore cannot sign.
    config = tmp_path / "config"
    config.write_text(
        "[profile corp-sso]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\n"
        "sso_account_id = 123456789012\n"
        "sso_role_name = SecurityAudit\n"
        "region = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.aws/sso/cache
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    _one_line_error(run_cli(["scan", "-q", "--profile", "corp-sso"]), "aws sso login")


def _mappings(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "my-mappings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "my-mappings"


def test_override_naming_an_unknown_owner(tmp_path: Path) -> None:
    text = "overrides: [{layer: data, service: s3, owner: Acme MSP, source: MSA s.4}]\n"
    d = _mappings(tmp_path, {"ownership.yaml": text})
    result = run_cli(["scan", "--sandbox", "-q", "--mappings", str(d), "-o", str(tmp_path)])
    _one_line_error(result, "ownership.yaml: override 1: unknown owner 'Acme MSP'")


_CONTROL = """\
- id: data.s3.custom-tagged
  title: Bucket is tagged
  layer: data
  resource: s3.bucket
  severity: low
  pass_when: {path: Tagging, empty: false}
  remediation: Tag it.
"""


def test_duplicate_control_id_in_the_users_directory(tmp_path: Path) -> None:
    d = _mappings(tmp_path, {"controls/a.yaml": _CONTROL, "controls/b.yaml": _CONTROL})
    result = run_cli(["scan", "--sandbox", "-q", "--mappings", str(d), "-o", str(tmp_path)])
    _one_line_error(result, "b.yaml: control data.s3.custom-tagged: duplicate control id")


def test_third_parties_in_ownership_yaml_point_to_the_owners_file(tmp_path: Path) -> None:
    d = _mappings(tmp_path, {"ownership.yaml": "third_parties: [Acme MSP]\n"})
    result = run_cli(["controls", "--mappings", str(d)])
    _one_line_error(result, "named parties are assigned by the owners file now (--owners FILE")


def test_rate_limit_for_an_unknown_service() -> None:
    result = run_cli(["scan", "-q", "--rate-limit", "ec2=50", "--rate-limit", "ecc2=5"])
    _one_line_error(result, "--rate-limit 'ecc2=5': unknown service 'ecc2'; known: ")


def test_rate_limit_per_service_reaches_the_limiter() -> None:
    from awsresp.cli import _limiter
    from awsresp.scan import Definitions

    limiter = _limiter(["ec2=50", "s3=0"], Definitions.load())
    assert limiter.rate_for("ec2") == 50
    assert limiter.bucket("s3", "eu-west-1") is None
    assert limiter.rate_for("iam") == 20  # the default for the others
