"""Mapping files: validation errors name the file and the id; user overrides merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from awsresp.collect.specs import load_specs, resource_types
from awsresp.errors import SpecError
from awsresp.evaluate.catalog import load_catalog
from awsresp.model import Layer, ServiceClass

from .conftest import run_cli

TYPES = resource_types(load_specs())
GOOD = """
- id: data.s3.custom-tag
  title: Buckets carry an owner tag
  layer: data
  resource: s3.bucket
  severity: low
  pass_when: {path: "Tagging[?Key=='owner']", empty: false}
  remediation: Tag the bucket.
"""


# An account fact (a singleton type): it must say what it protects.
SETTING = """
- id: data.s3.custom-account-setting
  title: The account blocks public ACLs
  layer: data
  resource: s3.account-public-access-block
  severity: high
  pass_when: {path: PublicAccessBlock.BlockPublicAcls, equals: true}
  remediation: Turn it on.
"""


def _user_dir(tmp_path: Path, text: str, name: str = "controls/custom.yaml") -> Path:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return tmp_path


def test_packaged_catalog_is_complete() -> None:
    cat = load_catalog(TYPES)
    assert len(cat.controls) >= 15
    assert set(cat.ownership) == set(Layer)
    for layer in Layer:
        assert set(cat.ownership[layer]) == set(ServiceClass)
        assert cat.ownership_sources[layer], f"{layer} cites no source"
    assert cat.ownership[Layer.PHYSICAL][ServiceClass.INFRASTRUCTURE] == "aws"
    assert cat.ownership[Layer.OPERATING_SYSTEM][ServiceClass.INFRASTRUCTURE] == "customer"


def test_user_control_extends_the_catalog(tmp_path: Path) -> None:
    cat = load_catalog(TYPES, _user_dir(tmp_path, GOOD))
    assert "data.s3.custom-tag" in cat.controls


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("severity: low", "severity: low\n  colour: red"), "unknown key(s): colour"),
        (GOOD.replace("layer: data", "layer: datum"), "unknown layer 'datum'"),
        (GOOD + GOOD, "duplicate control id"),
        (GOOD.replace("empty: false", "emptyish: false"), "bad condition"),
        (GOOD.replace("\"Tagging[?Key=='owner']\", empty: false", "'a[', equals: 1"), "bad path"),
        (
            GOOD.replace("\"Tagging[?Key=='owner']\"", "\"ports_open(Tagging, 'risky')\""),
            "unknown port set 'risky'",
        ),
        (GOOD.replace("s3.bucket", "s3.bukket"), "no collector produces resource 's3.bukket'"),
        (GOOD.replace("id: data.s3", "id: network-controls.s3"), "must start with its layer"),
        (GOOD + "  references: {cis-aws-3.0: banana}\n", "not of the expected form"),
        ("- [not, a, mapping]", "expected a mapping"),
        ("key: [unclosed", "not valid YAML"),
        (GOOD + "  protects: [s3]\n", "'protects' is for account facts"),
        (SETTING, "say what the control protects"),
        (SETTING + "  protects: [s3, dynamodbb]\n", "unknown service(s) dynamodbb"),
        (SETTING + "  protects: [s3]\n  covers: [data.s3.nope]\n", "unknown control data.s3.nope"),
        (
            SETTING + "  protects: [s3]\n  covers: [data.ec2.volume-encrypted]\n",
            "not a resource control of a service it protects",
        ),
        (
            SETTING + "  protects: account\n  covers: [data.s3.bucket-blocks-public-access]\n",
            "only a setting that protects services may 'cover'",
        ),
        (SETTING + "  protects: 5\n", "'protects' is 'account' or a list of services"),
    ],
)
def test_malformed_control_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_catalog(TYPES, _user_dir(tmp_path, text))
    assert "custom.yaml" in str(err.value)
    assert message in str(err.value)
    if "data.s3.custom-tag" in text and "duplicate" in message:
        assert "data.s3.custom-tag" in str(err.value)
    if "custom-account-setting" in text:
        assert "control data.s3.custom-account-setting" in str(err.value)


def test_unknown_owner_in_ownership_override(tmp_path: Path) -> None:
    text = "overrides: [{layer: data, service: s3, owner: Acme MSP, source: MSA}]\n"
    with pytest.raises(SpecError, match="unknown owner 'Acme MSP'"):
        load_catalog(TYPES, _user_dir(tmp_path, text, "ownership.yaml"))


def test_ownership_override_between_aws_and_the_customer(tmp_path: Path) -> None:
    text = "overrides: [{layer: operating-system, service: ec2, owner: shared, source: MSA s.4}]\n"
    cat = load_catalog(TYPES, _user_dir(tmp_path, text, "ownership.yaml"))
    assert cat.owner(Layer.OPERATING_SYSTEM, "ec2", ServiceClass.INFRASTRUCTURE) == "shared"
    assert cat.owner(Layer.OPERATING_SYSTEM, "s3", ServiceClass.ABSTRACTED) == "aws"


def test_named_parties_belong_to_the_owners_file(tmp_path: Path) -> None:
    text = "third_parties: [Acme MSP]\n"
    with pytest.raises(SpecError, match=r"third_parties: named parties .*--owners FILE"):
        load_catalog(TYPES, _user_dir(tmp_path, text, "ownership.yaml"))


def test_user_can_disable_a_packaged_control(tmp_path: Path) -> None:
    text = "- {id: data.s3.bucket-versioning-enabled, disabled: true}\n"
    cat = load_catalog(TYPES, _user_dir(tmp_path, text))
    assert "data.s3.bucket-versioning-enabled" not in cat.controls


def test_cli_reports_malformed_mappings_with_exit_2(tmp_path: Path) -> None:
    d = _user_dir(tmp_path, GOOD.replace("layer: data", "layer: datum"))
    result = run_cli(["scan", "--mappings", str(d), "-q"])
    assert result.exit_code == 2
    assert "custom.yaml" in result.stderr and "datum" in result.stderr
    assert "Traceback" not in result.output


def test_controls_are_filed_by_the_service_of_their_resource() -> None:
    """mappings/controls/<service>.yaml holds exactly that service's controls, and every such
    file names a service some collector reads: adding a control leaves no file to choose."""
    from awsresp.paths import load_yaml, mappings_dir

    collected = {spec.service for spec in load_specs()}
    for path in sorted((mappings_dir() / "controls").glob("*.yaml")):
        assert path.stem in collected, f"{path.name}: no collector for service {path.stem!r}"
        for control in load_yaml(path.read_text()):
            service = str(control["resource"]).split(".", 1)[0]
            assert service == path.stem, f"{path.name}: {control['id']} is about {service}"


def test_benchmark_checks_left_out_are_named_with_a_reason() -> None:
    """mappings/benchmarks/<service>.yaml lists the automated CIS AWS Foundations and AWS
    FSBP checks for a collected service that no control implements, each with why; a check
    listed there is not also claimed by a control."""
    from awsresp.evaluate.catalog import REFERENCE_KEYS
    from awsresp.paths import load_yaml, mappings_dir

    collected = {spec.service for spec in load_specs()}
    claimed = {
        (key, ref)
        for control in load_catalog(TYPES).controls.values()
        for key, refs in control.references.items()
        for ref in refs
    }
    for path in sorted((mappings_dir() / "benchmarks").glob("*.yaml")):
        assert path.stem in collected, f"{path.name}: no collector for service {path.stem!r}"
        doc = load_yaml(path.read_text())
        assert set(doc) == {"left_out"}, path.name
        for entry in doc["left_out"]:
            assert set(entry) == {"ref", "title", "why"}, (path.name, entry)
            key, _, ref = str(entry["ref"]).partition(" ")
            assert key in REFERENCE_KEYS and REFERENCE_KEYS[key].match(ref), (path.name, entry)
            assert str(entry["why"]).strip(), (path.name, entry)
            assert (key, ref) not in claimed, f"{path.name}: {entry['ref']} has a control"


def test_the_generated_reference_docs_are_current() -> None:
    from awsresp.export.catalog_docs import documents

    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, text in documents(load_specs(), load_catalog(TYPES)).items():
        assert (docs / name).read_text(encoding="utf-8") == text, (
            f"docs/{name} is out of date: run `make docs`"
        )
