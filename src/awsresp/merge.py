"""One organization report from the per-account runs of a day in a store (`awsresp merge`,
and the last step of `awsresp scan --org`): the same files and terminal view either way."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tabulate import tabulate

from awsresp import __version__
from awsresp.export import Format, Writers
from awsresp.export.files import atomic_text, prepare_dir
from awsresp.export.partitions import (
    SCANS,
    Store,
    latest_listing,
    latest_manifests,
    read_object,
)
from awsresp.export.scanjson import SCHEMA_VERSION
from awsresp.export.tables import (
    FINDING_COLUMNS,
    GAP_COLUMNS,
    ISSUE_COLUMNS,
    MATRIX_COLUMNS,
    write_csv,
)
from awsresp.export.terminal import _LAYER_HEADING, printable, printable_rows
from awsresp.model import Layer
from awsresp.scanfile import parse_scan

# Worst first, wherever one status stands for several cells (DESIGN: the gap rule).
STATUS_ORDER = ("gap", "partial", "not-assessed", "covered", "inherited")
_STATUS_RANK = {s: n for n, s in enumerate(STATUS_ORDER)}
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
_LISTS = ("issues", "findings", "matrix", "gaps", "undetermined", "resources")


def _int(row: dict[str, Any], key: str) -> int:
    try:
        return int(row.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def gap_rank(row: dict[str, Any]) -> tuple[Any, ...]:
    """The order of summary.ranked_gaps, over rows of every account: gaps before
    exposures; exposed before weak; by worst severity; then by the units affected."""
    affected = _int(row, "exposed") + _int(row, "weak") or _int(row, "failed")
    return (
        0 if row.get("kind", "gap") == "gap" else 1,
        0 if _int(row, "exposed") else 1,
        _SEVERITY_RANK.get(str(row.get("worst") or ""), 5),
        -affected,
        str(row.get("account_id", "")),
        str(row.get("service", "")),
        str(row.get("layer", "")),
    )


def reranked(gaps: list[Any]) -> list[Any]:
    """Every account's gaps in one order, numbered again from 1."""
    ordered = sorted(gaps, key=gap_rank)
    return [{**g, "rank": n} for n, g in enumerate(ordered, start=1)]


def worst(statuses: Iterable[str]) -> str:
    return min(statuses, key=lambda s: _STATUS_RANK.get(s, len(STATUS_ORDER)), default="")


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@dataclass(frozen=True)
class OrgReport:
    """The latest finished run of each account on one day, read from a store."""

    store: Store
    date: str
    manifests: tuple[dict[str, Any], ...]
    listing: dict[str, Any] | None
    matrix: tuple[dict[str, str], ...]
    gaps: tuple[dict[str, str], ...]

    @property
    def missing(self) -> list[dict[str, Any]]:
        """Accounts the run's listing meant to scan that have no finished run."""
        done = {m["account_id"] for m in self.manifests}
        items = (self.listing or {}).get("items", [])
        return [a for a in items if a["account_id"] not in done]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return list((self.listing or {}).get("skipped", []))

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m.get("state") == "failed"]

    @property
    def complete(self) -> bool:
        return all(m["complete"] for m in self.manifests) and not self.missing

    @property
    def issue_count(self) -> int:
        rows = sum(int(m["objects"]["issues"]["rows"]) for m in self.manifests)
        return rows + len(self.missing)


def load_report(store: Store, date: str, run: str | None = None) -> OrgReport:
    """Reads the day's runs (only `run`, when given). Raises AwsrespError when there is none."""
    from awsresp.errors import AwsrespError

    manifests = latest_manifests(store, date, run)
    listing = latest_listing(store, date)
    if not manifests and not (listing or {}).get("items"):
        raise AwsrespError(f"no finished run on {date} under {store.where}")
    matrix: list[dict[str, str]] = []
    gaps: list[dict[str, str]] = []
    for manifest in manifests:
        matrix += _csv_rows(read_object(store, manifest, "matrix"))
        gaps += _csv_rows(read_object(store, manifest, "gaps"))
    gaps = reranked(gaps)
    return OrgReport(store, date, tuple(manifests), listing, tuple(matrix), tuple(gaps))


def missing_issue(account: dict[str, Any], date: str) -> dict[str, Any]:
    """The issue row of an account that was to be scanned and has no finished run."""
    return {
        "account_id": account["account_id"],
        "account_name": account.get("account_name", ""),
        "ou_path": account.get("ou_path", ""),
        "service": "organizations",
        "region": "",
        "operation": "ScanAccount",
        "iam_action": "",
        "error_code": "NoFinishedRun",
        "kind": "error",
        "resource_type": "",
        "message": f"no scan of this account finished on {date} (the run failed or was cut off)",
    }


def _table_rows(report: OrgReport, table: str) -> Iterator[dict[str, str]]:
    for manifest in report.manifests:
        yield from _csv_rows(read_object(report.store, manifest, table))


def _write_table(fh: TextIO, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    # Rows read back were made safe for spreadsheets when first written; written again
    # they stay as they are (a cell starting with ' is not a formula).
    write_csv(fh, columns, ({c: row.get(c, "") for c in columns} for row in rows))


def write_org_files(report: OrgReport, directory: Path, excel: bool = False) -> list[Path]:
    """findings.csv, matrix.csv, gaps.csv, issues.csv and scan.json for the whole
    organization, written as one set (see export.files.write_files)."""
    prepare_dir(directory)
    missing = [missing_issue(a, report.date) for a in report.missing]
    tables: list[tuple[str, list[str], Iterable[dict[str, Any]]]] = [
        ("findings.csv", FINDING_COLUMNS, _table_rows(report, "findings")),
        ("matrix.csv", MATRIX_COLUMNS, report.matrix),
        ("gaps.csv", GAP_COLUMNS, report.gaps),
        ("issues.csv", ISSUE_COLUMNS, [*_table_rows(report, "issues"), *missing]),
    ]
    written = []
    with contextlib.ExitStack() as renames:
        for name, columns, rows in tables:
            fh = renames.enter_context(atomic_text(directory / name, bom=excel))
            _write_table(fh, columns, rows)
            written.append(directory / name)
        fh = renames.enter_context(atomic_text(directory / "scan.json"))
        fh.writelines(iter_org_json(report))
        written.append(directory / "scan.json")
    return written


def _account_entry(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("account_id", "account_name", "ou_path", "tags", "state", "complete", "run")
    entry = {k: manifest.get(k) for k in keys}
    entry |= {k: manifest.get(k) for k in ("scanned_at", "regions", "services", "counts")}
    return entry


def _add_counts(total: dict[str, Any], counts: dict[str, Any]) -> None:
    for key, value in counts.items():
        if isinstance(value, dict):
            _add_counts(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value


def iter_org_json(report: OrgReport) -> Iterator[str]:
    """The organization's scan.json, streamed: the same fields as one account's, every
    account's rows in its lists, and an `organization` section naming the accounts.

    Each account's scan.json is parsed once; its lists go to spool files that are then
    copied in order, so the whole organization is never in memory at once."""
    listing = report.listing or {}
    summary: dict[str, Any] = {}
    stats: dict[str, int] = {}
    regions: set[str] = set()
    services: set[str] = set()
    scanned = [m.get("scanned_at", "") for m in report.manifests]
    started: list[str] = []
    finished: list[str] = []
    partition = next((m.get("partition") for m in report.manifests), "aws")
    gaps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="awsresp-merge-") as tmp:
        spools = {name: open(Path(tmp) / name, "w+", encoding="utf-8") for name in _LISTS}  # noqa: SIM115
        try:
            for manifest in report.manifests:
                where = f"{report.store.where}{manifest['objects'][SCANS]['key']}"
                scan = parse_scan(json.loads(read_object(report.store, manifest, SCANS)), where)
                for name in _LISTS:
                    rows = (row.model_dump(mode="json") for row in getattr(scan, name))
                    if name == "gaps":
                        gaps += rows
                        continue
                    for item in rows:
                        spools[name].write(_item(item) + "\n")
                _add_counts(summary, scan.summary)
                for operation, calls in scan.stats.api_calls.items():
                    stats[operation] = stats.get(operation, 0) + calls
                regions |= set(scan.regions)
                services |= set(scan.scope.services)
                started.append(scan.started_at)
                finished.append(scan.finished_at)
            for account in report.missing:
                spools["issues"].write(_item(missing_issue(account, report.date)) + "\n")
            summary["issues"] = summary.get("issues", 0) + len(report.missing)
            for item in reranked(gaps):
                spools["gaps"].write(_item(item) + "\n")
            head = {
                "schema_version": SCHEMA_VERSION,
                "tool": {"name": "awsresp", "version": __version__},
                "scanned_at": max(scanned, default=""),
                "account": "",
                "account_name": "",
                "ou_path": "",
                "partition": partition,
                "regions": sorted(regions),
                "scope": {"services": sorted(services), "regions": sorted(regions)},
                "complete": report.complete,
                "started_at": min((s for s in started if s), default=""),
                "finished_at": max(finished, default=""),
                "organization": {
                    "id": listing.get("organization", {}).get("id", ""),
                    "management_account": listing.get("organization", {}).get(
                        "management_account", ""
                    ),
                    "date": report.date,
                    "accounts": [_account_entry(m) for m in report.manifests],
                    "skipped": report.skipped,
                    "missing": report.missing,
                },
                "summary": summary,
            }
            yield "{"
            for n, (key, value) in enumerate(head.items()):
                yield ("\n" if n == 0 else ",\n") + f" {_item(key)}: {_item(value)}"
            for name in _LISTS:
                yield f",\n {_item(name)}: "
                spool = spools[name]
                spool.seek(0)
                empty = True
                for line in spool:
                    yield ("[\n  " if empty else ",\n  ") + line.rstrip("\n")
                    empty = False
                yield "[]" if empty else "\n ]"
            yield f",\n {_item('stats')}: {_item({'api_calls': dict(sorted(stats.items()))})}"
            yield "\n}\n"
        finally:
            for spool in spools.values():
                spool.close()


def _item(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def org_document(report: OrgReport) -> dict[str, Any]:
    found: dict[str, Any] = json.loads("".join(iter_org_json(report)))
    return found


def overview_table(report: OrgReport) -> str:
    """Accounts down, layers across: the worst status of each account's cells on a layer."""
    by_cell: dict[tuple[str, str], list[str]] = {}
    for cell in report.matrix:
        by_cell.setdefault((cell["account_id"], cell["layer"]), []).append(cell["status"])
    layers = [layer for layer in Layer if any(k[1] == layer.value for k in by_cell)]
    headers = ["account", "name", "ou"] + [_LAYER_HEADING.get(la, la.value) for la in layers]
    rows = []
    for manifest in report.manifests:
        account = manifest["account_id"]
        row = [account, manifest.get("account_name", ""), manifest.get("ou_path", "")]
        if manifest.get("state") == "failed":
            row += ["(not scanned)", *[""] * (len(layers) - 1)] if layers else []
        else:
            row += [_shown(worst(by_cell.get((account, la.value), []))) for la in layers]
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt="simple")


_SHOWN = {"gap": "GAP", "partial": "PARTIAL", "not-assessed": "-", "inherited": "aws"}


def _shown(status: str) -> str:
    return _SHOWN.get(status, status)


def org_terminal_view(report: OrgReport, top: int = 15) -> str:
    listing = report.listing or {}
    org = listing.get("organization", {})
    scanned = len(report.manifests) - len(report.failed)
    head = f"Organization {org.get('id') or ''}".rstrip() + f" on {report.date}: "
    head += f"{scanned} account(s) scanned"
    if report.failed:
        head += f", {len(report.failed)} could not be scanned"
    if report.missing:
        head += f", {len(report.missing)} without a finished run"
    if report.skipped:
        head += f", {len(report.skipped)} suspended (skipped)"
    parts = [head, "", "Worst status per account and layer (gap > partial > - > covered > aws):"]
    parts += ["", overview_table(report), ""]
    gaps = [g for g in report.gaps if g.get("kind", "gap") == "gap"]
    exposures = [g for g in report.gaps if g.get("kind", "gap") != "gap"]
    for title, rows in (("Gaps", gaps), ("Exposures", exposures)):
        if not rows and title == "Exposures":
            continue
        if not rows:
            parts += [f"{title}: none", ""]
            continue
        shown = rows[:top]
        parts += [
            f"{title} across the organization: {len(rows)}"
            + (f" (top {len(shown)}; all in gaps.csv)" if len(rows) > len(shown) else ""),
            "",
            tabulate(
                [
                    [
                        g["account_id"],
                        g.get("account_name", ""),
                        g["service"],
                        g["layer"],
                        g.get("owner", ""),
                        _evidence(g),
                    ]
                    for g in shown
                ],
                headers=["account", "name", "service", "layer", "owner", "evidence"],
                tablefmt="simple",
            ),
            "",
        ]
    problems = [
        (m["account_id"], m.get("account_name", ""), m["counts"].get("issues", 0), m["state"])
        for m in report.manifests
        if not m["complete"]
    ]
    problems += [(a["account_id"], a.get("account_name", ""), 1, "no run") for a in report.missing]
    if problems:
        parts += [
            "Incomplete accounts (issues.csv has every failed read):",
            "",
            tabulate(problems, headers=["account", "name", "issues", "state"], tablefmt="simple"),
            "",
        ]
    if report.skipped:
        names = ", ".join(
            f"{a['account_id']} ({a.get('account_name', '')})" for a in report.skipped
        )
        parts += [f"Suspended, not scanned: {names}", ""]
    parts.append(
        "Per-account detail: findings.csv, matrix.csv, gaps.csv and issues.csv"
        " (account_id, account_name and ou_path on every row)."
    )
    return "\n".join(parts) + "\n"


def _evidence(row: dict[str, Any]) -> str:
    text = str(row.get("evidence", ""))
    return text if len(text) <= 60 else text[:57].rstrip(" ,") + "..."


@dataclass(frozen=True)
class OrgOutput:
    """An organization report and the folder its files were written to."""

    report: OrgReport
    directory: Path


# Nothing from the accounts reaches the terminal raw (export.terminal.printable).
def _org_json(out: OrgOutput) -> str:
    doc = json.loads((out.directory / "scan.json").read_text(encoding="utf-8"))
    return json.dumps(doc, indent=1, ensure_ascii=True)


def _org_csv(out: OrgOutput) -> str:
    buf = io.StringIO()
    with (out.directory / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        write_csv(buf, list(reader.fieldnames or []), printable_rows(reader))
    return buf.getvalue().rstrip("\n")


def _org_table(out: OrgOutput) -> str:
    return printable(org_terminal_view(out.report)).rstrip("\n")


# What `scan --org` and `merge` print (OCSF: render findings.ocsf.json with `awsresp report`).
ORG = Writers[OrgOutput](
    "an organization report",
    {Format.TABLE: _org_table, Format.CSV: _org_csv, Format.JSON: _org_json, Format.OCSF: None},
)
