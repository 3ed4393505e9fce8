"""The sandbox is sealed: a hostile AWS and proxy environment neither breaks it nor is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# Run the CLI in a fresh process with an audit hook that records every file it opens, so
# the test sees what botocore would read, not what this test process has cached.
_RUNNER = """
import atexit, json, os, sys
watched = json.loads(os.environ["AWSRESP_TEST_WATCHED"])
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], str) and args[0] in watched:
        opened.append(args[0])
sys.addaudithook(hook)
atexit.register(lambda: open(os.environ["AWSRESP_TEST_REPORT"], "w").write(json.dumps(opened)))
from awsresp.cli import main
sys.argv = ["awsresp", *sys.argv[1:]]
main()
"""


def test_the_sandbox_ignores_proxies_profiles_and_credential_files(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAUSERREALKEY00000\n")
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-3\n")
    report = tmp_path / "opened.json"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "HTTP", "NO_PROXY", "no_proxy"))
    }
    env.update(
        # A proxy nothing listens on, and no NO_PROXY: the sandbox must not use it.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        AWS_PROFILE="nosuch",
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(config),
        AWSRESP_TEST_WATCHED=json.dumps([str(credentials), str(config)]),
        AWSRESP_TEST_REPORT=str(report),
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, "scan", "--sandbox", "-q", "-s", "s3", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Responsibility matrix for account 123456789012" in result.stdout
    assert (out / "scan.json").is_file()
    assert json.loads(report.read_text()) == [], "the sandbox opened the user's AWS files"
