"""Framework views (mappings/frameworks/<framework>.yaml): each requirement with AWS's
responsibility for it (and its source), the controls that give evidence for it (derived from
the controls' references, never listed by hand), and its status in a scan."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from awsresp.errors import AwsrespError, SpecError
from awsresp.evaluate.catalog import REFERENCE_KEYS, Catalog
from awsresp.model import (
    AWS,
    CUSTOMER,
    Finding,
    FindingStatus,
    RequirementResult,
    RequirementStatus,
)
from awsresp.paths import load_yaml, mappings_dir

AWS_RESPONSIBILITY = ("inherited", "shared", "customer")
INHERITED = "inherited"
PUBLISHED, READING = "published", "awsresp reading"
_BASIS = {"published": PUBLISHED, "reading": READING}
_TOP_KEYS = {
    "framework",
    "title",
    "version",
    "evidence",
    "sources",
    "left_out",
    "outside_scope",
    "requirements",
}
_EVIDENCE_KEYS = {"reference", "via", "via_source", "note"}
_SOURCE_KEYS = {"title", "date", "url", "public", "note"}
_REQ_KEYS = {"id", "title", "aws", "source", "basis", "via", "note"}
_FRAMEWORK_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    date: str  # as the document dates itself (2023-08, 2024-02); "undated" for a web page
    url: str = ""
    public: bool = True
    note: str = ""

    def cite(self) -> str:
        private = "" if self.public else "; not public"
        return f"{self.title} ({self.date}{private})"


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    aws: str  # inherited, shared or customer
    source: Source
    basis: str  # PUBLISHED or READING
    via: tuple[str, ...] = ()  # crosswalk ids (e.g. NIST SP 800-53 controls)
    note: str = ""


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    file: str
    reference: str  # the controls' reference key whose ids fall under the requirements
    via: str  # a second reference key, reached through each requirement's crosswalk
    via_source: Source | None
    sources: Mapping[str, Source]
    requirements: tuple[Requirement, ...]
    left_out: str = ""
    # Reference ids controls may cite that no requirement of this file lists, on purpose
    # (NIST SI-13 is in no baseline): id -> why. Their evidence is dropped knowingly.
    outside_scope: Mapping[str, str] = field(default_factory=dict)
    # requirement id -> ids of the controls that give evidence for it (derived at load)
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def requirement(self, rid: str) -> Requirement:
        return next(r for r in self.requirements if r.id == rid)


def falls_under(ref: str, requirement: str) -> bool:
    """A reference counts for the requirement it equals or falls under: PCI 1.2.8 under
    1.2, NIST AC-2(1) under AC-2, HIPAA 164.312(a)(2)(iv) under 164.312(a); never AC-20
    under AC-2."""
    return ref == requirement or ref.startswith((f"{requirement}.", f"{requirement}("))


def _ancestors(ref: str) -> set[str]:
    """Every requirement id a reference falls under: itself and each prefix that ends
    before a `.` or a `(` (1.2.8: 1.2.8, 1.2, 1; AC-2(1): AC-2(1), AC-2)."""
    return {ref} | {ref[:i] for i, ch in enumerate(ref) if ch in ".(" and i}


def _index(catalog: Catalog, key: str) -> dict[str, set[str]]:
    """Requirement id -> the controls whose `key` references fall under it."""
    index: dict[str, set[str]] = defaultdict(set)
    for c in catalog.controls.values():
        for ref in c.references.get(key, ()):
            for rid in _ancestors(ref):
                index[rid].add(c.id)
    return index


def evidence_controls(
    catalog: Catalog, reference: str, via: str, requirements: Sequence[Requirement]
) -> dict[str, tuple[str, ...]]:
    """Per requirement, the controls whose references give evidence for it: directly (their
    `reference` ids), or through the requirement's crosswalk (their `via` ids)."""
    direct = _index(catalog, reference)
    crossed = _index(catalog, via) if via else {}
    out = {}
    for req in requirements:
        found = set(direct.get(req.id, ()))
        for x in req.via:
            found |= crossed.get(x, set())
        out[req.id] = tuple(sorted(found))
    return out


def _source(file: str, sid: str, node: Any) -> Source:
    where = f"source {sid}"
    if not isinstance(node, dict):
        raise SpecError(file, where, "expected a mapping with title and date")
    unknown = set(node) - _SOURCE_KEYS
    if unknown:
        raise SpecError(file, where, f"unknown key(s): {', '.join(sorted(unknown))}")
    for key in ("title", "date"):
        if not str(node.get(key) or "").strip():
            raise SpecError(file, where, f"missing '{key}' (cite the document and its date)")
    public = node.get("public", True)
    if not isinstance(public, bool):
        raise SpecError(file, where, "'public' is true or false")
    return Source(
        sid,
        str(node["title"]).strip(),
        str(node["date"]).strip(),
        str(node.get("url") or ""),
        public,
        str(node.get("note") or "").strip(),
    )


def _texts(
    file: str, where: str, value: Any, pattern: re.Pattern[str], what: str
) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise SpecError(file, where, f"{what} must be text")
        if not pattern.match(str(v)):
            raise SpecError(file, where, f"{what} {v!r} is not of the expected form")
        out.append(str(v))
    return tuple(out)


def _reference_key(file: str, where: str, key: Any) -> str:
    if key not in REFERENCE_KEYS:
        raise SpecError(
            file, where, f"unknown reference framework {key!r} ({', '.join(REFERENCE_KEYS)})"
        )
    return str(key)


def load_framework(path: Path, catalog: Catalog) -> Framework:
    file = path.name
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(file, f"line {mark.line + 1}" if mark else "", "not valid YAML") from None
    except ValueError as exc:  # PyYAML's own date parsing (2023-02-30)
        raise SpecError(file, "", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise SpecError(file, "top level", "expected a mapping")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise SpecError(file, "top level", f"unknown key(s): {', '.join(sorted(unknown))}")
    fid = str(doc.get("framework") or "")
    if not _FRAMEWORK_ID.match(fid):
        raise SpecError(file, "framework", "a framework id like pci-dss-4.0 is required")
    if not str(doc.get("title") or "").strip():
        raise SpecError(file, "title", "missing the framework's title")
    ev = doc.get("evidence")
    if not isinstance(ev, dict) or "reference" not in ev or set(ev) - _EVIDENCE_KEYS:
        raise SpecError(file, "evidence", "expected {reference: KEY[, via: KEY, via_source: ID]}")
    reference = _reference_key(file, "evidence", ev["reference"])
    via = _reference_key(file, "evidence", ev["via"]) if ev.get("via") else ""
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise SpecError(file, "sources", "cite at least one source")
    sources = {str(k): _source(file, str(k), v) for k, v in raw_sources.items()}
    via_source = None
    if via:
        vs = ev.get("via_source")
        if vs not in sources:
            raise SpecError(file, "evidence", "'via_source' must name the crosswalk's source")
        via_source = sources[vs]
    raw = doc.get("requirements")
    if not isinstance(raw, list) or not raw:
        raise SpecError(file, "requirements", "expected a list of requirements")
    pattern = REFERENCE_KEYS[reference]
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        rid = str(r.get("id")) if isinstance(r, dict) and r.get("id") is not None else ""
        where = f"requirement {rid}" if rid else f"requirement #{i + 1}"
        requirements.append(_requirement(file, where, r, rid, pattern, sources, via, seen))
    fw = Framework(
        fid,
        str(doc["title"]).strip(),
        file,
        reference,
        via,
        via_source,
        sources,
        tuple(requirements),
        str(doc.get("left_out") or "").strip(),
        _outside_scope(file, doc.get("outside_scope"), pattern),
    )
    # An inherited requirement is AWS's alone (its status is always inherited): evidence
    # that reaches it (through a crosswalk's shared ids such as CP-6) says nothing there.
    evidence = {
        rid: (() if fw.requirement(rid).aws == INHERITED else controls)
        for rid, controls in evidence_controls(catalog, reference, via, requirements).items()
    }
    return Framework(**{**fw.__dict__, "evidence": evidence})


def _outside_scope(file: str, raw: Any, pattern: re.Pattern[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and pattern.match(k) and isinstance(v, str) and v.strip()
        for k, v in raw.items()
    ):
        raise SpecError(file, "outside_scope", "expected {REFERENCE-ID: why it is not listed}")
    return {k: v.strip() for k, v in raw.items()}


def _requirement(
    file: str,
    where: str,
    r: Any,
    rid: str,
    pattern: re.Pattern[str],
    sources: Mapping[str, Source],
    via: str,
    seen: set[str],
) -> Requirement:
    if not isinstance(r, dict):
        raise SpecError(file, where, "expected a mapping")
    unknown = set(r) - _REQ_KEYS
    if unknown:
        raise SpecError(file, where, f"unknown key(s): {', '.join(sorted(unknown))}")
    if not pattern.match(rid):
        raise SpecError(file, where, "the id is missing or not of the framework's form")
    if rid in seen:
        raise SpecError(file, where, "duplicate requirement id")
    seen.add(rid)
    if not str(r.get("title") or "").strip():
        raise SpecError(file, where, "missing 'title'")
    aws = r.get("aws")
    if aws not in AWS_RESPONSIBILITY:
        raise SpecError(file, where, f"'aws' must be one of {', '.join(AWS_RESPONSIBILITY)}")
    source = sources.get(str(r.get("source")))
    if source is None:
        raise SpecError(file, where, "'source' must name one of the file's sources")
    basis = _BASIS.get(str(r.get("basis", "reading")))
    if basis is None:
        raise SpecError(file, where, "'basis' is published or reading")
    if basis == PUBLISHED and not source.public:
        raise SpecError(
            file, where, f"{source.id} is not public: the responsibility is awsresp's reading"
        )
    via_ids: tuple[str, ...] = ()
    if "via" in r:
        if not via:
            raise SpecError(file, where, "'via' needs evidence.via (the crosswalk's framework)")
        via_ids = _texts(file, where, r["via"], REFERENCE_KEYS[via], f"{via} id")
    return Requirement(
        rid,
        str(r["title"]).strip(),
        str(aws),
        source,
        basis,
        via_ids,
        str(r.get("note") or "").strip(),
    )


def load_frameworks(catalog: Catalog, extra: Path | None = None) -> tuple[Framework, ...]:
    """The packaged framework files, then the user's (`--mappings DIR/frameworks/`; a file
    with the same framework id replaces the packaged one). Ordered by id."""
    found: dict[str, Framework] = {}
    for directory in (mappings_dir(), extra):
        if directory is None:
            continue
        for path in sorted((directory / "frameworks").glob("*.yaml")):
            fw = load_framework(path, catalog)
            found[fw.id] = fw
    return tuple(found[k] for k in sorted(found))


def select(frameworks: Sequence[Framework], wanted: Iterable[str]) -> tuple[Framework, ...]:
    """The frameworks named (`--framework`), refusing unknown ids with the known ones."""
    by_id = {f.id: f for f in frameworks}
    wanted = list(dict.fromkeys(wanted))
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise AwsrespError(
            f"unknown framework(s) {', '.join(unknown)}; known: {', '.join(sorted(by_id))}"
        )
    return tuple(by_id[w] for w in wanted)


def status_of(aws: str, passed: int, failed: int, accepted: int, unknown: int) -> RequirementStatus:
    """The framework status rules (docs/frameworks.md): AWS's alone: inherited; nothing
    decided: no automated evidence; every finding passes: met; none passes: not met; else
    partly. An accepted risk or an unreadable finding never lets a requirement be met."""
    if aws == INHERITED:
        return RequirementStatus.INHERITED
    if passed + failed + accepted == 0:
        return RequirementStatus.NO_EVIDENCE
    if failed + accepted + unknown == 0:
        return RequirementStatus.MET
    if passed == 0:
        return RequirementStatus.NOT_MET
    return RequirementStatus.PARTLY


@dataclass
class _Tally:
    statuses: Counter[FindingStatus] = field(default_factory=Counter)
    parties: set[str] = field(default_factory=set)


def judge(
    frameworks: Sequence[Framework], findings: Iterable[Finding]
) -> tuple[RequirementResult, ...]:
    """Every requirement of every framework, judged from the findings of its controls. The
    accountable parties are those of the findings (the customer when nothing was found; AWS
    for an inherited requirement)."""
    by_control: dict[str, _Tally] = defaultdict(_Tally)
    for f in findings:
        t = by_control[f.control.id]
        t.statuses[f.status] += 1
        if f.party != AWS:
            t.parties.add(f.party)
    out = []
    for fw in frameworks:
        for req in fw.requirements:
            controls = fw.evidence.get(req.id, ())
            counts: Counter[FindingStatus] = Counter()
            parties: set[str] = set()
            for cid in controls:
                tally = by_control.get(cid)
                if tally is not None:
                    counts.update(tally.statuses)
                    parties |= tally.parties
            out.append(_result(fw, req, controls, counts, parties))
    return tuple(out)


def _result(
    fw: Framework,
    req: Requirement,
    controls: tuple[str, ...],
    counts: Counter[FindingStatus],
    parties: set[str],
) -> RequirementResult:
    passed, failed = counts[FindingStatus.PASS], counts[FindingStatus.FAIL]
    accepted, unknown = counts[FindingStatus.ACCEPTED], counts[FindingStatus.UNKNOWN]
    if req.aws == INHERITED:
        named: tuple[str, ...] = (AWS,)
    elif parties:
        named = tuple(sorted(parties))
    else:
        named = (CUSTOMER,)
    return RequirementResult(
        framework=fw.id,
        requirement=req.id,
        title=req.title,
        aws=req.aws,
        source=req.source.cite(),
        basis=req.basis,
        parties=named,
        status=status_of(req.aws, passed, failed, accepted, unknown),
        passed=passed,
        failed=failed,
        accepted=accepted,
        unknown=unknown,
        controls=controls,
    )
