"""A scan sliced to some accountable parties (`--owner NAME`): their findings, cells, gaps
and exposures, and the framework requirements their findings speak to."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from awsresp.evaluate import frameworks as fw
from awsresp.model import AWS, ScanResult


def for_parties(
    result: ScanResult, parties: Collection[str], frameworks: Sequence[fw.Framework]
) -> ScanResult:
    """The scan as these parties see it. Resources are kept when one of their findings is
    about them; failed reads are kept whole (nobody owns what could not be read). A
    requirement is kept when their findings speak to it (or, for AWS, when it is AWS's)."""
    wanted = set(parties)
    findings = tuple(f for f in result.findings if f.party in wanted)
    about = {id(f.resource) for f in findings}
    kept = [
        (r, cls)
        for r, cls in zip(result.inventory.resources, result.classes, strict=True)
        if id(r) in about
    ]
    inventory = dataclasses.replace(result.inventory, resources=tuple(r for r, _ in kept))
    requirements = tuple(
        r
        for r in fw.judge(frameworks, findings)
        if r.passed + r.failed + r.accepted + r.unknown or (AWS in wanted and r.aws == fw.INHERITED)
    )
    return dataclasses.replace(
        result,
        inventory=inventory,
        findings=findings,
        cells=tuple(c for c in result.cells if c.party in wanted),
        classes=tuple(cls for _, cls in kept),
        ranked=tuple(g for g in result.ranked if g.cell.party in wanted),
        parties=tuple(p for p in result.parties if p.name in wanted),
        requirements=requirements,
    )
