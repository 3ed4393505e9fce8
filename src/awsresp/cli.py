"""The awsresp command line: the only module that parses arguments and exits."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import enum
import gc
import io
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

# typer (0.29) vendors click; its usage exceptions live here, and only main() uses them.
from typer import Abort
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from awsresp import __version__
from awsresp.collect.session import Target, default_endpoint, make_session, validate_region
from awsresp.collect.throttle import DEFAULT_RATE, SERVICE_RATES, RateLimiter, parse_rate_limits
from awsresp.errors import AwsrespError
from awsresp.evaluate.frameworks import select as select_frameworks
from awsresp.export import CONTROLS, SCAN, Format, render
from awsresp.export.files import (
    check_writable,
    prepare_dir,
    write_bytes,
    write_files,
    write_reports,
)
from awsresp.export.frameworks import FRAMEWORK_COLUMNS, framework_rows, framework_view
from awsresp.export.partitions import LocalStore
from awsresp.export.report import DEFAULT_NAMES as REPORT_NAMES
from awsresp.export.report import TEXT_FORMATS, ReportFormat, render_report
from awsresp.export.tables import write_csv
from awsresp.export.terminal import printable, printable_rows
from awsresp.merge import ORG, OrgOutput, OrgReport, load_report, write_org_files
from awsresp.model import ScanResult
from awsresp.org import (
    DEFAULT_ROLE_ARN_TEMPLATE,
    DEFAULT_ROLE_NAME,
    RolePlan,
    Selection,
    scan_organization,
)
from awsresp.owner_view import for_parties
from awsresp.scan import Definitions, scan_account


class ExitCode(enum.IntEnum):
    OK = 0
    GAPS = 1
    USAGE = 2
    INCOMPLETE = 3
    REGRESSED = 4
    INTERRUPTED = 130


EXIT_CODES_HELP = (
    "Exit codes: 0 the scan ran (gaps and unreadable parts are in the report); "
    "1 gaps found and --fail-on-gaps given, or exposures found and --fail-on-exposures given; "
    "2 usage, configuration, credential or output error; "
    "3 the scan is incomplete (some reads failed) and --fail-on-incomplete given "
    "(takes precedence over 1); "
    "130 interrupted."
)

app = typer.Typer(
    name="awsresp",
    help="Who secures each layer of your AWS estate, and which customer-owned layers have "
    "no working control.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _err(message: str) -> None:
    """One line on stderr; what came from the account or an endpoint is shown, not obeyed."""
    print(f"awsresp: {printable(message)}", file=sys.stderr)


class _Progress:
    """Progress on stderr: a bar on a terminal, plain "[done/total] what" lines otherwise
    (fit for cron mail and syslog). One step is one resource type listed in one region."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.done = 0
        self.total: int | None = None
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def running(self, title: str) -> Iterator[_Progress]:
        if self.quiet:
            yield self
            return
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = (
                SpinnerColumn(),
                TextColumn(title),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                self._bar = bar
                self._task = bar.add_task("", total=self.total)
                yield self
                self._bar = None
        else:
            _err(title)
            yield self

    def set_total(self, total: int) -> None:
        with self._lock:
            self.total = total
            if self._bar is not None:
                self._bar.update(self._task, total=total)

    def __call__(self, message: str) -> None:
        with self._lock:  # called from the collector's worker threads
            self.done += 1
            if self.quiet:
                return
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, description=message)
            else:
                of = f"/{self.total}" if self.total else ""
                _err(f"[{self.done}{of}] {message}")


def _issue_summary(result: ScanResult) -> str:
    counts = Counter(
        f"{i.kind.value} {i.iam_action or i.operation}" for i in result.inventory.issues
    )
    listed = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.most_common(6))
    more = "" if len(counts) <= 6 else f", and {len(counts) - 6} more (see issues.csv)"
    return (
        f"incomplete scan: {len(result.inventory.issues)} read(s) failed ({listed}{more});"
        " affected findings are 'unknown'"
    )


def _stats_lines(target: Target) -> list[str]:
    """Calls, retries and throttled answers per operation; call time and cap waits per service."""
    st, limiter = target.stats, target.limiter
    lines = [f"{'calls':>6} {'retries':>7} {'throttled':>9}  operation"]
    for (svc, op), n in sorted(st.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        throttled = limiter.throttled.get((svc, op), 0)
        lines.append(f"{n:6d} {st.retries[(svc, op)]:7d} {throttled:9d}  {svc}:{op}")
    lines.append(
        f"{st.total:6d} {sum(st.retries.values()):7d} {sum(limiter.throttled.values()):9d}  total"
    )
    per_service: dict[str, float] = {}
    for (svc, _op), seconds in st.seconds.items():
        per_service[svc] = per_service.get(svc, 0.0) + seconds
    for svc, seconds in sorted(per_service.items()):
        waited = limiter.waited.get(svc, 0.0)
        lines.append(
            f"service {svc}: {seconds:.2f} s in calls (summed over threads, cap waits included),"
            f" {waited:.2f} s waiting for the rate cap"
        )
    return lines


def _limiter(values: list[str], definitions: Definitions) -> RateLimiter:
    """The rate caps `--rate-limit` asks for; services are named as botocore clients."""
    # Every client a spec, a detail on another client, or a hook calls.
    clients = {"sts"} | {res.client for spec in definitions.specs for res in spec.resources}
    clients |= {client for spec in definitions.specs for client, _op in spec.operations()}
    try:
        every, overrides = parse_rate_limits(values, clients)
    except ValueError as exc:
        raise AwsrespError(str(exc)) from None
    return RateLimiter(every, overrides=overrides)


@app.command(epilog=EXIT_CODES_HELP)
def scan(
    profile: Annotated[
        str | None, typer.Option(help="AWS profile (default: the standard credential chain).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", "-r", help="Region to scan; repeat for several."),
    ] = None,
    all_regions: Annotated[
        bool, typer.Option("--all-regions", help="Scan every region enabled in the account.")
    ] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(help="AWS-compatible endpoint (also read from AWS_ENDPOINT_URL)."),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            # "\\[" keeps rich from reading "[sandbox]" as markup.
            help="Scan the built-in sandbox account (moto on 127.0.0.1;"
            " needs the sandbox extra: pip install awsresp\\[sandbox]).",
        ),
    ] = False,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="Only collect this service; repeat for several."),
    ] = None,
    mappings: Annotated[
        Path | None,
        typer.Option(help="Directory of mapping files that override or extend the defaults."),
    ] = None,
    owners: Annotated[
        Path | None,
        typer.Option(
            "--owners",
            metavar="FILE",
            help="Owners file (YAML): named parties and the layers they hold, by service and"
            " layer, account, OU or resource tag (docs/ownership.md).",
        ),
    ] = None,
    accept: Annotated[
        Path | None,
        typer.Option(
            "--accept",
            metavar="FILE",
            help="Accepted risks (YAML): failures that count as 'accepted' until their expiry"
            " date (docs/ownership.md).",
        ),
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option(
            "--owner",
            metavar="NAME",
            help="Only what this party is accountable for (customer, aws, or a party of the"
            " owners file), on stdout and in every file; repeat for several.",
        ),
    ] = None,
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework",
            metavar="ID",
            help="Print this framework's view (pci-dss-4.0, hipaa, soc2, nist-800-53-r5):"
            " after the matrix, or as CSV with -f csv; repeat for several.",
        ),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir",
            "-o",
            help="Where findings.csv, matrix.csv, gaps.csv, issues.csv, owners.csv,"
            " frameworks.csv and scan.json are written; strftime fields are expanded in UTC"
            " (e.g. 'scans/%Y-%m-%d').",
        ),
    ] = Path("awsresp-out"),
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="What to print on stdout.")
    ] = Format.TABLE,
    fail_on_gaps: Annotated[
        bool, typer.Option("--fail-on-gaps", help="Exit 1 when a gap is found.")
    ] = False,
    fail_on_exposures: Annotated[
        bool,
        typer.Option(
            "--fail-on-exposures",
            help="Exit 1 when a layer is partly controlled but holds exposed resources.",
        ),
    ] = False,
    fail_on_incomplete: Annotated[
        bool,
        typer.Option("--fail-on-incomplete", help="Exit 3 when some reads failed."),
    ] = False,
    max_workers: Annotated[int, typer.Option(min=1, max=128, help="Concurrent API calls.")] = 16,
    deadline: Annotated[
        float | None,
        typer.Option(
            "--deadline",
            metavar="SECONDS",
            min=1,
            help="Stop calling AWS this many seconds after the start, abandon the calls under"
            " way and write what was read, marked incomplete (default: no deadline).",
        ),
    ] = None,
    rate_limit: Annotated[
        list[str] | None,
        typer.Option(
            metavar="N|SERVICE=N",
            help="At most N API calls per second to each service in each region, or to one"
            " service with SERVICE=N (repeatable; 0: no cap; default"
            f" {DEFAULT_RATE:g}, "
            + ", ".join(f"{s} {r:g}" for s, r in sorted(SERVICE_RATES.items()))
            + ").",
            show_default=False,
        ),
    ] = None,
    excel: Annotated[
        bool, typer.Option("--excel", help="Write CSV files with a UTF-8 BOM for Excel.")
    ] = False,
    ocsf: Annotated[
        bool,
        typer.Option(
            "--ocsf", help="Also write findings.ocsf.json (OCSF Compliance Findings) into -o."
        ),
    ] = False,
    stats: Annotated[
        bool,
        typer.Option(
            "--stats",
            help="Print API calls, retries and throttles by operation and time by service"
            " on stderr.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    org: Annotated[
        bool,
        typer.Option(
            "--org",
            help="Scan every account of the AWS Organization (run from the management"
            " account or a delegated administrator) through a role assumed in each.",
            rich_help_panel="Organization",
        ),
    ] = False,
    accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--accounts",
            metavar="ID,...",
            help="Only these accounts (with --org; repeatable).",
            rich_help_panel="Organization",
        ),
    ] = None,
    ou: Annotated[
        list[str] | None,
        typer.Option(
            "--ou",
            metavar="OU-ID",
            help="Only accounts in this organizational unit or the OUs below it (repeatable).",
            rich_help_panel="Organization",
        ),
    ] = None,
    exclude_accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-accounts",
            metavar="ID,...",
            help="Leave these accounts out (with --org; repeatable).",
            rich_help_panel="Organization",
        ),
    ] = None,
    role_name: Annotated[
        str,
        typer.Option(
            help="The read-only role assumed in each account.", rich_help_panel="Organization"
        ),
    ] = DEFAULT_ROLE_NAME,
    external_id: Annotated[
        str | None,
        typer.Option(
            help="ExternalId to pass when assuming the role.", rich_help_panel="Organization"
        ),
    ] = None,
    role_arn_template: Annotated[
        str,
        typer.Option(
            help="The role's ARN, from {account_id}, {account_name}, {role_name}, {partition}.",
            rich_help_panel="Organization",
        ),
    ] = DEFAULT_ROLE_ARN_TEMPLATE,
    max_accounts: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Accounts scanned at once; --max-workers still bounds the requests on the wire"
            " for the whole run.",
            rich_help_panel="Organization",
        ),
    ] = 4,
) -> None:
    """Scan an account (or, with --org, an organization): collect, map to layers and owners,
    build the matrix and its gaps."""
    progress = _Progress(quiet)
    deadline_at = None if deadline is None else time.monotonic() + deadline
    org_options = {
        "--accounts": accounts,
        "--ou": ou,
        "--exclude-accounts": exclude_accounts,
        "--external-id": external_id,
        "--role-name": role_name != DEFAULT_ROLE_NAME,
        "--role-arn-template": role_arn_template != DEFAULT_ROLE_ARN_TEMPLATE,
    }
    try:
        if not org and any(org_options.values()):
            given = ", ".join(k for k, v in org_options.items() if v)
            raise AwsrespError(f"{given} only apply with --org")
        if org and sandbox:
            raise AwsrespError("--org cannot be combined with --sandbox (a single account)")
        (ORG if org else SCAN).check(fmt)
        # Everything the user gave is checked before the first network call.
        every_service = Definitions.load(mappings, owners, accept)
        definitions = every_service.select(service or [])
        views = select_frameworks(definitions.frameworks, framework or [])
        parties = _parties(definitions, owner or [])
        if org and (parties or views):
            # The organization report is merged from the accounts' partitions, which hold
            # the party of every row but not per-party or per-framework summaries yet.
            raise AwsrespError("--owner and --framework apply to one-account scans for now")
        limiter = _limiter(rate_limit or [], every_service)
        for name in region or []:
            validate_region(name)
        out_dir = expand_output_dir(output_dir)
        check_writable(out_dir)
        if org:
            selection = Selection.parse(accounts or [], ou or [], exclude_accounts or [])
            role = RolePlan(role_name, external_id, role_arn_template).validate()
            prepare_dir(out_dir)
            with tempfile.TemporaryDirectory(prefix=".awsresp-org-", dir=out_dir) as staging:
                run = scan_organization(
                    make_session(profile),
                    definitions,
                    LocalStore(Path(staging)),
                    endpoint_url=default_endpoint(endpoint_url),
                    regions=region or [],
                    all_regions=all_regions,
                    selection=selection,
                    role=role,
                    max_accounts=max_accounts,
                    max_workers=max_workers,
                    make_limiter=lambda: RateLimiter(limiter.rate, overrides=limiter.overrides),
                    progress=(lambda _msg: None) if quiet else _err,
                    deadline=deadline_at,
                )
                report = load_report(LocalStore(Path(staging)), run.run.date, run.run.run)
                written = write_org_files(report, out_dir, excel=excel)
                written += write_reports(out_dir, ocsf=ocsf)
            _finish_org(
                report, written, out_dir, fmt, quiet, stats, fail_on_incomplete, fail_on_gaps
            )
            return
        with contextlib.ExitStack() as stack:
            if sandbox:
                from awsresp.sandbox import SANDBOX_REGIONS, Sandbox

                if not quiet:
                    _err("starting the sandbox account (moto on 127.0.0.1)")
                sb = stack.enter_context(Sandbox())
                target = Target(
                    sb.session(),
                    endpoint_url=sb.endpoint_url,
                    sandbox=True,
                    max_workers=max_workers,
                    limiter=limiter,
                )
                regions = region or list(SANDBOX_REGIONS)
            else:
                session = make_session(profile)
                target = Target(
                    session,
                    endpoint_url=default_endpoint(endpoint_url),
                    max_workers=max_workers,
                    limiter=limiter,
                )
                regions = region or []
            with progress.running("scanning") as prog:
                result = scan_account(
                    target, definitions, regions, all_regions, prog, deadline=deadline_at
                )
            if parties:
                result = for_parties(result, parties, definitions.frameworks)
            written = write_files(result, out_dir, excel=excel, ocsf=ocsf)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    except KeyboardInterrupt:
        _err("interrupted; previous output files were left as they were")
        raise typer.Exit(ExitCode.INTERRUPTED) from None

    for warning in result.warnings:
        _err(f"warning: {warning}")
    if views and fmt == Format.CSV:
        buf = io.StringIO()
        chosen = {v.id for v in views}
        rows = framework_rows(r for r in result.requirements if r.framework in chosen)
        write_csv(buf, FRAMEWORK_COLUMNS, printable_rows(rows))
        print(buf.getvalue(), end="")
    else:
        print(render(result, fmt))
        if fmt == Format.TABLE:
            for view in views:
                print(printable(framework_view(view, result.requirements)) + "\n")
    if not quiet:
        _err(f"wrote {', '.join(str(p) for p in written)}")
        report_html = next((p for p in written if p.name == "report.html"), None)
        if report_html is not None:
            _err(f"report: {report_html} (open it in a browser)")
    if stats:
        for line in _stats_lines(target):
            _err(line)
    if not result.complete:
        _err(_issue_summary(result))
        if fail_on_incomplete:
            raise typer.Exit(ExitCode.INCOMPLETE)
    if (result.gaps and fail_on_gaps) or (result.exposures and fail_on_exposures):
        raise typer.Exit(ExitCode.GAPS)


def _parties(definitions: Definitions, names: list[str]) -> list[str]:
    """The parties `--owner` names, each one the owners file (or the model) knows."""
    known = definitions.owners.party_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise AwsrespError(
            f"--owner: unknown party {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


def _finish_org(
    report: OrgReport,
    written: list[Path],
    out: Path,
    fmt: Format,
    quiet: bool,
    stats: bool,
    fail_on_incomplete: bool,
    fail_on_gaps: bool,
) -> None:
    """Prints an organization report and exits as a scan does (see EXIT_CODES_HELP)."""
    print(ORG.render(OrgOutput(report, out), fmt))
    if not quiet:
        _err(f"wrote {', '.join(str(p) for p in written)}")
        report_html = next((p for p in written if p.name == "report.html"), None)
        if report_html is not None:
            _err(f"report: {report_html} (open it in a browser)")
    if stats:
        calls = json.loads((out / "scan.json").read_text(encoding="utf-8"))["stats"]["api_calls"]
        for key, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
            _err(f"{n:6d}  {key}")
        _err(f"{sum(calls.values()):6d}  total over {len(report.manifests)} account(s)")
    if not report.complete:
        incomplete = sum(1 for m in report.manifests if not m["complete"]) + len(report.missing)
        _err(
            f"incomplete organization scan: {incomplete} account(s) incomplete,"
            f" {report.issue_count} read(s) failed (see issues.csv);"
            " affected findings are 'unknown'"
        )
        if fail_on_incomplete:
            raise typer.Exit(ExitCode.INCOMPLETE)
    if fail_on_gaps and any(g.get("kind", "gap") == "gap" for g in report.gaps):
        raise typer.Exit(ExitCode.GAPS)


MERGE_HELP = (
    "Exit codes: as for scan: 0 merged; 1 gaps and --fail-on-gaps; 2 nothing to merge or"
    " bad input; 3 some account incomplete and --fail-on-incomplete."
)


@app.command(epilog=MERGE_HELP)
def merge(
    source: Annotated[
        str,
        typer.Argument(help="Where the runs' partitions are: s3://BUCKET/PREFIX or a folder."),
    ],
    date: Annotated[
        str | None, typer.Option(help="The day to merge (YYYY-MM-DD, UTC; default today).")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where the merged files are written.")
    ] = Path("awsresp-out"),
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="What to print on stdout.")
    ] = Format.TABLE,
    fail_on_gaps: Annotated[bool, typer.Option("--fail-on-gaps")] = False,
    fail_on_incomplete: Annotated[bool, typer.Option("--fail-on-incomplete")] = False,
    excel: Annotated[bool, typer.Option("--excel")] = False,
    profile: Annotated[str | None, typer.Option(help="AWS profile for s3:// sources.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Assemble one organization report from the per-account runs of a day (the latest
    finished run of each account; runs without a manifest are left out)."""
    from awsresp.export.partitions import check_date, parse_store

    try:
        ORG.check(fmt)
        day = check_date(date or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))
        client = make_session(profile).client("s3") if source.startswith("s3://") else None
        store = parse_store(source, client)
        report = load_report(store, day)
        out = expand_output_dir(output_dir)
        written = write_org_files(report, out, excel=excel)
        written += write_reports(out)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    except (ClientError, BotoCoreError) as exc:
        _err(f"error: cannot read {source}: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    _finish_org(report, written, out, fmt, quiet, False, fail_on_incomplete, fail_on_gaps)


def expand_output_dir(pattern: Path, now: dt.datetime | None = None) -> Path:
    """'scans/%Y-%m-%d' -> 'scans/2026-11-28' (UTC), so cron runs keep one folder per run."""
    text = str(pattern)
    if "%" not in text:
        return pattern
    return Path((now or dt.datetime.now(dt.UTC)).strftime(text))


DIFF_EXIT_HELP = (
    "Exit codes: 0 compared (changes are in the report); "
    "2 a scan could not be read; "
    "4 regressed and --fail-on-regression given: a finding is newly failing "
    "(new or changed to fail) or a matrix cell got worse (e.g. covered -> gap)."
)


@app.command(epilog=DIFF_EXIT_HELP)
def diff(
    old: Annotated[str, typer.Argument(help="Older scan: scan.json, output folder or s3:// URL.")],
    new: Annotated[str, typer.Argument(help="Newer scan: scan.json, output folder or s3:// URL.")],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, csv or json.")
    ] = Format.TABLE,
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 4 when the new scan regressed.")
    ] = False,
) -> None:
    """Compare two scans: new, resolved and changed findings, and matrix cells that moved."""
    from awsresp.diff import DIFF, diff_scans, load_scan

    try:
        DIFF.check(fmt)
        result = diff_scans(load_scan(old), load_scan(new), old, new)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    print(DIFF.render(result, fmt))
    if result.regressed and fail_on_regression:
        raise typer.Exit(ExitCode.REGRESSED)


REMAP_HELP = (
    "Exit codes: 0 written; 1 gaps found and --fail-on-gaps given; 2 the scan.json could not"
    " be read (missing, not JSON, another schema version or shape, an organization's merged"
    " scan), a mapping, owners or accept file is invalid, or the output could not be written."
)


@app.command(epilog=REMAP_HELP)
def remap(
    scan_json: Annotated[
        Path,
        typer.Argument(
            help="A saved scan.json of one account, or the output folder holding one.",
            show_default=False,
        ),
    ],
    mappings: Annotated[
        Path | None,
        typer.Option(help="Directory of mapping files that override or extend the defaults."),
    ] = None,
    owners: Annotated[
        Path | None,
        typer.Option("--owners", metavar="FILE", help="Owners file (YAML; docs/ownership.md)."),
    ] = None,
    accept: Annotated[
        Path | None,
        typer.Option("--accept", metavar="FILE", help="Accepted risks (YAML; docs/ownership.md)."),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir",
            "-o",
            help="Where the re-judged scan's files are written (the same set as a scan's);"
            " not the saved scan's own folder.",
        ),
    ] = Path("awsresp-remap"),
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="What to print on stdout.")
    ] = Format.TABLE,
    excel: Annotated[
        bool, typer.Option("--excel", help="Write CSV files with a UTF-8 BOM for Excel.")
    ] = False,
    ocsf: Annotated[
        bool, typer.Option("--ocsf", help="Also write findings.ocsf.json into -o.")
    ] = False,
    fail_on_gaps: Annotated[
        bool, typer.Option("--fail-on-gaps", help="Exit 1 when a gap is found.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Say nothing on stderr.")] = False,
) -> None:
    """Re-judge a saved scan with other mappings, owners or accepted risks, without calling
    AWS: the inventory in scan.json goes through the mapping stages again."""
    from awsresp.remap import remap as remap_scan
    from awsresp.scanfile import read_scan

    try:
        definitions = Definitions.load(mappings, owners, accept)
        out_dir = expand_output_dir(output_dir)
        source = scan_json if scan_json.is_dir() else scan_json.parent
        if out_dir.resolve() == source.resolve():
            raise AwsrespError(
                f"-o {out_dir} is the saved scan's own folder: name another, so the scan stays"
            )
        check_writable(out_dir)
        result = remap_scan(read_scan(scan_json), definitions, str(scan_json))
        written = write_files(result, out_dir, excel=excel, ocsf=ocsf)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    for warning in result.warnings:
        _err(f"warning: {warning}")
    print(render(result, fmt))
    if not quiet:
        _err(f"wrote {', '.join(str(p) for p in written)}")
    if result.gaps and fail_on_gaps:
        raise typer.Exit(ExitCode.GAPS)


REPORT_HELP = (
    "Exit codes: 0 written; 2 the scan.json could not be read (missing, not JSON, another"
    " schema version or shape) or the output could not be written."
)


@app.command(epilog=REPORT_HELP)
def report(
    scan_json: Annotated[
        Path,
        typer.Argument(
            help="A saved scan.json (a scan's, an --org scan's or a merge's) or the"
            " output folder holding one.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: report.html, report.xlsx or findings.ocsf.json in"
            " the current folder; - for stdout, html and ocsf only).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.HTML,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Say nothing on stderr.")] = False,
) -> None:
    """Render a report from a saved scan: an HTML heat map, an XLSX workbook or OCSF JSON."""
    from awsresp.scanfile import read_scan

    target = output or Path(REPORT_NAMES[fmt])
    to_stdout = str(target) == "-"
    try:
        if to_stdout and fmt not in TEXT_FORMATS:
            raise AwsrespError(f"--format {fmt.value} is binary: name a file with -o")
        scan = read_scan(scan_json)
        body = render_report(scan, fmt)
        if to_stdout:
            sys.stdout.write(body.decode("utf-8"))
        else:
            write_bytes(target, body)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    if not quiet and not to_stdout:
        _err(f"wrote {target}")


@app.command()
def controls(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.TABLE,
    mappings: Annotated[Path | None, typer.Option(help="Extra mapping directory.")] = None,
) -> None:
    """List every control: id, layer, resource type, scope (the rows it is evidence for),
    severity, owner per class, references."""
    from awsresp.export.tables import controls_rows

    try:
        CONTROLS.check(fmt)
        definitions = Definitions.load(mappings)
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    print(CONTROLS.render(controls_rows(definitions.catalog), fmt))


@app.command()
def policy(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="Only this service's reads; repeat for several."),
    ] = None,
    member: Annotated[
        bool,
        typer.Option(
            "--member",
            help="The permissions policy of the role each member account gives `scan --org`"
            " (deploy/org-member-role.yaml creates it).",
        ),
    ] = False,
    org_scanner: Annotated[
        bool,
        typer.Option(
            "--org-scanner",
            help="The policy of the principal that runs `scan --org`: list the organization"
            " and assume the member role.",
        ),
    ] = False,
    role_name: Annotated[
        str, typer.Option(help="The member role's name (with --org-scanner).")
    ] = DEFAULT_ROLE_NAME,
) -> None:
    """Print the least-privilege IAM policy (JSON) for exactly the reads awsresp makes."""
    from awsresp.collect.policy import org_scanner_policy, policy_document
    from awsresp.collect.specs import load_specs

    if org_scanner:
        if member or service:
            _err("error: --org-scanner takes no --member or --service")
            raise typer.Exit(ExitCode.USAGE)
        print(json.dumps(org_scanner_policy(role_name), indent=2))
        return

    try:
        specs = load_specs()
        known = {s.service for s in specs}
        unknown = sorted(set(service or []) - known)
        if unknown:
            raise AwsrespError(
                f"unknown service(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
    except AwsrespError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    chosen = [s for s in specs if not service or s.service in service]
    print(json.dumps(policy_document(chosen), indent=2))


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:
    _limit_malloc_arenas()
    _tune_gc()
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        # `awsresp` alone: the help, as before, with the usage exit code.
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    except ClickException as exc:
        # A bad option value or command: one line and exit 2, not a boxed usage screen.
        _err(f"error: {' '.join(exc.format_message().split())}")
        sys.exit(ExitCode.USAGE)
    except (KeyboardInterrupt, Abort):
        _err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    finally:
        # At exit, CPython runs a last full collection over everything still alive (the
        # clients' service models, the inventory): ~0.3 s after a 1,000-resource scan, for
        # memory the process is about to give back. Frozen objects are left out of it;
        # they are still freed as usual when their last reference goes.
        gc.freeze()
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def _limit_malloc_arenas() -> None:
    """Two glibc malloc arenas for the process, as MALLOC_ARENA_MAX=2 would give.

    glibc gives threads that allocate at the same time arenas of their own (up to eight
    per core), and memory freed in one arena is not reused by another: with a scan's 32
    worker threads that is about 20 MB more peak RSS for no speed (`make bench`, scale 20:
    215 -> 195 MB, the same wall time). Done before any worker thread starts. The
    environment variable, when set, is left to decide; without glibc nothing happens.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(ctypes.c_int(-8), ctypes.c_int(2))  # M_ARENA_MAX (<malloc.h>), 2
    except (OSError, AttributeError):  # not glibc (musl, for one): its own allocator
        pass


def _tune_gc() -> None:
    """The garbage collector policy of the command-line process.

    A scan builds a large heap that lives until the end (imported modules, botocore's
    service models, the inventory) and makes little cyclic garbage. CPython's full
    collections walk that whole heap each time it has grown by a quarter: 0.1 to 0.2 s
    each, every thread stopped, five times in a 1,000-resource scan (measured with
    `make bench`). So: everything imported so far is frozen (moved out of the collector's
    sight for good), and full collections wait until 1,000 middle-generation collections
    have passed instead of 10. The young generations are collected as before, so
    short-lived cycles (exceptions and their tracebacks) are freed as they die.
    """
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)
