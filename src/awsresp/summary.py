"""Builds the responsibility matrix and its gaps from findings (the gap rule in DESIGN.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from awsresp.evaluate.catalog import Catalog
from awsresp.model import (
    AWS,
    Cell,
    CellStatus,
    Finding,
    FindingStatus,
    Inventory,
    Layer,
    ServiceClass,
)

# Reasons a cell gives for its status (documented in the README).
REASON_FAILING = "failing-controls"
REASON_NO_SAFEGUARD = "no-safeguard"
REASON_UNREADABLE = "unreadable"
REASON_NOT_OBSERVABLE = "not-observable"
REASON_NOT_APPLICABLE = "not-applicable"
REASON_INHERITED = "aws-attested"

_FINDING_COLUMNS = ["account", "service", "service_class", "layer", "control", "status", "counts"]


def _findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    rows = [
        {
            "account": f.resource.account,
            "service": f.resource.service,
            "service_class": f.service_class.value,
            "layer": f.layer.value,
            "control": f.control.id,
            "account_scoped": f.control.account_scoped,
            "status": f.status.value,
            # A pass only counts when the control shows a safeguard in place.
            "counts": f.status != FindingStatus.PASS or f.control.safeguard,
        }
        for f in findings
    ]
    return pd.DataFrame(rows, columns=[*_FINDING_COLUMNS, "account_scoped"])


def services_in_use(inventory: Inventory, catalog: Catalog) -> pd.DataFrame:
    """(account, service, service_class) -> number of resources, for workload resources."""
    rows = [
        {
            "account": r.account,
            "service": r.service,
            "service_class": catalog.service_class(r.type, r.config).value,
            "resources": 0 if r.unlisted else 1,
        }
        for r in inventory.resources
        if not r.account_fact
    ]
    frame = pd.DataFrame(rows, columns=["account", "service", "service_class", "resources"])
    grouped = frame.groupby(["account", "service", "service_class"], as_index=False)
    return grouped.agg(resources=("resources", "sum"))


def _observable(catalog: Catalog) -> dict[Layer, set[str]]:
    """Per layer, the services some control can observe ('*' for account-scoped controls)."""
    out: dict[Layer, set[str]] = {layer: set() for layer in Layer}
    for c in catalog.controls.values():
        out[c.layer].add("*" if c.account_scoped else c.resource_type.split(".", 1)[0])
    return out


def _status(passed: int, failed: int, unknown: int, weak_passes: int) -> tuple[CellStatus, str]:
    if passed and not (failed or unknown):
        return CellStatus.COVERED, ""
    if passed:
        return CellStatus.PARTIAL, f"{failed} failing, {unknown} unreadable"
    if failed:
        return CellStatus.GAP, REASON_FAILING
    if weak_passes:
        return CellStatus.GAP, REASON_NO_SAFEGUARD
    if unknown:
        return CellStatus.NOT_ASSESSED, REASON_UNREADABLE
    return CellStatus.NOT_ASSESSED, REASON_NOT_APPLICABLE


# (status, control id, whether it counts) -> number of findings, for one cell's findings.
_Tally = Counter[tuple[str, str, bool]]


def _tallies(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], _Tally]:
    """Findings counted once, per group of `keys`, by (status, control, counts)."""
    out: dict[tuple[str, ...], _Tally] = defaultdict(Counter)
    if frame.empty:
        return out
    sizes = frame.groupby([*keys, "status", "control", "counts"], sort=False).size()
    for key, n in sizes.items():
        parts: tuple[Any, ...] = key  # type: ignore[assignment]  # a MultiIndex key: a tuple
        group, (status, control, counts) = parts[:-3], parts[-3:]
        out[tuple(str(g) for g in group)][(str(status), str(control), bool(counts))] += int(n)
    return out


def _counts(tally: _Tally) -> tuple[int, int, int, int]:
    """(passed, failed, unknown, weak passes): passes count only where they show a safeguard."""
    passed = failed = unknown = weak = 0
    for (status, _control, counts), n in tally.items():
        if status == "pass" and counts:
            passed += n
        elif status == "pass":
            weak += n
        elif status == "fail":
            failed += n
        elif status == "unknown":
            unknown += n
    return passed, failed, unknown, weak


def _evidence(tally: _Tally) -> str:
    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    for (status, control, _counts), n in tally.items():
        by_status[status][control] += n
    parts = []
    for status in ("fail", "unknown", "pass"):
        controls = by_status.get(status)
        if controls:
            items = ", ".join(f"{c} x{n}" for c, n in sorted(controls.items()))
            parts.append(f"{status}: {items}")
    return "; ".join(parts)


def matrix(inventory: Inventory, findings: Sequence[Finding], catalog: Catalog) -> list[Cell]:
    """One cell per account x layer x service in use, ordered by account, service, layer."""
    frame = _findings_frame(findings)
    # Findings are counted once per (account, layer, service, class), and account-scoped
    # controls once per (account, layer); each cell adds up its two tallies.
    scoped = frame["account_scoped"].astype(bool)
    per_service = _tallies(frame[~scoped], ["account", "layer", "service", "service_class"])
    per_account = _tallies(frame[scoped], ["account", "layer"])
    in_use = services_in_use(inventory, catalog)
    observable = _observable(catalog)
    cells: list[Cell] = []
    for row in in_use.itertuples(index=False):
        account, service = str(row.account), str(row.service)
        cls = ServiceClass(str(row.service_class))
        for layer in Layer:
            owner = catalog.owner(layer, service, cls)
            base: dict[str, Any] = {
                "account": account,
                "layer": layer,
                "service": service,
                "service_class": cls,
                "owner": owner,
                "resources": int(str(row.resources)),
            }
            if owner == AWS:
                cells.append(
                    Cell(
                        **base,
                        status=CellStatus.INHERITED,
                        passed=0,
                        failed=0,
                        unknown=0,
                        reason=REASON_INHERITED,
                        evidence=catalog.attestation,
                    )
                )
                continue
            tally = per_service.get((account, layer.value, service, cls.value), Counter()) + (
                per_account.get((account, layer.value), Counter())
            )
            passed, failed, unknown, weak = _counts(tally)
            if not tally and not ({service, "*"} & observable[layer]):
                status, reason = CellStatus.NOT_ASSESSED, REASON_NOT_OBSERVABLE
            else:
                status, reason = _status(passed, failed, unknown, weak)
            cells.append(
                Cell(
                    **base,
                    status=status,
                    passed=passed,
                    failed=failed,
                    unknown=unknown,
                    reason=reason,
                    evidence=_evidence(tally),
                )
            )
    return cells


def gaps(cells: Iterable[Cell]) -> list[Cell]:
    return [c for c in cells if c.status == CellStatus.GAP]
