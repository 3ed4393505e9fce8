"""What a report shows of a saved scan (matrix rows, cell texts and colours, the findings
behind each cell, ranked gaps, failed reads), shared by the HTML and XLSX writers."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from awsresp.model import ACCOUNT_ROW, AWS, CUSTOMER, SHARED, CellStatus, Layer
from awsresp.scanfile import CellRow, FindingRow, GapRow, IssueRow, ScanFile

# Reasons (summary.REASON_*) a report tells apart.
_UNREADABLE = "unreadable"
_NOT_SCANNED = "not-scanned"
VIA_ACCOUNT = "via-account"

LAYER_HEADING = {
    Layer.PHYSICAL: "physical",
    Layer.VIRTUALIZATION: "virtual",
    Layer.NETWORK_CONTROLS: "network",
    Layer.OPERATING_SYSTEM: "os",
    Layer.PLATFORM_RUNTIME: "runtime",
    Layer.APPLICATION: "application",
    Layer.DATA: "data",
    Layer.ACCESS_RIGHTS: "access",
    Layer.IDENTITY_DIRECTORY: "identity",
    Layer.ENDPOINTS: "endpoints",
    Layer.SETTINGS: "settings",
    Layer.LOGGING_DETECTION: "logging",
}

# The heat map's palette: blue (controlled) to orange (not controlled), which people with
# the common colour-vision deficiencies tell apart; every colour also carries a text
# (covered, 62%, GAP, ?, AWS), so a grey printout reads the same.
# class -> (background, text colour, what it means)
PALETTE: dict[str, tuple[str, str, str]] = {
    "covered": ("#2f6f9f", "#ffffff", "covered: every unit controlled"),
    "p3": ("#9ec5e2", "#10222e", "partial, 75-99% of units controlled"),
    "p2": ("#d4e5f1", "#10222e", "partial, 50-74% controlled"),
    "p1": ("#fbd7bb", "#3a1a05", "partial, 25-49% controlled"),
    "p0": ("#f5ae80", "#3a1a05", "partial, under 25% controlled"),
    "gap": ("#b9470c", "#ffffff", "GAP: no unit controlled, some exposed or weak"),
    "na": (
        "#ffffff",
        "#55595e",
        "not assessed (- nothing observes it, ? unreadable,"
        " n/s a deciding service was not scanned)",
    ),
    "via": ("#f3f4f6", "#55595e", "^ no unit of its own: the account row's status applies"),
    "aws": ("#e4e5e8", "#6b7077", "AWS: AWS's layer, inherited (AWS attests it)"),
}
SEVERITY_LETTER = {"critical": "C", "high": "H", "medium": "M", "low": "L", "info": "I"}
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
_SEVERITY_RANK = {s: len(SEVERITY_ORDER) - n for n, s in enumerate(SEVERITY_ORDER)}
_STATUS_ORDER = {"fail": 0, "unknown": 1, "pass": 2}


def colour_class(cell: CellRow) -> str:
    """The palette entry a cell is painted with."""
    if cell.status == CellStatus.INHERITED:
        return "aws"
    if cell.reason == VIA_ACCOUNT:
        return "via"
    if cell.status == CellStatus.COVERED:
        return "covered"
    if cell.status == CellStatus.GAP:
        return "gap"
    if cell.status == CellStatus.PARTIAL:
        return f"p{min(cell.coverage // 25, 3)}"
    return "na"


def cell_text(cell: CellRow) -> str:
    """The short text of a cell, without its severity: covered, 62%, GAP, ?, n/s, -, ^, AWS."""
    if cell.status == CellStatus.INHERITED:
        return "AWS"
    if cell.reason == VIA_ACCOUNT:
        return "^"
    if cell.status == CellStatus.COVERED:
        return "covered"
    if cell.status == CellStatus.PARTIAL:
        return f"{cell.coverage}%"
    if cell.status == CellStatus.GAP:
        return "GAP"
    if cell.reason == _UNREADABLE:
        return "?"
    if cell.reason == _NOT_SCANNED:
        return "n/s"
    return "-"


def owner_mark(owner: str) -> str:
    """A cell's owner in a word or less: nothing for the customer, S for shared with AWS,
    the party's name otherwise (AWS's cells say AWS already)."""
    if owner in (CUSTOMER, AWS):
        return ""
    if owner == SHARED:
        return "S"
    return owner


def cell_mark(cell: CellRow) -> str:
    """A cell's owner and party in a word or two: S for shared with AWS, and the party that
    answers for the customer's part when it is not the customer ("S Acme MSP")."""
    parts = [owner_mark(cell.owner)]
    if cell.party not in ("", CUSTOMER, AWS, cell.owner):
        parts.append(cell.party)
    return " ".join(p for p in parts if p)


def describe(cell: CellRow) -> str:
    """A cell in one sentence (tooltips, screen readers, the XLSX comment)."""
    party = f", party {cell.party}" if cell.party not in ("", CUSTOMER, AWS) else ""
    where = f"{cell.service} / {cell.layer.value}, owner {cell.owner}{party}"
    if cell.status == CellStatus.INHERITED:
        return f"{where}: inherited from AWS. {cell.evidence}".strip()
    if cell.reason == VIA_ACCOUNT:
        return f"{where}: {cell.status.value} via the account row (no unit of its own)"
    counts = (
        f"{cell.controlled} of {cell.resources} unit(s) controlled, {cell.exposed} exposed,"
        f" {cell.weak} weak, {cell.unreadable} unreadable"
        + (f", {cell.accepted} accepted as a risk" if cell.accepted else "")
    )
    worst = f"; worst failing: {cell.worst}" if cell.worst else ""
    reason = f" ({cell.reason})" if cell.reason else ""
    if not cell.resources:
        return f"{where}: {cell.status.value}{reason}"
    return f"{where}: {cell.status.value}{reason}; {counts}{worst}"


@dataclass(frozen=True)
class MatrixRow:
    account: str
    service: str
    service_class: str
    cells: tuple[CellRow | None, ...]  # one per layer of View.layers
    # Set on the rows of a service whose layers tag rules split between parties.
    party: str = ""

    @property
    def label(self) -> str:
        name = "account (baseline)" if self.service == ACCOUNT_ROW else self.service
        return f"{name} [{self.party}]" if self.party else name

    @property
    def baseline(self) -> bool:
        return self.service == ACCOUNT_ROW


@dataclass(frozen=True)
class OverviewRow:
    """An organization's account on one line: each layer's worst status over its rows."""

    account: str
    name: str
    ou_path: str
    cells: tuple[str, ...]  # a CellStatus value per layer ("" when the layer has no cell)
    gaps: int
    exposures: int


@dataclass(frozen=True)
class IssueGroup:
    kind: str
    iam_action: str
    error_code: str
    resource_type: str
    regions: tuple[str, ...]
    accounts: tuple[str, ...]
    count: int
    message: str


@dataclass
class CellFindings:
    """The findings behind one cell (indices into ScanFile.findings), worst first, and the
    note a reader needs to read them (covered failures, via the account row)."""

    found: list[int] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)


# "fail: a x2, b x1; unknown: c x1; pass: d x3; covered by an account setting: e x2"
_EVIDENCE_PART = re.compile(r"^(fail|unknown|pass|covered by an account setting): (.+)$")
COVERED_LABEL = "covered by an account setting"


def evidence_controls(evidence: str) -> dict[str, list[str]]:
    """The control ids a cell's evidence names, by what they showed (summary._evidence)."""
    out: dict[str, list[str]] = {}
    for part in evidence.split("; "):
        match = _EVIDENCE_PART.match(part)
        if match is None:
            continue
        ids = [item.rsplit(" x", 1)[0] for item in match.group(2).split(", ")]
        out[match.group(1)] = [i for i in ids if i]
    return out


def failing(evidence: str) -> str:
    """The failing part of a cell's evidence ("a x2, b x1"), or all of it when none fails."""
    for part in evidence.split("; "):
        if part.startswith("fail: "):
            return part.removeprefix("fail: ")
    return evidence


def _finding_order(f: FindingRow) -> tuple[int, int, str, str, str]:
    return (
        _STATUS_ORDER.get(f.status.value, 3),
        -_SEVERITY_RANK.get(f.severity.value, 0),
        f.control_id,
        f.resource_name or f.resource_id,
        f.region,
    )


def cell_findings(scan: ScanFile) -> dict[int, CellFindings]:
    """Matrix cell index -> the findings behind it: the findings of the controls its
    evidence names, in its account and layer, on its own service and class (a control
    on an account setting counts for the services it protects, whatever its own)."""
    facts = {(r.type, r.id, r.region) for r in scan.resources if r.account_fact}
    by_control: dict[tuple[str, Layer, str], list[int]] = defaultdict(list)
    for n, f in enumerate(scan.findings):
        by_control[(f.account_id, f.layer, f.control_id)].append(n)
    out: dict[int, CellFindings] = {}
    for i, cell in enumerate(scan.matrix):
        named = evidence_controls(cell.evidence)
        if not named:
            continue
        entry = CellFindings(covered=set(named.get(COVERED_LABEL, ())))
        ids = dict.fromkeys(cid for ids in named.values() for cid in ids)
        picked: list[int] = []
        for cid in ids:
            for n in by_control.get((cell.account_id, cell.layer, cid), ()):
                f = scan.findings[n]
                setting = (f.resource_type, f.resource_id, f.region) in facts
                own = f.service == cell.service and f.service_class == cell.service_class
                if own or setting or f.service != cell.service:
                    picked.append(n)
        entry.found = sorted(picked, key=lambda n: _finding_order(scan.findings[n]))
        out[i] = entry
    return out


def _rows(scan: ScanFile, layers: Sequence[Layer]) -> list[MatrixRow]:
    """One row per account x service x class; a service whose layers tag rules split
    between parties gets one row per party (AWS's layers show on each of them)."""
    held: dict[tuple[tuple[str, str, str], Layer], int] = defaultdict(int)
    for c in scan.matrix:
        held[(c.row_key, c.layer)] += 1
    split = {key for (key, _layer), n in held.items() if n > 1}
    index: dict[tuple[str, str, str, str], dict[Layer, CellRow]] = {}
    aws: dict[tuple[str, str, str], list[CellRow]] = defaultdict(list)
    for c in scan.matrix:
        if c.row_key in split and c.party == AWS:
            aws[c.row_key].append(c)
            continue
        party = c.party if c.row_key in split else ""
        index.setdefault((*c.row_key, party), {})[c.layer] = c
    for (a, s, cls, _party), cells in index.items():
        for c in aws.get((a, s, cls), ()):
            cells.setdefault(c.layer, c)
    return [
        MatrixRow(a, s, cls, tuple(cells.get(layer) for layer in layers), party)
        for (a, s, cls, party), cells in index.items()
    ]


def _worst(statuses: Iterable[CellStatus]) -> str:
    found = list(statuses)
    return max(found, key=lambda s: s.rank).value if found else ""


def _overview(scan: ScanFile, layers: Sequence[Layer]) -> list[OverviewRow]:
    """Worst status per account and layer, over the account's own cells (a via-account
    cell repeats the account row, which is counted already)."""
    by: dict[tuple[str, Layer], list[CellStatus]] = defaultdict(list)
    for c in scan.matrix:
        if c.reason != VIA_ACCOUNT:
            by[(c.account_id, c.layer)].append(c.status)
    names = scan.account_names()
    ous: dict[str, str] = {}
    if scan.organization:
        ous = {a.account_id: a.ou_path for a in scan.organization.accounts}
    for c in scan.matrix:
        if c.ou_path:
            ous.setdefault(c.account_id, c.ou_path)
    gaps: dict[str, list[GapRow]] = defaultdict(list)
    for g in scan.gaps:
        gaps[g.account_id].append(g)
    return [
        OverviewRow(
            account=a,
            name=names.get(a, ""),
            ou_path=ous.get(a, ""),
            cells=tuple(_worst(by.get((a, layer), ())) for layer in layers),
            gaps=sum(1 for g in gaps[a] if g.kind.value == "gap"),
            exposures=sum(1 for g in gaps[a] if g.kind.value == "exposure"),
        )
        for a in scan.accounts
    ]


def issue_groups(issues: Iterable[IssueRow]) -> list[IssueGroup]:
    """Failed reads grouped by what fixes them (kind, IAM action, error, resource type)."""
    grouped: dict[tuple[str, str, str, str], list[IssueRow]] = defaultdict(list)
    for i in issues:
        grouped[(i.kind.value, i.iam_action or i.operation, i.error_code, i.resource_type)].append(
            i
        )
    return [
        IssueGroup(
            kind=kind,
            iam_action=action,
            error_code=code,
            resource_type=rtype,
            regions=tuple(sorted({i.region for i in rows})),
            accounts=tuple(sorted({i.account_id for i in rows if i.account_id})),
            count=len(rows),
            message=rows[0].message,
        )
        for (kind, action, code, rtype), rows in sorted(grouped.items())
    ]


@dataclass(frozen=True)
class View:
    scan: ScanFile
    layers: tuple[Layer, ...]
    rows: tuple[MatrixRow, ...]
    overview: tuple[OverviewRow, ...]
    issues: tuple[IssueGroup, ...]

    @classmethod
    def of(cls, scan: ScanFile) -> View:
        layers = tuple(Layer)
        overview = _overview(scan, layers) if len(scan.accounts) > 1 else []
        return cls(
            scan=scan,
            layers=layers,
            rows=tuple(_rows(scan, layers)),
            overview=tuple(overview),
            issues=tuple(issue_groups(scan.issues)),
        )

    @property
    def many_accounts(self) -> bool:
        return len(self.scan.accounts) > 1

    @property
    def services(self) -> list[str]:
        """The services the scan covered (its scope), or those with a row when not recorded."""
        if self.scan.scope.services:
            return list(self.scan.scope.services)
        return sorted({r.service for r in self.rows if not r.baseline})

    @property
    def gaps(self) -> list[GapRow]:
        return [g for g in self.scan.gaps if g.kind.value == "gap"]

    @property
    def exposures(self) -> list[GapRow]:
        return [g for g in self.scan.gaps if g.kind.value == "exposure"]

    def account_label(self, account: str) -> str:
        name = self.scan.account_names().get(account, "")
        return f"{account} ({name})" if name else account
