"""An account's run published as partitions: report.html among its objects, the manifest
last, nothing left after a failed put, and `merge` taking only runs with a manifest."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.session import Target
from awsresp.export.partitions import LocalStore, RunId, write_run
from awsresp.merge import load_report
from awsresp.model import ScanResult
from awsresp.scan import Definitions, scan_account

# What write_run puts, in order: the four tables, report.html, scan.json, the manifest.
PUTS = 7


class FailingStore(LocalStore):
    """A folder whose `fail_at`-th put fails (and, with `deletes_fail`, its deletes)."""

    def __init__(self, root: Path, fail_at: int, deletes_fail: bool = False) -> None:
        super().__init__(root)
        self.fail_at, self.deletes_fail, self.puts = fail_at, deletes_fail, 0

    def put(self, key: str, body: bytes) -> None:
        self.puts += 1
        if self.puts == self.fail_at:
            raise OSError(28, "No space left on device")
        super().put(key, body)

    def delete(self, keys: Sequence[str]) -> None:
        if self.deletes_fail:
            raise OSError(5, "Input/output error")
        super().delete(keys)


@pytest.fixture(scope="module")
def result() -> Iterator[ScanResult]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="acme-data")
        definitions = Definitions.load().select(["s3"])
        yield scan_account(Target(boto3.Session(region_name="us-east-1")), definitions, [])


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_run_publishes_report_html_and_the_manifest_last(
    result: ScanResult, tmp_path: Path
) -> None:
    run = RunId("2026-11-30", "20261130T030000Z-aaaaaaaa")
    keys = write_run(result, LocalStore(tmp_path), run)
    account = result.inventory.account
    assert [k.split("/")[0] for k in keys] == [
        "findings",
        "matrix",
        "gaps",
        "issues",
        "reports",
        "scans",
        "manifests",
    ]
    assert keys[4] == f"reports/date=2026-11-30/account={account}/run={run.run}/report.html"
    manifest = json.loads((tmp_path / keys[-1]).read_text())
    assert set(manifest["objects"]) == {"findings", "matrix", "gaps", "issues", "reports", "scans"}
    for entry in manifest["objects"].values():
        body = (tmp_path / entry["key"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    assert (tmp_path / keys[4]).read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("fail_at", range(1, PUTS + 1))
def test_a_failed_put_leaves_nothing(result: ScanResult, tmp_path: Path, fail_at: int) -> None:
    store = FailingStore(tmp_path, fail_at)
    with pytest.raises(OSError, match="No space left"):
        write_run(result, store, RunId("2026-11-30", "20261130T030000Z-bbbbbbbb"))
    assert store.puts == fail_at
    assert _files(tmp_path) == []


def test_merge_takes_only_runs_with_a_manifest(result: ScanResult, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_run(result, store, RunId("2026-11-30", "20261130T030000Z-aaaaaaaa"))
    # A later run whose manifest could not be written and whose cleanup failed too: its
    # objects stay, without a manifest, and change what a reader without one would see.
    later = dataclasses.replace(result, cells=())
    with pytest.raises(OSError, match="No space left"):
        write_run(
            later, FailingStore(tmp_path, PUTS, True), RunId("2026-11-30", "20261130T230000Z-c")
        )
    assert any("run=20261130T230000Z-c" in f for f in _files(tmp_path))
    report = load_report(store, "2026-11-30")
    assert [m["run"] for m in report.manifests] == ["20261130T030000Z-aaaaaaaa"]
    assert len(report.matrix) == len(result.cells) > 0
