"""owners.csv: one row per accountable party (the "SLA review" page): the layers it holds,
its cells and findings by status, its gaps and exposures, the worst failing severity, and
its contact, contract or SLA reference and review date."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from awsresp.model import AWS, CUSTOMER, Cell, CellStatus, GapKind, Party, ScanResult, Severity

OWNER_COLUMNS = [
    "party",
    "contact",
    "contract",
    "review",
    "layers",
    "cells",
    "covered",
    "partial",
    "gap",
    "not_assessed",
    "inherited",
    "findings_pass",
    "findings_fail",
    "findings_accepted",
    "findings_unknown",
    "gaps",
    "exposures",
    "worst",
]


def _layers(cells: list[Cell]) -> str:
    """ "operating-system: ec2, rds (shared); data: s3": each layer held, with its services
    (rows of the account's baseline show as `account`)."""
    by_layer: dict[str, set[str]] = defaultdict(set)
    shared: set[tuple[str, str]] = set()
    for c in cells:
        if c.reason == "via-account":
            continue  # shown by the account row, held there
        by_layer[c.layer.value].add(c.service)
        if c.owner == "shared":
            shared.add((c.layer.value, c.service))
    parts = []
    for layer in sorted(by_layer):
        names = [f"{s} (shared)" if (layer, s) in shared else s for s in sorted(by_layer[layer])]
        parts.append(f"{layer}: {', '.join(names)}")
    return "; ".join(parts)


def _worst(cells: list[Cell]) -> str:
    found = [Severity(c.worst) for c in cells if c.worst]
    return max(found, key=lambda s: s.rank).value if found else ""


def owner_rows(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The customer first, then the named parties of the owners file (by name), then AWS;
    a party appears when it holds a cell or the owners file lists it."""
    cells: dict[str, list[Cell]] = defaultdict(list)
    for c in result.cells:
        cells[c.party].append(c)
    findings: dict[str, Counter[str]] = defaultdict(Counter)
    for f in result.findings:
        findings[f.party][f.status.value] += 1
    gaps: dict[str, Counter[GapKind]] = defaultdict(Counter)
    for g in result.ranked:
        gaps[g.cell.party][g.kind] += 1
    declared = {p.name: p for p in result.parties}
    names = [CUSTOMER, *sorted((set(cells) | set(declared)) - {CUSTOMER, AWS}), AWS]
    for name in names:
        held = cells.get(name, [])
        if not held and name not in declared:
            continue
        party = declared.get(name, Party(name))
        status = Counter(c.status for c in held)
        yield {
            "party": name,
            "contact": party.contact,
            "contract": party.contract,
            "review": party.review,
            "layers": _layers(held),
            "cells": len(held),
            "covered": status[CellStatus.COVERED],
            "partial": status[CellStatus.PARTIAL],
            "gap": status[CellStatus.GAP],
            "not_assessed": status[CellStatus.NOT_ASSESSED],
            "inherited": status[CellStatus.INHERITED],
            "findings_pass": findings[name]["pass"],
            "findings_fail": findings[name]["fail"],
            "findings_accepted": findings[name]["accepted"],
            "findings_unknown": findings[name]["unknown"],
            "gaps": gaps[name][GapKind.GAP],
            "exposures": gaps[name][GapKind.EXPOSURE],
            "worst": _worst(held),
        }
