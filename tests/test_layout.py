"""The AWS service is the unit: everything about one service is filed under its name, and no
file names a service the others do not know."""

from __future__ import annotations

from pathlib import Path

from awsresp.collect.specs import load_specs
from awsresp.paths import collectors_dir, mappings_dir

TESTS = Path(__file__).resolve().parent
ESTATE = TESTS.parent / "src" / "awsresp" / "sandbox" / "estate"
COLLECTED = {spec.service for spec in load_specs()}


def _stems(directory: Path) -> set[str]:
    return {p.stem for p in directory.glob("*.yaml")}


def test_a_collector_file_is_named_after_its_service() -> None:
    for spec in load_specs():
        assert spec.file == f"{spec.service}.yaml", f"{spec.file} holds service {spec.service}"
    assert _stems(collectors_dir()) == COLLECTED


def test_every_control_file_has_a_collector_and_every_collector_a_control_file() -> None:
    controls = _stems(mappings_dir() / "controls")
    assert controls - COLLECTED == set(), "control files naming a service no collector reads"
    assert COLLECTED - controls == set(), "collectors whose data no control judges"


def test_golden_fixtures_are_filed_under_a_service_with_controls() -> None:
    golden = {p.name for p in (TESTS / "golden").iterdir() if p.is_dir()}
    assert golden <= _stems(mappings_dir() / "controls")


def test_every_collector_has_its_collector_tests() -> None:
    tested = {p.stem.removeprefix("test_") for p in (TESTS / "collect").glob("test_*.py")}
    assert COLLECTED - tested == set(), "collectors without tests/collect/test_<service>.py"
    assert tested - COLLECTED == set(), "collector tests for no collector"


def test_sandbox_seeds_are_filed_by_a_collected_service() -> None:
    # `lambda` is a Python keyword: its module is lambda_.py.
    seeds = {p.stem.rstrip("_") for p in ESTATE.glob("*.py") if p.stem != "__init__"}
    assert seeds - COLLECTED == set(), "sandbox seeds for a service no collector reads"
