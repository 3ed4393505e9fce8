"""Builds the responsibility matrix and its ranked gaps from findings (DESIGN: gap rule v2)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from awsresp.evaluate.catalog import Catalog
from awsresp.evaluate.owners import NO_OWNERS, Assigner
from awsresp.model import (
    ACCOUNT_ROW,
    AWS,
    Cell,
    CellStatus,
    Control,
    Finding,
    FindingStatus,
    Gap,
    GapKind,
    Inventory,
    Layer,
    Resource,
    ServiceClass,
    Severity,
    UnitState,
)

# The reason a cell gives for its status (documented in docs/matrix.md).
REASON_EXPOSED = "exposed"  # gap or partial: some unit is exposed
REASON_WEAK = "weak"  # gap or partial: some unit is weak, none exposed
REASON_UNREADABLE = "unreadable"  # partial: the units not controlled are unreadable;
# not-assessed: every unit is
REASON_NOT_OBSERVABLE = "not-observable"  # no control observes this layer for the service
REASON_NOT_APPLICABLE = "not-applicable"  # controls exist, none applies to these resources
REASON_RISK_CHECKS_ONLY = "risk-checks-only"  # only "risk absent" checks apply, and pass
REASON_NOT_SCANNED = "not-scanned"  # a service whose evidence decides the cell was not scanned
REASON_VIA_ACCOUNT = "via-account"  # no unit of its own: the account row's status
REASON_ACCEPTED = "accepted"  # not-assessed: every unit's failures are accepted risks
REASON_INHERITED = "aws-attested"

# The account row is owned as an abstracted service is (DESIGN: "The account row").
ACCOUNT_ROW_CLASS = ServiceClass.ABSTRACTED


@dataclass
class _Unit:
    """One unit of a cell: a resource, or one account setting read in one region."""

    setting: bool
    findings: list[Finding] = field(default_factory=list)

    def state(self) -> UnitState | None:
        """The first case that holds (DESIGN); None: leave the unit out (only passing
        checks that show no safeguard: nothing is wrong, and nothing shows a safeguard)."""
        fs = self.findings
        if all(f.status == FindingStatus.PASS and not f.control.safeguard for f in fs):
            return None
        grave_fail = any(f.status == FindingStatus.FAIL and f.control.severity.grave for f in fs)
        if grave_fail and not self.setting:
            return UnitState.EXPOSED
        decided = [f for f in fs if f.status in _DECIDED]
        grave_unknown = any(
            f.status == FindingStatus.UNKNOWN and f.control.severity.grave for f in fs
        )
        if not decided or grave_unknown:
            return UnitState.UNREADABLE
        if any(f.status == FindingStatus.PASS and f.control.safeguard for f in fs):
            return UnitState.CONTROLLED
        # An accepted failure is neither a pass nor a failure: a unit whose only failures
        # are accepted is not judged (counted apart), unless a safeguard controls it anyway.
        if any(f.status == FindingStatus.ACCEPTED for f in fs) and not any(
            f.status == FindingStatus.FAIL for f in fs
        ):
            return UnitState.ACCEPTED
        return UnitState.WEAK


_DECIDED = (FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.ACCEPTED)


# A cell's key: (account, service, service class, layer, party); the account row's service
# is ACCOUNT_ROW and its class ACCOUNT_ROW_CLASS. Tag rules of the owners file may split a
# service's layer between parties: one cell per party holding units there.
_CellKey = tuple[str, str, ServiceClass, Layer, str]


@dataclass
class _CellUnits:
    units: dict[tuple[str, ...], _Unit] = field(default_factory=dict)
    # Failures that a passing account setting covers: control id -> count.
    covered: Counter[str] = field(default_factory=Counter)

    def unit(self, key: tuple[str, ...], setting: bool) -> _Unit:
        found = self.units.get(key)
        if found is None:
            found = self.units[key] = _Unit(setting)
        return found


def _resource_key(r: Resource) -> tuple[str, ...]:
    return (r.type, r.id, r.region)


def _region_key(account: str, region: str) -> tuple[str, str]:
    return (account, region)


@dataclass(frozen=True)
class _Observers:
    """Which services' controls can give evidence to a cell, from the catalog alone."""

    # (service, layer) -> services whose controls observe it (its own, and settings').
    service: dict[tuple[str, Layer], frozenset[str]]
    # layer -> services whose baseline controls observe the account row there.
    baseline: dict[Layer, frozenset[str]]

    @classmethod
    def of(cls, catalog: Catalog) -> _Observers:
        service: dict[tuple[str, Layer], set[str]] = defaultdict(set)
        baseline: dict[Layer, set[str]] = defaultdict(set)
        for c in catalog.controls.values():
            if c.baseline:
                baseline[c.layer].add(c.service)
            elif c.account_scoped:
                for svc in c.protects:
                    service[(svc, c.layer)].add(c.service)
            else:
                service[(c.service, c.layer)].add(c.service)
        return cls(
            {k: frozenset(v) for k, v in service.items()},
            {k: frozenset(v) for k, v in baseline.items()},
        )


def services_in_use(
    inventory: Inventory, catalog: Catalog
) -> dict[tuple[str, str, ServiceClass], int]:
    """(account, service, class) -> units of workload resources listed, for every service
    with at least one resource listed. An account fact never makes its service "in use";
    a type that could not be listed counts once (as an unreadable placeholder)."""
    listed: set[tuple[str, str]] = set()
    groups: Counter[tuple[str, str, ServiceClass]] = Counter()
    for r in inventory.resources:
        if r.account_fact:
            continue
        groups[(r.account, r.service, catalog.service_class(r.type, r.config))] += 1
        if not r.unlisted:
            listed.add((r.account, r.service))
    return {k: n for k, n in groups.items() if (k[0], k[1]) in listed}


def undetermined_services(inventory: Inventory) -> list[tuple[str, str]]:
    """(account, service) whose listing failed and that listed nothing: in use or not is
    unknown, so they get no row (DESIGN) and are named in the issues output instead."""
    listed = {(r.account, r.service) for r in inventory.resources if not r.unlisted}
    failed = {
        (r.account, r.service) for r in inventory.resources if r.unlisted and not r.account_fact
    }
    return sorted(failed - listed)


def _scanned(inventory: Inventory, catalog: Catalog) -> frozenset[str]:
    if inventory.services:
        return frozenset(inventory.services)
    return frozenset(c.service for c in catalog.controls.values())


def _collect_units(
    findings: Iterable[Finding],
    groups: Iterable[tuple[str, str, ServiceClass]],
    catalog: Catalog,
    assigner: Assigner,
) -> dict[_CellKey, _CellUnits]:
    """Every finding in the units it is evidence for, by cell (DESIGN: "Units, per cell").
    A resource counts for its own party; an account setting (it has no tags) for the party
    that holds the layer of the service it protects, or of the account row."""
    findings = list(findings)
    classes: dict[tuple[str, str], list[ServiceClass]] = defaultdict(list)
    for account, service, cls in groups:
        classes[(account, service)].append(cls)
    # Per (account, region): the controls a passing setting covers there ("global": all).
    covering: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for f in findings:
        if f.control.covers and f.status == FindingStatus.PASS:
            for cid in f.control.covers:
                covering[_region_key(f.resource.account, f.resource.region)][cid] = f.control.id
    cells: dict[_CellKey, _CellUnits] = defaultdict(_CellUnits)
    for f in findings:
        c, r = f.control, f.resource
        if c.baseline:
            party = _default_party(
                catalog, assigner, r.account, ACCOUNT_ROW, ACCOUNT_ROW_CLASS, c.layer
            )
            key: _CellKey = (r.account, ACCOUNT_ROW, ACCOUNT_ROW_CLASS, c.layer, party)
            cells[key].unit((c.id, r.region), setting=True).findings.append(f)
        elif c.account_scoped:
            for svc in c.protects:
                for cls in classes.get((r.account, svc), ()):
                    party = _default_party(catalog, assigner, r.account, svc, cls, c.layer)
                    key = (r.account, svc, cls, c.layer, party)
                    cells[key].unit((c.id, r.region), setting=True).findings.append(f)
        else:
            key = (r.account, r.service, f.service_class, c.layer, f.party)
            if f.status == FindingStatus.FAIL and _is_covered(covering, r, c):
                cells[key].covered[c.id] += 1
                continue
            cells[key].unit(_resource_key(r), setting=False).findings.append(f)
    return cells


def _default_party(
    catalog: Catalog,
    assigner: Assigner,
    account: str,
    service: str,
    cls: ServiceClass,
    layer: Layer,
) -> str:
    """The party that holds a layer of a service where no resource tag decides."""
    return assigner.party(catalog.owner(layer, service, cls), account, service, layer, {})


def _is_covered(covering: dict[tuple[str, str], dict[str, str]], r: Resource, c: Control) -> bool:
    return c.id in covering.get(_region_key(r.account, r.region), {}) or c.id in covering.get(
        _region_key(r.account, "global"), {}
    )


@dataclass(frozen=True)
class _Judged:
    status: CellStatus
    reason: str
    counts: Counter[UnitState]
    worst: str
    evidence: str


def _evidence(units: Iterable[_Unit], covered: Counter[str]) -> tuple[str, str]:
    """(worst failing severity, "fail: id xN, ...; unknown: ...; pass: ...; covered ...").
    Controls are listed worst first (by severity, then id), so a cut text keeps the worst."""
    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    severity: dict[str, Severity] = {}
    worst: Severity | None = None
    for unit in units:
        for f in unit.findings:
            by_status[f.status.value][f.control.id] += 1
            severity[f.control.id] = f.control.severity
            if f.status == FindingStatus.FAIL and (
                worst is None or f.control.severity.rank > worst.rank
            ):
                worst = f.control.severity
    parts = []
    for status in ("fail", "unknown", "accepted", "pass"):
        controls = by_status.get(status)
        if controls:
            order = sorted(controls.items(), key=lambda kv: (-severity[kv[0]].rank, kv[0]))
            parts.append(f"{status}: " + ", ".join(f"{c} x{n}" for c, n in order))
    if covered:
        items = ", ".join(f"{c} x{n}" for c, n in sorted(covered.items()))
        parts.append(f"covered by an account setting: {items}")
    return (worst.value if worst else ""), "; ".join(parts)


def _judge(cell: _CellUnits) -> _Judged | None:
    """The cell's status from its units; None when it has no unit to judge."""
    states: list[UnitState] = []
    kept: list[_Unit] = []
    for unit in cell.units.values():
        state = unit.state()
        if state is not None:
            states.append(state)
            kept.append(unit)
    if not states:
        return None
    counts = Counter(states)
    # Accepted units are left out of the judgement: the cell is judged on the others.
    n, controlled = len(states) - counts[UnitState.ACCEPTED], counts[UnitState.CONTROLLED]
    if n == 0:
        status, reason = CellStatus.NOT_ASSESSED, REASON_ACCEPTED
    elif controlled == n:
        status, reason = CellStatus.COVERED, ""
    elif controlled:
        status, reason = CellStatus.PARTIAL, _why(counts)
    elif counts[UnitState.EXPOSED] or counts[UnitState.WEAK]:
        status, reason = CellStatus.GAP, _why(counts)
    else:
        status, reason = CellStatus.NOT_ASSESSED, REASON_UNREADABLE
    worst, evidence = _evidence(kept, cell.covered)
    return _Judged(status, reason, counts, worst, evidence)


def _why(counts: Counter[UnitState]) -> str:
    if counts[UnitState.EXPOSED]:
        return REASON_EXPOSED
    if counts[UnitState.WEAK]:
        return REASON_WEAK
    return REASON_UNREADABLE


def _only_risk_checks(cell: _CellUnits | None) -> bool:
    return cell is not None and bool(cell.units)


def _cell(
    base: dict[str, object],
    status: CellStatus,
    reason: str,
    judged: _Judged | None = None,
    evidence: str = "",
    settings_only: bool = False,
) -> Cell:
    counts = judged.counts if judged else Counter()
    n = sum(counts.values())
    judged_units = n - counts[UnitState.ACCEPTED]
    controlled = counts[UnitState.CONTROLLED]
    return Cell(
        **base,  # type: ignore[arg-type]
        status=status,
        resources=n,
        controlled=controlled,
        exposed=counts[UnitState.EXPOSED],
        weak=counts[UnitState.WEAK],
        unreadable=counts[UnitState.UNREADABLE],
        accepted=counts[UnitState.ACCEPTED],
        coverage=(100 * controlled) // judged_units if judged_units else 0,
        worst=judged.worst if judged else "",
        reason=reason,
        evidence=judged.evidence if judged else evidence,
        settings_only=settings_only,
    )


def matrix(
    inventory: Inventory,
    findings: Sequence[Finding],
    catalog: Catalog,
    assigner: Assigner | None = None,
) -> list[Cell]:
    """Per account: the `account` row, then one row per service (and class) in use; a cell
    per layer, or one per party where tag rules split a layer between parties. Ordered by
    account, then the account row, then services by name; a layer's parties by name."""
    assigner = assigner or Assigner(NO_OWNERS)
    in_use = services_in_use(inventory, catalog)
    units = _collect_units(findings, in_use, catalog, assigner)
    parties: dict[tuple[str, str, ServiceClass, Layer], set[str]] = defaultdict(set)
    for a, svc, cls, layer, party in units:
        parties[(a, svc, cls, layer)].add(party)
    observers = _Observers.of(catalog)
    scanned = _scanned(inventory, catalog)
    accounts = sorted({inventory.account} | {a for a, _s, _c in in_use})

    def keys(account: str, service: str, cls: ServiceClass, layer: Layer) -> list[_CellKey]:
        held = parties.get((account, service, cls, layer))
        if not held:
            held = {_default_party(catalog, assigner, account, service, cls, layer)}
        return [(account, service, cls, layer, p) for p in sorted(held)]

    cells: list[Cell] = []
    for account in accounts:
        account_row: dict[Layer, Cell] = {}
        for layer in Layer:
            sources = observers.baseline.get(layer, frozenset())
            for key in keys(account, ACCOUNT_ROW, ACCOUNT_ROW_CLASS, layer):
                cell = _judge_cell(key, units.get(key), sources, scanned, catalog, None)
                account_row[layer] = _worse(account_row.get(layer), cell)
                cells.append(cell)
        for acc, service, cls in sorted(k for k in in_use if k[0] == account):
            for layer in Layer:
                sources = observers.service.get((service, layer), frozenset())
                for key in keys(acc, service, cls, layer):
                    cells.append(
                        _judge_cell(
                            key, units.get(key), sources, scanned, catalog, account_row[layer]
                        )
                    )
    return cells


def _worse(a: Cell | None, b: Cell) -> Cell:
    """The account row's cell a via-account cell shows (the worse, should a layer of the
    account row ever be split between parties)."""
    return b if a is None or b.status.rank > a.status.rank else a


def _judge_cell(
    key: _CellKey,
    cell_units: _CellUnits | None,
    sources: frozenset[str],
    scanned: frozenset[str],
    catalog: Catalog,
    account_cell: Cell | None,
) -> Cell:
    account, service, cls, layer, party = key
    owner = catalog.owner(layer, service, cls)
    base: dict[str, object] = {
        "account": account,
        "layer": layer,
        "service": service,
        "service_class": cls,
        "owner": owner,
        "party": party,
    }
    if owner == AWS:
        return _cell(base, CellStatus.INHERITED, REASON_INHERITED, evidence=catalog.attestation)
    judged = _judge(cell_units) if cell_units is not None else None
    complete = sources <= scanned
    if judged is not None:
        assert cell_units is not None
        only = all(u.setting for u in cell_units.units.values())
        # Only a partial cell stays what it is when more evidence could come from a service
        # left out of the scan (`-s`): covered, gap and unreadable cells could all change.
        if not complete and judged.status != CellStatus.PARTIAL:
            return _cell(
                base, CellStatus.NOT_ASSESSED, REASON_NOT_SCANNED, judged, settings_only=only
            )
        return _cell(base, judged.status, judged.reason, judged, settings_only=only)
    if (
        account_cell is not None
        and account_cell.resources
        and (account_cell.status != CellStatus.INHERITED)
    ):
        return _cell(base, account_cell.status, REASON_VIA_ACCOUNT)
    if not sources:
        return _cell(base, CellStatus.NOT_ASSESSED, REASON_NOT_OBSERVABLE)
    if not complete:
        return _cell(base, CellStatus.NOT_ASSESSED, REASON_NOT_SCANNED)
    if _only_risk_checks(cell_units):
        return _cell(base, CellStatus.NOT_ASSESSED, REASON_RISK_CHECKS_ONLY)
    return _cell(base, CellStatus.NOT_ASSESSED, REASON_NOT_APPLICABLE)


def _rank_key(gap: Gap) -> tuple[int, int, int, int, str, str, str, str]:
    c = gap.cell
    worst = Severity(c.worst).rank if c.worst else -1
    return (
        0 if gap.kind == GapKind.GAP else 1,
        0 if c.exposed else 1,
        -worst,
        -(c.exposed + c.weak),
        c.account,
        c.service,
        c.layer.value,
        c.party,
    )


def ranked_gaps(cells: Sequence[Cell]) -> list[Gap]:
    """Gaps (no unit controlled), then exposures (partial or unassessable cells holding
    exposed units), each ranked: exposed before weak, by worst severity, then by the units
    affected. A baseline gap is listed once, on the account row, naming the services it
    shows on; a gap made only of account settings protecting a service with several class
    rows (Lambda zip and image functions) is listed once, on the first class."""
    affects: dict[tuple[str, Layer], list[str]] = defaultdict(list)
    for c in cells:
        if c.reason == REASON_VIA_ACCOUNT:
            affects[(c.account, c.layer)].append(c.service)
    out: list[Gap] = []
    seen: set[tuple[str, str, Layer, str, str]] = set()
    for c in cells:
        if c.reason == REASON_VIA_ACCOUNT:
            continue
        if c.settings_only:
            same = (c.account, c.service, c.layer, c.party, c.evidence)
            if same in seen:
                continue
            seen.add(same)
        if c.status == CellStatus.GAP:
            shown = (
                tuple(sorted(set(affects[(c.account, c.layer)])))
                if (c.service == ACCOUNT_ROW)
                else ()
            )
            out.append(Gap(c, GapKind.GAP, shown))
        elif c.exposed and c.status != CellStatus.INHERITED:
            out.append(Gap(c, GapKind.EXPOSURE))
    return sorted(out, key=_rank_key)
