"""The terminal view of a scan: the responsibility matrix, the ranked gaps and exposures, and
the failed reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from awsresp.model import (
    ACCOUNT_ROW,
    AWS,
    CUSTOMER,
    SHARED,
    Cell,
    CellStatus,
    CollectionIssue,
    Finding,
    FindingStatus,
    Gap,
    Layer,
    ScanResult,
)

# What a terminal would act on instead of showing: C0 and C1 control characters (ANSI
# escape sequences start with ESC), DEL, and the invisible characters that reorder or hide
# text (bidi embeddings, overrides and isolates, zero-width characters, line separators).
_UNPRINTABLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character a terminal would act on shown as a visible escape
    (ESC as \\x1b, a right-to-left override as \\u202e); newlines are kept. Resource names,
    tags and an endpoint's error messages come from the account and reach stdout/stderr."""
    return _UNPRINTABLE.sub(_escape, text)


def printable_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows for a terminal (CSV on stdout): each text value made printable, so the CSV's
    own line ends stay as they are."""
    for row in rows:
        yield {k: printable(v) if isinstance(v, str) else v for k, v in row.items()}


# Column headings: each layer's id without its qualifier (the full ids are in matrix.csv).
_LAYER_HEADING = {
    Layer.NETWORK_CONTROLS: "network",
    Layer.OPERATING_SYSTEM: "os",
    Layer.PLATFORM_RUNTIME: "runtime",
    Layer.IDENTITY_DIRECTORY: "identity",
    Layer.ACCESS_RIGHTS: "access",
    Layer.LOGGING_DETECTION: "logging",
}
# Reasons (summary.REASON_*) whose not-assessed cells print as "?" (we tried and could not
# read) or "n/s" (a service that decides the cell was left out of the scan); others "-".
_UNREADABLE = "unreadable"
_NOT_SCANNED = "not-scanned"
_VIA_ACCOUNT = "via-account"
_ACCEPTED = "accepted"
MATRIX_LEGEND = (
    "covered: every unit controlled | 62% H: share of units controlled, worst failing severity"
    " (C critical, H high, M medium, L low) | GAP H: no unit controlled\n"
    "?: unreadable | n/s: not scanned | -: not assessed | ^: no control of its own, see the"
    " account row | (S): shared with AWS | aws: AWS's layer, inherited"
)
# Shown only when some cell carries it: accepted risks, and parties named by the owners file.
ACCEPTED_LEGEND = "*: some units' failures are accepted risks | acc: every unit's are"


def _initial(severity: str) -> str:
    return severity[:1].upper()


def cell_text(cell: Cell, mark: str = "") -> str:
    """The short text of a cell: `covered`, `62% H`, `GAP C`, `?`, `-`, `^`, `aws`, `acc`;
    `*` when some units' failures are accepted; `(S)` when shared with AWS; `mark` (`#1`)
    names the party accountable when it is not the customer."""
    if cell.status == CellStatus.INHERITED:
        return "aws"
    if cell.reason == _ACCEPTED:
        text = "acc"
    elif cell.reason == _VIA_ACCOUNT:
        text = "^"
    elif cell.status == CellStatus.COVERED:
        text = "covered"
    elif cell.status == CellStatus.PARTIAL:
        text = f"{cell.coverage}% {_initial(cell.worst)}".rstrip()
    elif cell.status == CellStatus.GAP:
        text = f"GAP {_initial(cell.worst)}".rstrip()
    elif cell.reason == _UNREADABLE:
        text = "?"
    elif cell.reason == _NOT_SCANNED:
        text = "n/s"
    else:
        text = "-"
    if cell.accepted and cell.reason != _ACCEPTED:
        text += "*"
    tag = " ".join(t for t in ("S" if cell.owner == SHARED else "", mark) if t)
    return f"{text} ({tag})" if tag else text


def party_marks(cells: Iterable[Cell]) -> dict[str, str]:
    """`#1`, `#2`... for the named parties holding cells (the customer and AWS have none)."""
    named = sorted({c.party for c in cells} - {CUSTOMER, AWS})
    return {p: f"#{n}" for n, p in enumerate(named, start=1)}


def _row_label(account: str, service: str, cls: str, many_accounts: bool) -> str:
    lead = f"{account} " if many_accounts else ""
    if service == ACCOUNT_ROW:
        return f"{lead}account (baseline)"
    return f"{lead}{service} ({cls})"


def matrix_table(cells: Iterable[Cell]) -> str:
    """Services down (the account row first), layers across, so the table stays as wide as
    the layer list however many services run. Layers that are AWS's on every row (physical
    and virtualization, usually) are named in one line instead of taking columns. A service
    whose layers tag rules split between parties gets one row per party."""
    cell_list = list(cells)
    marks = party_marks(cell_list)
    layers_of: dict[tuple[str, str, str, Layer], int] = {}
    for c in cell_list:
        k = (c.account, c.service, c.service_class.value, c.layer)
        layers_of[k] = layers_of.get(k, 0) + 1
    split = {k[:3] for k, n in layers_of.items() if n > 1}

    def row_of(c: Cell) -> tuple[str, str, str, str]:
        base = (c.account, c.service, c.service_class.value)
        return (*base, c.party if base in split else "")

    rows_keys: list[tuple[str, str, str, str]] = []
    index: dict[tuple[str, str, str, str, Layer], Cell] = {}
    for c in cell_list:
        key = row_of(c)
        if key[3] == AWS:  # AWS's layers of a split service show on each party's row
            continue
        if key not in rows_keys:
            rows_keys.append(key)
        index[(*key, c.layer)] = c
    for c in cell_list:
        if row_of(c)[3] == AWS:
            for key in rows_keys:
                if key[:3] == row_of(c)[:3]:
                    index[(*key, c.layer)] = c
    inherited_everywhere = [
        layer
        for layer in Layer
        if all(
            (found := index.get((*key, layer))) is None or found.status == CellStatus.INHERITED
            for key in rows_keys
        )
        and any(index.get((*key, layer)) for key in rows_keys)
    ]
    layers = [
        layer
        for layer in Layer
        if layer not in inherited_everywhere and any(index.get((*k, layer)) for k in rows_keys)
    ]
    many = len({k[0] for k in rows_keys}) > 1
    headers = ["service (class)"] + [_LAYER_HEADING.get(layer, layer.value) for layer in layers]
    rows = []
    for a, s, cls, party in rows_keys:
        label = _row_label(a, s, cls, many)
        row = [f"{label} {marks.get(party, party)}" if party else label]
        for layer in layers:
            found = index.get((a, s, cls, party, layer))
            mark = "" if party or found is None else marks.get(found.party, "")
            row.append(cell_text(found, mark) if found else "")
        rows.append(row)
    lines = [tabulate(rows, headers=headers, tablefmt="simple"), "", MATRIX_LEGEND]
    if any(c.accepted for c in cell_list):
        lines.append(ACCEPTED_LEGEND)
    if marks:
        named = ", ".join(f"{m} {p}" for p, m in marks.items())
        lines.append(f"{named}: the party accountable for the customer's part (owners file)")
    if inherited_everywhere:
        names = ", ".join(layer.value for layer in inherited_everywhere)
        lines.append(f"{names}: AWS's on every row (inherited; see AWS Artifact)")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip(" ,") + "..."


def _failing(evidence: str) -> str:
    """The failing part of a cell's evidence ("fail: a x2, b x1")."""
    for part in evidence.split("; "):
        if part.startswith("fail: "):
            return part.removeprefix("fail: ")
    return ""


def gaps_table(gaps: Sequence[Gap]) -> str:
    """One line per gap or exposure, in rank order; details are cut to fit (gaps.csv has
    them whole)."""
    many = len({g.cell.account for g in gaps}) > 1
    rows = []
    for rank, g in enumerate(gaps, start=1):
        c = g.cell
        detail = f"affects {', '.join(g.affects)}" if g.affects else _failing(c.evidence)
        rows.append(
            [
                rank,
                *([c.account] if many else []),
                c.service,
                c.layer.value,
                f"{c.party} (S)" if c.owner == SHARED else c.party,
                c.worst or "-",
                f"{c.exposed}/{c.weak}/{c.resources}",
                _shorten(detail, 70),
            ]
        )
    headers = [
        "#",
        *(["account"] if many else []),
        "service",
        "layer",
        "party",
        "worst",
        "exposed/weak/units",
        "failing controls (or services affected)",
    ]
    return tabulate(rows, headers=headers, tablefmt="simple")


def issues_table(issues: Iterable[CollectionIssue]) -> str:
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for i in issues:
        grouped.setdefault((i.kind.value, i.iam_action, i.error_code, i.resource_type), []).append(
            i.region
        )
    rows = [
        [kind, action, code, rtype, ", ".join(sorted(set(regions))), len(regions)]
        for (kind, action, code, rtype), regions in sorted(grouped.items())
    ]
    return tabulate(
        rows, headers=["kind", "iam action", "error", "resource type", "regions", "count"]
    )


def accepted_table(findings: Iterable[Finding]) -> str:
    """The accepted risks behind the scan's `accepted` findings, one line per entry."""
    grouped: dict[tuple[str, str, str, str, str], int] = {}
    for f in findings:
        a = f.acceptance
        if f.status == FindingStatus.ACCEPTED and a is not None:
            key = (f.control.id, a.expires, a.approver, a.reason, a.where)
            grouped[key] = grouped.get(key, 0) + 1
    rows = [
        [control, n, until, _shorten(approver, 20), _shorten(reason, 50)]
        for (control, until, approver, reason, _where), n in sorted(grouped.items())
    ]
    return tabulate(rows, headers=["control", "findings", "until", "approver", "reason"])


def terminal_view(result: ScanResult) -> str:
    """The matrix, the gaps and exposures, and the failed reads, for a person at a terminal."""
    inv = result.inventory
    parts = [
        f"Responsibility matrix for account {inv.account} ({', '.join(inv.regions)})",
        "",
        matrix_table(result.cells),
        "",
    ]
    gaps, exposures = result.gaps, result.exposures
    if gaps:
        parts += [
            f"Gaps: {len(gaps)} customer-owned layer(s) without a working control, worst first",
            "",
            gaps_table(gaps),
            "",
        ]
    else:
        parts += ["Gaps: none", ""]
    if exposures:
        parts += [
            f"Exposures: {len(exposures)} layer(s) partly controlled, with exposed resources",
            "",
            gaps_table(exposures),
            "",
        ]
    accepted = [f for f in result.findings if f.status == FindingStatus.ACCEPTED]
    if accepted:
        parts += [
            f"Accepted risks: {len(accepted)} failing finding(s) accepted until their expiry"
            " (findings.csv has each one)",
            "",
            accepted_table(accepted),
            "",
        ]
    if result.undetermined:
        names = ", ".join(s for _a, s in result.undetermined)
        parts += [
            f"Could not tell whether in use (the listing failed, so no row): {names}",
            "",
        ]
    if inv.issues:
        parts += [
            f"Could not read: {len(inv.issues)} call(s) failed; affected findings are 'unknown'",
            "",
            issues_table(inv.issues),
            "",
        ]
    return "\n".join(parts)
