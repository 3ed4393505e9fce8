"""The published JSON Schemas (docs/schema/): current, generated from the models, agreeing with
the loaders' keys, and accepting every shipped file and a real scan.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from moto import mock_aws
from pydantic import BaseModel, TypeAdapter

from awsresp import schemas
from awsresp.evaluate import accept, catalog, owners
from awsresp.evaluate.rules import OPERATORS
from awsresp.scanfile import ScanFile

from .conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "schema"


def _keys(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_published_schemas_are_current() -> None:
    generated = schemas.schemas()
    assert sorted(p.name for p in PUBLISHED.glob("*.json")) == sorted(generated)
    for name, schema in generated.items():
        assert (PUBLISHED / name).read_text(encoding="utf-8") == schemas.render(schema), (
            f"{name} is out of date: run make docs"
        )


def test_the_models_have_the_loaders_keys() -> None:
    assert _keys(schemas.AcceptFile) == accept._TOP_KEYS
    assert _keys(schemas.AcceptEntry) == accept._ENTRY_KEYS
    assert _keys(schemas.OwnersFile) == owners._TOP_KEYS
    assert _keys(schemas.PartyEntry) == owners._PARTY_KEYS
    assert _keys(schemas.OwnerRuleEntry) == owners._RULE_KEYS
    assert _keys(schemas.ControlEntry) == catalog._CONTROL_KEYS
    assert _keys(schemas.Test) == {"path", *OPERATORS}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted((ROOT / "collectors").glob("*.yaml")), ids=lambda p: p.name)
def test_every_collector_spec_fits_its_schema(path: Path) -> None:
    schemas.CollectorFile.model_validate(_yaml(path))


@pytest.mark.parametrize(
    "path", sorted((ROOT / "mappings" / "controls").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_controls_file_fits_its_schema(path: Path) -> None:
    TypeAdapter(list[schemas.ControlEntry]).validate_python(_yaml(path))


def test_the_example_owners_and_accept_files_fit_their_schemas() -> None:
    schemas.OwnersFile.model_validate(_yaml(ROOT / "docs" / "examples" / "owners.yaml"))
    schemas.AcceptFile.model_validate(_yaml(ROOT / "docs" / "examples" / "accept.yaml"))


def test_the_schemas_refuse_unknown_keys() -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        schemas.AcceptFile.model_validate({"accepted": [], "acepted": []})
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        schemas.Test.model_validate({"path": "A", "equal": True})


def test_a_scan_json_fits_the_published_schema(tmp_path: Path) -> None:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="acme-data")
        result = run_cli(["scan", "-q", "-s", "s3", "-r", "us-east-1", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "scan.json").read_text())
    schema = json.loads((PUBLISHED / "scan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    # The schema is the reader's: what it accepts reads back.
    assert ScanFile.model_validate(doc).findings
    doc["findings"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(doc)
