"""The terminal view of a scan: the responsibility matrix, the gaps and the failed reads."""

from __future__ import annotations

from collections.abc import Iterable

from tabulate import tabulate

from awsresp.model import Cell, CellStatus, CollectionIssue, Layer, ScanResult

_STATUS = {
    CellStatus.COVERED: "covered",
    CellStatus.PARTIAL: "PARTIAL",
    CellStatus.GAP: "GAP",
    CellStatus.NOT_ASSESSED: "-",
}
# Column headings: each layer's id without its qualifier (the full ids are in matrix.csv).
_LAYER_HEADING = {
    Layer.NETWORK_CONTROLS: "network",
    Layer.OPERATING_SYSTEM: "os",
    Layer.PLATFORM_RUNTIME: "runtime",
    Layer.IDENTITY_DIRECTORY: "identity",
    Layer.ACCESS_RIGHTS: "access",
    Layer.LOGGING_DETECTION: "logging",
}
MATRIX_LEGEND = (
    "covered / PARTIAL / GAP / - (not assessed): the customer's layer;"
    " (S) shared with AWS, (name) a third party; aws: AWS's layer, inherited"
)


def _cell_text(cell: Cell) -> str:
    if cell.status == CellStatus.INHERITED:
        return "aws"
    status = _STATUS[cell.status]
    if cell.owner == "customer":
        return status
    return f"{status} ({'S' if cell.owner == 'shared' else cell.owner})"


def matrix_table(cells: Iterable[Cell]) -> str:
    """Services down, layers across, so the table stays as wide as the layer list however
    many services run. Layers that are AWS's for every service in use (physical and
    virtualization, usually) are named in one line instead of taking columns."""
    cell_list = list(cells)
    services: list[tuple[str, str, str]] = []
    for c in cell_list:
        key = (c.account, c.service, c.service_class.value)
        if key not in services:
            services.append(key)
    index = {(c.account, c.service, c.service_class.value, c.layer): c for c in cell_list}
    inherited_everywhere = [
        layer
        for layer in Layer
        if all(
            (found := index.get((*key, layer))) is None or found.status == CellStatus.INHERITED
            for key in services
        )
        and any(index.get((*key, layer)) for key in services)
    ]
    layers = [
        layer
        for layer in Layer
        if layer not in inherited_everywhere and any(index.get((*k, layer)) for k in services)
    ]
    accounts = {a for a, _, _ in services}
    headers = ["service (class)"] + [_LAYER_HEADING.get(layer, layer.value) for layer in layers]
    rows = []
    for a, s, cls in services:
        label = (f"{a} " if len(accounts) > 1 else "") + f"{s} ({cls})"
        row = [label]
        for layer in layers:
            found = index.get((a, s, cls, layer))
            row.append(_cell_text(found) if found else "")
        rows.append(row)
    lines = [tabulate(rows, headers=headers, tablefmt="simple"), "", MATRIX_LEGEND]
    if inherited_everywhere:
        names = ", ".join(layer.value for layer in inherited_everywhere)
        lines.append(f"{names}: AWS's for every service above (inherited; see AWS Artifact)")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip(" ,") + "..."


def gaps_table(cells: Iterable[Cell]) -> str:
    """One line per gap; the evidence is cut to fit (gaps.csv has all of it)."""
    rows = [
        [
            c.account,
            c.service,
            c.layer.value,
            c.owner,
            c.failed,
            c.unknown,
            c.reason,
            _shorten(c.evidence, 60),
        ]
        for c in cells
    ]
    headers = ["account", "service", "layer", "owner", "failed", "unknown", "reason", "evidence"]
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


def terminal_view(result: ScanResult) -> str:
    """The matrix, the gaps and the failed reads, for a person at a terminal."""
    parts = [
        f"Responsibility matrix for account {result.inventory.account}"
        f" ({', '.join(result.inventory.regions)})",
        "",
        matrix_table(result.cells),
        "",
    ]
    gaps = result.gaps
    if gaps:
        parts += [f"Gaps: {len(gaps)} customer-owned layer(s) without a working control", ""]
        parts += [gaps_table(gaps), ""]
    else:
        parts += ["Gaps: none", ""]
    if result.inventory.issues:
        parts += [
            f"Could not read: {len(result.inventory.issues)} call(s) failed;"
            " affected findings are 'unknown'",
            "",
            issues_table(result.inventory.issues),
            "",
        ]
    return "\n".join(parts)
