"""Shared fixtures: the packaged definitions, resource builders, and a scanned sandbox."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from awsresp.cli import app
from awsresp.model import Resource
from awsresp.scan import Definitions

# Golden tests judge dates against this instant, so they do not age.
GOLDEN_NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)

# Tests never reach real AWS: dummy credentials and no profile from the developer's machine.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    MOTO_EC2_LOAD_DEFAULT_AMIS="false",
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return Definitions.load()


def make_resource(rtype: str, config: dict[str, Any], **kw: Any) -> Resource:
    return Resource(
        type=rtype,
        id=kw.pop("id", "r-1"),
        arn=kw.pop("arn", f"arn:aws:{rtype.split('.', maxsplit=1)[0]}:::r-1"),
        name=kw.pop("name", "r-1"),
        account=kw.pop("account", "123456789012"),
        region=kw.pop("region", "us-east-1"),
        config=config,
        **kw,
    )


def run_cli(args: list[str]) -> Any:
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture(scope="session")
def sandbox_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The CLI's scan of the built-in sandbox account over HTTP, as scan.json; `_stdout` is
    what `make demo` prints (the terminal view), `_dir` the output directory."""
    out: Path = tmp_path_factory.mktemp("sandbox-scan")
    result = run_cli(["scan", "--sandbox", "--quiet", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "scan.json").read_text())
    doc["_stdout"] = result.stdout
    doc["_dir"] = str(out)
    yield doc
