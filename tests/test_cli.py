"""The command line: bad input is one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import run_cli


def _one_line_error(result, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_unknown_profile() -> None:
    _one_line_error(run_cli(["scan", "--profile", "no-such-profile", "-q"]), "no-such-profile")


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    _one_line_error(run_cli(["scan", "-q"]), "no AWS credentials")


# An endpoint nothing listens on: an error about it would mean a network call was tried.
NOWHERE = ["--endpoint-url", "http://127.0.0.1:9"]


def test_invalid_region_is_refused_before_any_network_call() -> None:
    _one_line_error(run_cli(["scan", "-q", *NOWHERE, "--region", "mars-1"]), "invalid region")


def test_every_region_botocore_knows_is_accepted() -> None:
    from awsresp.collect.session import validate_region

    for name in ("eusc-de-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-7"):
        assert validate_region(name) == name


def test_unreachable_endpoint() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = run_cli(["scan", "-q", "--endpoint-url", "http://127.0.0.1:9"])
    _one_line_error(result, "cannot reach")


def test_unwritable_output_dir(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # root ignores permissions: use a path under a file
        target = tmp_path / "a-file"
        target.write_text("x")
        out = target / "sub"
    else:
        out = locked / "sub"
    _one_line_error(run_cli(["scan", "-q", *NOWHERE, "-o", str(out)]), "cannot create")


def test_unknown_service() -> None:
    _one_line_error(run_cli(["scan", "--sandbox", "-q", "-s", "nosuch"]), "unknown service")


def test_help_documents_exit_codes() -> None:
    result = run_cli(["scan", "--help"])
    assert result.exit_code == 0
    for text in ("Exit codes", "--fail-on-gaps", "--fail-on-incomplete", "--all-regions"):
        assert text in result.stdout


def test_fail_on_gaps_exits_1(tmp_path: Path) -> None:
    result = run_cli(["scan", "--sandbox", "-q", "--fail-on-gaps", "-s", "s3", "-o", str(tmp_path)])
    assert result.exit_code == 1


def test_fail_on_exposures_exits_1_for_a_public_bucket_in_a_partly_controlled_s3(
    tmp_path: Path,
) -> None:
    # S3's data layer is partial (some buckets controlled) but the website bucket is public.
    args = ["scan", "--sandbox", "-q", "-s", "s3", "-o", str(tmp_path), "-f", "json"]
    result = run_cli([*args, "--fail-on-exposures"])
    assert result.exit_code == 1
    import json

    exposures = [g for g in json.loads(result.stdout)["gaps"] if g["kind"] == "exposure"]
    assert [(g["service"], g["layer"], g["worst"]) for g in exposures] == [
        ("s3", "data", "critical")
    ]


def test_controls_json_lists_every_control() -> None:
    import json

    result = run_cli(["controls", "--format", "json"])
    rows = json.loads(result.stdout)
    assert len(rows) >= 15 and all({"id", "layer"} <= set(r) for r in rows)


def test_progress_lines_count_steps_out_of_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    from awsresp.cli import _Progress

    progress = _Progress(quiet=False)  # stderr is not a terminal here: plain lines
    with progress.running("scanning") as prog:
        prog.set_total(2)
        prog("iam.user global: 3")
        prog("s3.bucket global: 1")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "awsresp: scanning",
        "awsresp: [1/2] iam.user global: 3",
        "awsresp: [2/2] s3.bucket global: 1",
    ]
    quiet = _Progress(quiet=True)
    with quiet.running("scanning") as prog:
        prog.set_total(1)
        prog("iam.user global: 3")
    assert capsys.readouterr().err == ""
