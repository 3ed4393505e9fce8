"""report.html: one self-contained page (the matrix as a heat map with the findings behind
each cell, ranked gaps, failed reads), rendered with Jinja2 and autoescaping."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import jinja2
import markupsafe

from awsresp import __version__
from awsresp.export.view import (
    LAYER_HEADING,
    PALETTE,
    SEVERITY_LETTER,
    VIA_ACCOUNT,
    CellFindings,
    View,
    cell_findings,
    cell_mark,
    cell_text,
    colour_class,
    describe,
    failing,
)
from awsresp.model import ACCOUNT_ROW, CellStatus
from awsresp.scanfile import FrameworkRow, ScanFile

# What the page embeds of the findings: the rest stay in findings.csv (the page says so).
# About 2,500 findings keep a 1,000-resource account's page well under 2 MB.
MAX_FINDINGS = 2500
PER_CELL = 60
EVIDENCE_CHARS = 400

# Characters that reorder or hide the text around them (bidi overrides and isolates, the
# "Trojan Source" trick; zero-width characters) and control characters (a terminal acts on
# ESC when the page goes to stdout): shown as visible marks such as [U+202E], so a resource
# name cannot pass itself off as another. Tab and newline stay.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def reveal_hidden(text: str) -> str:
    return _HIDDEN.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def _reveal(value: Any) -> Any:
    if isinstance(value, str):
        return reveal_hidden(value)
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    return value


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' (so no '</script>'
    or '<!--' can end or bend the element) and no U+2028/U+2029 (line ends to older JS);
    ASCII only, so no raw control character reaches a terminal either."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class _Embedded:
    payload: dict[str, Any]
    shown: int
    total: int


def _cell_order(scan: ScanFile) -> list[int]:
    """Cells in the order they get the page's findings budget: ranked gaps and exposures,
    then the rest, worst status first."""
    index = {
        (c.account_id, c.service, c.service_class, c.layer): i for i, c in enumerate(scan.matrix)
    }
    first = [
        index[k]
        for g in scan.gaps
        if (k := (g.account_id, g.service, g.service_class, g.layer)) in index
    ]
    seen = set(first)
    rest = sorted(
        (i for i in range(len(scan.matrix)) if i not in seen),
        key=lambda i: -scan.matrix[i].status.rank,
    )
    return first + rest


def _embed(scan: ScanFile, behind: dict[int, CellFindings]) -> _Embedded:
    controls: dict[str, int] = {}
    resources: dict[tuple[str, str, str, str], int] = {}
    control_rows: list[list[Any]] = []
    resource_rows: list[list[Any]] = []
    finding_rows: list[list[Any]] = []
    embedded: dict[int, int] = {}  # finding index -> position in finding_rows

    def embed(n: int) -> int:
        f = scan.findings[n]
        c = controls.get(f.control_id)
        if c is None:
            c = controls[f.control_id] = len(control_rows)
            control_rows.append(
                [
                    f.control_id,
                    f.control_title,
                    f.severity.value,
                    f.safeguard,
                    f.remediation,
                    f.references,
                ]
            )
        rkey = (f.account_id, f.resource_type, f.resource_id, f.region)
        r = resources.get(rkey)
        if r is None:
            r = resources[rkey] = len(resource_rows)
            resource_rows.append(
                [f.resource_type, f.resource_id, f.resource_name, f.region, f.resource_arn]
            )
        finding_rows.append([c, r, f.status.value, _cut(f.evidence, EVIDENCE_CHARS)])
        return len(finding_rows) - 1

    cells: dict[int, dict[str, Any]] = {}
    for i in _cell_order(scan):
        entry = behind.get(i)
        if entry is None:
            continue
        shown: list[int] = []
        for n in entry.found[:PER_CELL]:
            if n not in embedded:
                if len(finding_rows) >= MAX_FINDINGS:
                    break
                embedded[n] = embed(n)
            shown.append(embedded[n])
        cells[i] = {"f": shown, "n": len(entry.found)}
        if entry.covered:
            cells[i]["cv"] = sorted(entry.covered)
    payload = {
        "controls": control_rows,
        "resources": resource_rows,
        "findings": finding_rows,
        "cells": {str(i): v for i, v in sorted(cells.items())},
    }
    return _Embedded(_reveal(payload), len(finding_rows), len(scan.findings))


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return reveal_hidden(value)
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("awsresp.export", "templates"),
        # Everything from the account (names, tags, evidence) is escaped, always.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Every value shown has its direction overrides made visible (markup the page
        # builds itself, its style, script and escaped data, is left as it is).
        finalize=_finalize,
    )
    env.filters["reveal"] = reveal_hidden
    env.filters["cell_text"] = cell_text
    env.filters["colour"] = colour_class
    env.filters["describe"] = describe
    env.filters["failing"] = failing
    env.filters["cell_mark"] = cell_mark
    env.filters["sev"] = lambda s: SEVERITY_LETTER.get(s, "")
    return env


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_html(scan: ScanFile) -> str:
    """The report of a scan as one HTML page: no request leaves it (a Content-Security-
    Policy allows only its own inline style and script, by hash)."""
    env = _environment()
    view = View.of(scan)
    behind = cell_findings(scan)
    embedded = _embed(scan, behind)
    cell_index = {c.key: i for i, c in enumerate(scan.matrix)}
    account_row = {
        (c.account_id, c.layer): i for i, c in enumerate(scan.matrix) if c.service == ACCOUNT_ROW
    }
    via = {
        str(i): account_row[(c.account_id, c.layer)]
        for i, c in enumerate(scan.matrix)
        if c.reason == VIA_ACCOUNT and (c.account_id, c.layer) in account_row
    }
    # The filter is by accountable party (the customer, AWS, the parties of the owners file);
    # scans before the owners file have no party, and filter by owner.
    owners = sorted({c.party or c.owner for c in scan.matrix})
    style = env.get_template("report.css").render(palette=PALETTE)
    script = env.get_template("report.js").render()
    data = script_json(
        embedded.payload
        | {
            "matrix": [
                {
                    "d": reveal_hidden(describe(c)),
                    "e": reveal_hidden(c.evidence),
                    "s": c.status.value,
                    "o": c.party or c.owner,
                    "w": c.worst,
                    "a": c.account_id,
                }
                for c in scan.matrix
            ],
            "via": via,
        }
    )
    return env.get_template("report.html").render(
        view=view,
        scan=scan,
        version=__version__,
        style=style,
        script=script,
        data=data,
        csp_script=_csp_hash(script),
        csp_style=_csp_hash(style),
        cell_index=cell_index,
        heading=LAYER_HEADING,
        palette=PALETTE,
        owners=owners,
        shown=embedded.shown,
        total=embedded.total,
        max_findings=MAX_FINDINGS,
        per_cell=PER_CELL,
        statuses=[s.value for s in CellStatus],
        frameworks=_frameworks(scan),
    )


def _frameworks(scan: ScanFile) -> list[tuple[str, dict[str, int], list[FrameworkRow]]]:
    """(framework, status counts, its rows) for the framework tab, in scan order."""
    out: dict[str, list[FrameworkRow]] = {}
    for r in scan.frameworks:
        out.setdefault(r.framework, []).append(r)
    return [(name, dict(Counter(r.status.value for r in rows)), rows) for name, rows in out.items()]
