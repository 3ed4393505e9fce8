"""Writes a scan's output files into a directory (atomically, as a set) or as (name, text)
pairs for uploads."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from awsresp.errors import OutputError
from awsresp.export.frameworks import FRAMEWORK_COLUMNS, framework_rows
from awsresp.export.owners import OWNER_COLUMNS, owner_rows
from awsresp.export.report import DEFAULT_NAMES as REPORT_NAMES
from awsresp.export.report import ReportFormat, render_report, scan_file
from awsresp.export.scanjson import iter_scan_json, scan_document
from awsresp.export.tables import (
    FINDING_COLUMNS,
    GAP_COLUMNS,
    ISSUE_COLUMNS,
    MATRIX_COLUMNS,
    cell_row,
    finding_row,
    gap_rows,
    issue_row,
    write_csv,
)
from awsresp.model import ScanResult


def _file_mode() -> int:
    """The mode a new file gets under the process's umask (mkstemp's temporary files are
    0600; published outputs follow the umask, as any other file the user creates)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _Staged:
    """A temporary file beside `path`, published by renaming it there (or discarded)."""

    def __init__(self, path: Path) -> None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        except OSError as exc:
            raise OutputError(f"cannot write to {path.parent}: {exc.strerror}") from None
        self.path, self.tmp, self.fd = path, Path(tmp), fd

    def publish(self) -> None:
        os.chmod(self.tmp, _file_mode())
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.tmp.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@contextlib.contextmanager
def atomic_text(path: Path, bom: bool = False) -> Iterator[TextIO]:
    """Writes to a temporary file beside `path` and renames it into place on success,
    so a crash or Ctrl-C leaves the previous complete file or none, never a truncated one."""
    staged = _Staged(path)
    try:
        with os.fdopen(staged.fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            yield fh
        staged.publish()
    except BaseException:
        staged.discard()
        raise


def check_writable(directory: Path) -> None:
    """Fails before a scan, not after it, when its outputs could not be written there: the
    directory, or the nearest part of its path that exists, must be a writable directory."""
    existing = directory
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot create output directory {directory}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create output directory {directory}: {existing} is not writable")


def prepare_dir(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {directory}: {exc.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise OutputError(f"output directory {directory} is not writable")
    return directory


def table_rows(result: ScanResult) -> tuple[tuple[str, list[str], Iterable[dict[str, Any]]], ...]:
    """(file name, columns, rows) of each table a scan writes."""
    info = result.account_info
    return (
        (
            "findings.csv",
            FINDING_COLUMNS,
            (finding_row(f, result.scanned_at, info) for f in result.findings),
        ),
        ("matrix.csv", MATRIX_COLUMNS, (cell_row(c, info) for c in result.cells)),
        ("gaps.csv", GAP_COLUMNS, gap_rows(result.ranked, info)),
        ("issues.csv", ISSUE_COLUMNS, (issue_row(i, info) for i in result.inventory.issues)),
    )


def summary_rows(
    result: ScanResult,
) -> tuple[tuple[str, list[str], Iterable[dict[str, Any]]], ...]:
    """(file name, columns, rows) of the scan's summaries: owners.csv (per accountable party)
    and frameworks.csv (per framework requirement). Not partition tables: an organization's
    are a view over the accounts' findings, not a union of rows."""
    return (
        ("owners.csv", OWNER_COLUMNS, owner_rows(result)),
        ("frameworks.csv", FRAMEWORK_COLUMNS, framework_rows(result.requirements)),
    )


def output_files(result: ScanResult) -> list[tuple[str, bytes]]:
    """(file name, content) for findings.csv, matrix.csv, gaps.csv, issues.csv, owners.csv,
    frameworks.csv, report.html and scan.json: the set a scan writes, for uploads (the
    Lambda handler's to S3, which adds its manifest)."""
    files = []
    for name, columns, rows in (*table_rows(result), *summary_rows(result)):
        buf = io.StringIO()
        write_csv(buf, columns, rows)
        files.append((name, buf.getvalue().encode("utf-8")))
    scan = scan_file(result)
    files.append((REPORT_NAMES[ReportFormat.HTML], render_report(scan, ReportFormat.HTML)))
    doc = json.dumps(scan_document(scan), indent=1, ensure_ascii=False)
    files.append(("scan.json", (doc + "\n").encode("utf-8")))
    return files


@contextlib.contextmanager
def atomic_bytes(path: Path) -> Iterator[io.BufferedWriter]:
    """atomic_text for bytes (a workbook)."""
    staged = _Staged(path)
    try:
        with os.fdopen(staged.fd, "wb") as fh:
            yield fh
        staged.publish()
    except BaseException:
        staged.discard()
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """One file, written atomically; an unwritable place is an OutputError."""
    try:
        with atomic_bytes(path) as fh:
            fh.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None


def write_reports(directory: Path, ocsf: bool = False) -> list[Path]:
    """report.html (and findings.ocsf.json) from the scan.json already in `directory`: for
    the organization's merged scan, whose scan.json is assembled from the accounts' runs."""
    from awsresp.scanfile import read_scan

    scan = read_scan(directory / "scan.json")
    written = []
    for fmt in [ReportFormat.HTML] + ([ReportFormat.OCSF] if ocsf else []):
        path = directory / REPORT_NAMES[fmt]
        write_bytes(path, render_report(scan, fmt))
        written.append(path)
    return written


def write_files(
    result: ScanResult, directory: Path, excel: bool = False, ocsf: bool = False
) -> list[Path]:
    """findings.csv, matrix.csv, gaps.csv, issues.csv, owners.csv, frameworks.csv,
    report.html (and findings.ocsf.json with `ocsf`) and scan.json, published as a set:
    every file is written to a temporary file first; only when all are complete are they
    renamed into place, scan.json last. So
    a failure while writing (a full disk) leaves every previous file, and scan.json, which
    lists the SHA-256 of the others, is the marker of a complete set: a kill between the
    renames leaves files whose digests the scan.json beside them does not list."""
    prepare_dir(directory)
    staged: list[_Staged] = []
    try:
        for name, columns, rows in (*table_rows(result), *summary_rows(result)):
            staged.append(_Staged(directory / name))
            with os.fdopen(
                staged[-1].fd, "w", encoding="utf-8-sig" if excel else "utf-8", newline=""
            ) as fh:
                write_csv(fh, columns, rows)
        scan = scan_file(result)
        for fmt in [ReportFormat.HTML] + ([ReportFormat.OCSF] if ocsf else []):
            staged.append(_Staged(directory / REPORT_NAMES[fmt]))
            with os.fdopen(staged[-1].fd, "wb") as out:
                out.write(render_report(scan, fmt))
        digests = {s.path.name: s.sha256() for s in staged}
        staged.append(_Staged(directory / "scan.json"))
        with os.fdopen(staged[-1].fd, "w", encoding="utf-8", newline="") as fh:
            fh.writelines(iter_scan_json(scan, files=digests))
        for s in staged:
            s.publish()
    except OSError as exc:
        raise OutputError(
            f"cannot write the outputs into {directory}: {exc.strerror or exc};"
            " the previous files were left as they were"
        ) from None
    finally:
        for s in staged:
            s.discard()  # a no-op for what was published
    return [s.path for s in staged]


def unpublished(directory: Path) -> list[str]:
    """The files of an output set that the scan.json beside them does not vouch for (empty
    for a complete set): what a reader of the CSVs checks first."""
    import json as _json

    try:
        listed = _json.loads((directory / "scan.json").read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError):
        return ["scan.json"]
    if not isinstance(listed, dict):
        return ["scan.json"]
    out = []
    for name, digest in sorted(listed.items()):
        path = directory / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            out.append(name)
    return out
