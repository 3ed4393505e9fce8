"""Framework views: every framework file's requirements, sources and control links, the
status rules, frameworks.csv and the command line."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from awsresp.errors import AwsrespError, SpecError
from awsresp.evaluate.catalog import REFERENCE_KEYS
from awsresp.evaluate.frameworks import (
    INHERITED,
    PUBLISHED,
    READING,
    Framework,
    falls_under,
    judge,
    load_framework,
    select,
    status_of,
)
from awsresp.export.frameworks import FRAMEWORK_COLUMNS, framework_rows, framework_view
from awsresp.model import FindingStatus, Inventory, RequirementStatus
from awsresp.paths import mappings_dir
from awsresp.scan import Definitions, evaluate

from .conftest import make_resource, run_cli

# Pinned, so that adding or dropping a requirement is a deliberate change (docs/frameworks.md
# gives the same counts and what each file leaves out).
COUNTS = {"hipaa": 61, "nist-800-53-r5": 177, "pci-dss-4.0": 63, "soc2": 38}


def _frameworks(definitions: Definitions) -> dict[str, Framework]:
    return {f.id: f for f in definitions.frameworks}


def test_the_four_frameworks_and_their_requirement_counts(definitions: Definitions) -> None:
    found = {f.id: len(f.requirements) for f in definitions.frameworks}
    assert found == COUNTS
    files = sorted(p.name for p in (mappings_dir() / "frameworks").glob("*.yaml"))
    assert files == [f"{k}.yaml" for k in sorted(COUNTS)]


def test_every_requirement_has_a_well_formed_unique_id_and_a_cited_source(
    definitions: Definitions,
) -> None:
    for fw in definitions.frameworks:
        pattern = REFERENCE_KEYS[fw.reference]
        ids = [r.id for r in fw.requirements]
        assert len(ids) == len(set(ids)), fw.id
        for r in fw.requirements:
            where = f"{fw.id} {r.id}"
            assert pattern.match(r.id), where
            assert r.title and r.aws in ("inherited", "shared", "customer"), where
            assert r.source.id in fw.sources and r.source.title and r.source.date, where
            assert r.basis in (PUBLISHED, READING), where
            if not r.source.public:
                assert r.basis == READING, f"{where}: a source that is not public is a reading"
            assert r.source.cite().endswith(")"), where


def test_every_control_link_names_a_control_that_exists(definitions: Definitions) -> None:
    catalog = definitions.catalog
    for fw in definitions.frameworks:
        assert set(fw.evidence) == {r.id for r in fw.requirements}
        for rid, controls in fw.evidence.items():
            unknown = set(controls) - set(catalog.controls)
            assert not unknown, f"{fw.id} {rid}: {unknown}"


def test_every_control_reference_lands_on_a_listed_requirement(definitions: Definitions) -> None:
    """No evidence is dropped silently: an id a control cites under a framework's key falls
    under one of that framework's requirements (add the requirement, or say why not in the
    file's outside_scope)."""
    for fw in definitions.frameworks:
        ids = [r.id for r in fw.requirements] + list(fw.outside_scope)
        for c in definitions.catalog.controls.values():
            for ref in c.references.get(fw.reference, ()):
                assert any(falls_under(ref, rid) for rid in ids), f"{c.id}: {fw.id} {ref}"


def test_crosswalk_ids_are_well_formed_and_inherited_rows_have_no_customer_evidence(
    definitions: Definitions,
) -> None:
    for fw in definitions.frameworks:
        for r in fw.requirements:
            if r.via:
                assert fw.via, f"{fw.id} {r.id}: a crosswalk needs evidence.via"
                assert all(REFERENCE_KEYS[fw.via].match(x) for x in r.via), r.id
            if r.aws == INHERITED:
                assert not fw.evidence[r.id], f"{fw.id} {r.id} is AWS's, yet controls map to it"
        if fw.via:
            assert fw.via_source is not None and fw.via_source.id in fw.sources


def test_mappings_are_derived_from_the_controls_references(definitions: Definitions) -> None:
    fws = _frameworks(definitions)
    pci = fws["pci-dss-4.0"]
    # data.s3.bucket-default-encryption cites PCI 3.5.1: it gives evidence for 3.5 and for
    # no other PCI requirement.
    control = definitions.catalog.controls["data.s3.bucket-default-encryption"]
    assert control.references["pci-dss-4.0"] == ("3.5.1",)
    assert [r.id for r in pci.requirements if control.id in pci.evidence[r.id]] == ["3.5"]
    # HIPAA reaches controls through NIST's crosswalk: audit controls (164.312(b)) through AU.
    hipaa = fws["hipaa"]
    assert hipaa.requirement("164.312(b)").via[:3] == ("AU-1", "AU-2", "AU-3")
    trail = definitions.catalog.controls["logging-detection.cloudtrail.multi-region-trail-logging"]
    assert any(r.startswith("AU-") for r in trail.references["nist-800-53-r5"])
    assert trail.id in hipaa.evidence["164.312(b)"]


def test_the_derived_links_are_exactly_the_references_that_fall_under(
    definitions: Definitions,
) -> None:
    for fw in definitions.frameworks:
        for r in fw.requirements:
            if r.aws == INHERITED:  # AWS's alone: no customer evidence, even via a crosswalk
                assert fw.evidence[r.id] == ()
                continue
            expected = sorted(
                c.id
                for c in definitions.catalog.controls.values()
                if any(falls_under(ref, r.id) for ref in c.references.get(fw.reference, ()))
                or any(falls_under(ref, x) for ref in c.references.get(fw.via, ()) for x in r.via)
            )
            assert list(fw.evidence[r.id]) == expected, f"{fw.id} {r.id}"


@pytest.mark.parametrize(
    ("ref", "req", "under"),
    [
        ("1.2.8", "1.2", True),
        ("1.2", "1.2", True),
        ("1.20.1", "1.2", False),
        ("AC-2(1)", "AC-2", True),
        ("AC-20", "AC-2", False),
        ("164.312(a)(2)(iv)", "164.312(a)", True),
        ("164.312(b)", "164.312(a)", False),
        ("CC6.10", "CC6.1", False),
    ],
)
def test_a_reference_counts_for_the_requirement_it_falls_under(
    ref: str, req: str, under: bool
) -> None:
    assert falls_under(ref, req) is under


@pytest.mark.parametrize(
    ("aws", "counts", "status"),
    [
        ("inherited", (3, 1, 0, 0), RequirementStatus.INHERITED),
        ("shared", (0, 0, 0, 0), RequirementStatus.NO_EVIDENCE),
        ("shared", (0, 0, 0, 4), RequirementStatus.NO_EVIDENCE),  # nothing could be read
        ("customer", (5, 0, 0, 0), RequirementStatus.MET),
        ("customer", (5, 1, 0, 0), RequirementStatus.PARTLY),
        ("customer", (5, 0, 0, 1), RequirementStatus.PARTLY),  # unreadable: never met
        ("customer", (5, 0, 1, 0), RequirementStatus.PARTLY),  # accepted: never met
        ("customer", (0, 2, 0, 0), RequirementStatus.NOT_MET),
        ("customer", (0, 0, 2, 0), RequirementStatus.NOT_MET),  # only accepted risks
        ("shared", (0, 2, 1, 3), RequirementStatus.NOT_MET),
    ],
)
def test_status_rules(
    aws: str, counts: tuple[int, int, int, int], status: RequirementStatus
) -> None:
    assert status_of(aws, *counts) == status


def test_requirements_are_judged_from_their_controls_findings(definitions: Definitions) -> None:
    sse = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    buckets = [
        make_resource(
            "s3.bucket",
            {"Encryption": sse if name == "encrypted" else []},
            id=name,
            name=name,
            arn=f"arn:aws:s3:::{name}",
        )
        for name in ("encrypted", "plain")
    ]
    inv = Inventory("123456789012", "aws", ("us-east-1",), tuple(buckets), (), services=("s3",))
    result = evaluate(inv, definitions, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    rows = {(r.framework, r.requirement): r for r in result.requirements}
    assert len(rows) == sum(COUNTS.values())
    pci = _frameworks(definitions)["pci-dss-4.0"]
    for r in pci.requirements:
        row = rows[("pci-dss-4.0", r.id)]
        mapped = [f for f in result.findings if f.control.id in pci.evidence[r.id]]
        statuses = Counter(f.status for f in mapped)
        assert (row.passed, row.failed, row.unknown) == (
            statuses[FindingStatus.PASS],
            statuses[FindingStatus.FAIL],
            statuses[FindingStatus.UNKNOWN],
        )
        assert row.controls == pci.evidence[r.id]
    assert rows[("pci-dss-4.0", "9.2")].status == RequirementStatus.INHERITED
    assert rows[("pci-dss-4.0", "9.2")].parties == ("aws",)
    assert rows[("pci-dss-4.0", "12.1")].status == RequirementStatus.NO_EVIDENCE
    encryption = rows[("pci-dss-4.0", "3.5")]  # one bucket encrypted, one not
    assert encryption.status == RequirementStatus.PARTLY
    assert encryption.passed >= 1 and encryption.failed >= 1
    # Never met without automated evidence: every no-evidence row has nothing decided.
    for row in rows.values():
        if row.status == RequirementStatus.MET:
            assert row.passed and not (row.failed + row.accepted + row.unknown)
        if not (row.passed + row.failed + row.accepted):
            assert row.status in (RequirementStatus.NO_EVIDENCE, RequirementStatus.INHERITED)


def test_frameworks_csv_rows_and_the_terminal_view(definitions: Definitions) -> None:
    result = judge(definitions.frameworks, [])
    rows = list(framework_rows(result))
    assert list(rows[0]) == FRAMEWORK_COLUMNS
    pci = _frameworks(definitions)["pci-dss-4.0"]
    view = framework_view(pci, result)
    assert view.startswith(
        "PCI DSS v4.0 (pci-dss-4.0): 63 requirements: no-automated-evidence 61, inherited 2"
    )
    assert "No automated evidence (61): 1.1, 1.2, 1.3" in view
    assert "Left out: Appendix A1" in view


def test_select_refuses_an_unknown_framework(definitions: Definitions) -> None:
    assert [f.id for f in select(definitions.frameworks, ["soc2", "hipaa"])] == ["soc2", "hipaa"]
    with pytest.raises(AwsrespError, match=r"unknown framework\(s\) pci; known: hipaa, nist"):
        select(definitions.frameworks, ["pci"])


def test_cli_unknown_framework_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli(["scan", "-q", "--framework", "iso-27001", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "awsresp: error: unknown framework(s) iso-27001; known: hipaa, nist-800-53-r5,"
        " pci-dss-4.0, soc2"
    )


GOOD = """\
framework: demo
title: Demo
evidence: {reference: pci-dss-4.0}
sources:
  s1: {title: A public guide, date: 2024-01}
  s2: {title: A private summary, date: 2024, public: false}
requirements:
  - {id: "1.1", title: One, aws: shared, source: s1}
"""


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("source: s1", "source: s9"), "requirement 1.1: 'source' must name one of the file's"),
        (("aws: shared", "aws: half"), "requirement 1.1: 'aws' must be one of"),
        (("source: s1}", "source: s2, basis: published}"), "s2 is not public"),
        (('id: "1.1"', "id: A.1"), "requirement A.1: the id is missing or not of the"),
        (("title: One, ", ""), "requirement 1.1: missing 'title'"),
        (("date: 2024-01}", "date: ''}"), "source s1: missing 'date'"),
        (("source: s1}", "source: s1, via: [AC-2]}"), "'via' needs evidence.via"),
        (("source: s1}", "source: s1, controls: [x]}"), "unknown key(s): controls"),
        (("{reference: pci-dss-4.0}", "{reference: iso}"), "unknown reference framework"),
    ],
)
def test_framework_file_errors_name_the_file_and_the_requirement(
    tmp_path: Path, definitions: Definitions, replace: tuple[str, str], message: str
) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD.replace(*replace))
    with pytest.raises(SpecError) as err:
        load_framework(path, definitions.catalog)
    assert str(err.value).startswith("demo.yaml: ") and message in str(err.value)


def test_a_users_framework_file_replaces_or_adds_one(tmp_path: Path) -> None:
    (tmp_path / "frameworks").mkdir()
    (tmp_path / "frameworks" / "demo.yaml").write_text(GOOD)
    ids = [f.id for f in Definitions.load(tmp_path).frameworks]
    assert ids == ["demo", "hipaa", "nist-800-53-r5", "pci-dss-4.0", "soc2"]
