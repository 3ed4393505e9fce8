"""The gap rule, cell by cell (DESIGN.md)."""

from __future__ import annotations

import dataclasses

import pytest

from awsresp.evaluate.findings import findings
from awsresp.model import CellStatus, Inventory, Layer, Resource
from awsresp.scan import Definitions
from awsresp.summary import matrix

from .conftest import GOLDEN_NOW, make_resource

BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _bucket(name: str, **config: object) -> Resource:
    base = {"PublicAccessBlock": BLOCKED, "PolicyStatus": None, "Acl": {"Grants": []}}
    return make_resource("s3.bucket", {**base, **config}, id=name, name=name)


def _cells(definitions: Definitions, *resources: Resource) -> dict[tuple[str, Layer], object]:
    inv = Inventory("123456789012", "aws", ("us-east-1",), tuple(resources), ())
    found = list(findings(inv, definitions.catalog, GOLDEN_NOW))
    return {(c.service, c.layer): c for c in matrix(inv, found, definitions.catalog)}


def test_aws_owned_layers_are_inherited(definitions: Definitions) -> None:
    cells = _cells(definitions, _bucket("b"))
    cell = cells[("s3", Layer.PHYSICAL)]
    assert cell.status == CellStatus.INHERITED and cell.owner == "aws"  # type: ignore[attr-defined]
    assert "Artifact" in cell.evidence  # type: ignore[attr-defined]


def test_passes_only_is_covered_and_a_fail_makes_it_partial(definitions: Definitions) -> None:
    logged = {"Logging": {"TargetBucket": "logs"}}
    assert (
        _cells(definitions, _bucket("a", **logged))[("s3", Layer.LOGGING_DETECTION)].status
        == CellStatus.COVERED
    )  # type: ignore[attr-defined]
    cell = _cells(definitions, _bucket("a", **logged), _bucket("b", Logging=None))[
        ("s3", Layer.LOGGING_DETECTION)
    ]
    assert (cell.status, cell.passed, cell.failed) == (CellStatus.PARTIAL, 1, 1)  # type: ignore[attr-defined]


def test_fails_without_a_pass_is_a_gap_even_with_unreadable_controls(
    definitions: Definitions,
) -> None:
    denied = dataclasses.replace(_bucket("b"), unreadable=frozenset({"Logging"}))
    cell = _cells(definitions, _bucket("a", Logging=None), denied)[("s3", Layer.LOGGING_DETECTION)]
    assert (cell.status, cell.failed, cell.unknown) == (CellStatus.GAP, 1, 1)  # type: ignore[attr-defined]


def test_only_unreadable_is_not_assessed(definitions: Definitions) -> None:
    denied = dataclasses.replace(_bucket("b"), unreadable=frozenset({"Logging"}))
    cell = _cells(definitions, denied)[("s3", Layer.LOGGING_DETECTION)]
    assert (cell.status, cell.reason) == (CellStatus.NOT_ASSESSED, "unreadable")  # type: ignore[attr-defined]


def test_a_layer_no_control_observes_is_not_observable(definitions: Definitions) -> None:
    cell = _cells(definitions, _bucket("a"))[("s3", Layer.ENDPOINTS)]
    assert (cell.status, cell.reason) == (CellStatus.NOT_ASSESSED, "not-observable")  # type: ignore[attr-defined]


def test_risk_absent_pass_does_not_lift_a_layer_out_of_gap(definitions: Definitions) -> None:
    # Only "bucket not public" (safeguard: false) passes on data; no safeguard is seen.
    catalog = definitions.catalog
    keep = {"data.s3.bucket-not-public"}
    trimmed = dataclasses.replace(
        definitions,
        catalog=dataclasses.replace(
            catalog, controls={k: v for k, v in catalog.controls.items() if k in keep}
        ),
    )
    cell = _cells(trimmed, _bucket("a"))[("s3", Layer.DATA)]
    assert (cell.status, cell.reason, cell.passed) == (CellStatus.GAP, "no-safeguard", 0)  # type: ignore[attr-defined]


def test_account_scoped_controls_count_for_every_service(definitions: Definitions) -> None:
    account = make_resource(
        "iam.account",
        {"Summary": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}},
        account_fact=True,
    )
    cells = _cells(definitions, account, _bucket("a"))
    assert cells[("s3", Layer.ACCESS_RIGHTS)].status == CellStatus.COVERED  # type: ignore[attr-defined]
    # An account fact does not put its own service "in use".
    assert ("iam", Layer.DATA) not in cells


def test_unlisted_type_makes_its_service_not_assessed(definitions: Definitions) -> None:
    unlisted = make_resource("s3.bucket", {}, id="*", unlisted=True, unreadable=frozenset({"*"}))
    cells = _cells(definitions, unlisted)
    cell = cells[("s3", Layer.LOGGING_DETECTION)]
    assert (cell.status, cell.resources) == (CellStatus.NOT_ASSESSED, 0)  # type: ignore[attr-defined]


@pytest.mark.parametrize("layer", list(Layer))
def test_every_layer_has_a_cell_per_service(definitions: Definitions, layer: Layer) -> None:
    assert ("s3", layer) in _cells(definitions, _bucket("a"))
