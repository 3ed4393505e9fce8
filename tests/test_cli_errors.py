"""Every error a user can cause is one line on stderr and exit code 2, never a traceback or a
boxed usage screen (issue 17): bad option values, a malformed AWS config, a missing profile,
an endpoint that is not a URL or answers garbage, a full disk, a scan.json of the wrong shape."""

from __future__ import annotations

import errno
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from awsresp.cli import main

NOWHERE = ["--endpoint-url", "http://127.0.0.1:9"]


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Runs the real entry point (as the `awsresp` script does) and returns the exit code,
    stdout and stderr."""
    import sys

    argv = sys.argv
    sys.argv = ["awsresp", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code: int, err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("awsresp: error:") and fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["scan", "--max-workers", "0"], "--max-workers"),
        (["scan", "--max-workers", "-1"], "--max-workers"),
        (["scan", "--max-workers", "1000000"], "--max-workers"),
        (["scan", "--format", "bogus"], "'bogus' is not one of"),
        (["scan", "--no-such-option"], "No such option: --no-such-option"),
        (["no-such-command"], "No such command"),
        (["scan", "--rate-limit", "1e-300", *NOWHERE], "the rate is 0 (no cap) or"),
        (["scan", "--rate-limit", "nan", *NOWHERE], "the rate is 0 (no cap) or"),
        (
            ["scan", "--endpoint-url", "not a url"],
            "--endpoint-url 'not a url' is not an http(s) URL",
        ),
        (["diff", "--format", "yaml", "a", "b"], "--format"),
    ],
)
def test_bad_option_values_are_one_line(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _main(args, capsys)
    _one_line(code, err, fragment)


def test_an_endpoint_from_the_environment_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "ftp://files.example")
    code, _out, err = _main(["scan", "-q"], capsys)
    _one_line(code, err, "AWS_ENDPOINT_URL 'ftp://files.example' is not an http(s) URL")


def test_a_malformed_aws_config_names_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\nthis line is not a setting\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    code, _out, err = _main(["scan", "-q", *NOWHERE], capsys)
    _one_line(code, err, f"cannot parse the AWS config file {config}: line 3")


def test_a_missing_profile_from_the_environment_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    code, _out, err = _main(["scan", "-q", *NOWHERE], capsys)
    _one_line(code, err, "AWS profile 'nosuch' (from AWS_PROFILE) not found")


class _Forbidden(http.server.BaseHTTPRequestHandler):
    """Answers every request 403 with an empty body (a proxy, a misconfigured endpoint)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def forbidden() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_an_empty_403_is_one_line(forbidden: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _main(["scan", "-q", "--endpoint-url", forbidden, "-s", "s3"], capsys)
    _one_line(code, err, "cannot identify the account: unreadable answer")


def test_diff_refuses_the_wrong_shape_and_newer_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema_version": 2, "findings": 5, "matrix": []}))
    code, _out, err = _main(["diff", str(wrong), str(wrong)], capsys)
    _one_line(code, err, "wrong.json is not a valid scan.json: tool: Field required")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema_version": 3, "findings": [], "matrix": []}))
    code, _out, err = _main(["diff", str(newer), str(newer)], capsys)
    _one_line(code, err, "schema version 3")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A 1 MB tmpfs where the machine lets this process mount one (root in a container
    usually can), otherwise a plain directory (the test then makes the disk full)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mount, mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_says_so_and_keeps_the_previous_outputs(
    small_disk: tuple[Path, bool],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    disk, mounted = small_disk
    out = disk / "out"
    code, _out, err = _main(["scan", "--sandbox", "-q", "-s", "s3", "-o", str(out)], capsys)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # Fill the 1 MB tmpfs, or, where none could be mounted, make the first output write
    # fail as a full disk does.
    if mounted:
        with pytest.raises(OSError) as raised, (disk / "filler").open("wb") as fh:
            for _ in range(64):
                fh.write(b"\0" * 65536)
        assert raised.value.errno == errno.ENOSPC
    else:
        from awsresp.export import files

        def no_space(*_args: object, **_kw: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(files, "write_csv", no_space)
    code, _out, err = _main(["scan", "--sandbox", "-q", "-s", "s3", "-o", str(out)], capsys)
    _one_line(code, err, "No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
