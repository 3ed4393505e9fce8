"""frameworks.csv (one row per framework requirement) and a framework's terminal view."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tabulate import tabulate

from awsresp.evaluate.frameworks import Framework
from awsresp.model import RequirementResult, RequirementStatus

FRAMEWORK_COLUMNS = [
    "framework",
    "requirement",
    "title",
    "aws_responsibility",
    "responsibility_source",
    "responsibility_basis",
    "party",
    "status",
    "passed",
    "failed",
    "accepted",
    "unknown",
    "controls",
]


def framework_row(r: RequirementResult) -> dict[str, Any]:
    return {
        "framework": r.framework,
        "requirement": r.requirement,
        "title": r.title,
        "aws_responsibility": r.aws,
        "responsibility_source": r.source,
        "responsibility_basis": r.basis,
        "party": "; ".join(r.parties),
        "status": r.status.value,
        "passed": r.passed,
        "failed": r.failed,
        "accepted": r.accepted,
        "unknown": r.unknown,
        "controls": " ".join(r.controls),
    }


def framework_rows(results: Iterable[RequirementResult]) -> Iterator[dict[str, Any]]:
    return (framework_row(r) for r in results)


def results_from_rows(rows: Iterable[Mapping[str, str]]) -> list[RequirementResult]:
    """frameworks.csv (or scan.json's `frameworks`) read back into results."""
    return [
        RequirementResult(
            framework=r["framework"],
            requirement=r["requirement"],
            title=r["title"],
            aws=r["aws_responsibility"],
            source=r["responsibility_source"],
            basis=r["responsibility_basis"],
            parties=tuple(p for p in str(r["party"]).split("; ") if p),
            status=RequirementStatus(r["status"]),
            passed=int(r["passed"]),
            failed=int(r["failed"]),
            accepted=int(r["accepted"]),
            unknown=int(r["unknown"]),
            controls=tuple(str(r["controls"]).split()),
        )
        for r in rows
    ]


_ORDER = (
    RequirementStatus.MET,
    RequirementStatus.PARTLY,
    RequirementStatus.NOT_MET,
    RequirementStatus.NO_EVIDENCE,
    RequirementStatus.INHERITED,
)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip(" ,") + "..."


def framework_view(framework: Framework, results: Iterable[RequirementResult]) -> str:
    """One framework: a line of status counts, the requirements with evidence (or AWS's),
    then the ids of those with no automated evidence (all of them are in frameworks.csv)."""
    rows = [r for r in results if r.framework == framework.id]
    counts = Counter(r.status for r in rows)
    summary = ", ".join(f"{s.value} {counts[s]}" for s in _ORDER if counts[s])
    shown = [r for r in rows if r.status != RequirementStatus.NO_EVIDENCE]
    table = [
        [
            r.requirement,
            _cut(r.title, 44),
            r.aws,
            _cut(", ".join(r.parties), 16),
            r.status.value,
            f"{r.passed}/{r.failed}/{r.accepted}/{r.unknown}",
            len(r.controls),
        ]
        for r in shown
    ]
    headers = ["req", "title", "aws", "party", "status", "pass/fail/acc/unk", "controls"]
    lines = [
        f"{framework.title} ({framework.id}): {len(rows)} requirements: {summary}",
        "",
        tabulate(table, headers=headers, tablefmt="simple") if table else "(none judged)",
    ]
    missing = [r.requirement for r in rows if r.status == RequirementStatus.NO_EVIDENCE]
    if missing:
        wrapped = textwrap.fill(", ".join(missing), width=100)
        lines += ["", f"No automated evidence ({len(missing)}): {wrapped}"]
    basis = Counter(r.basis for r in rows)
    sources = sorted({r.source for r in rows})
    lines += [
        "",
        f"AWS's responsibility: {', '.join(f'{n} {b}' for b, n in sorted(basis.items()))};"
        f" from {'; '.join(sources)}",
    ]
    if framework.left_out:
        lines.append(f"Left out: {framework.left_out}")
    lines.append(
        "met: every mapped check passed; it does not speak for the parts no API shows"
        " (policies, procedures, people)."
    )
    return "\n".join(lines)
