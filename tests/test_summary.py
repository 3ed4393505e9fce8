"""The gap rule v2 (DESIGN.md), unit by unit and cell by cell."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from awsresp.evaluate.findings import findings
from awsresp.model import (
    ACCOUNT_ROW,
    Cell,
    CellStatus,
    GapKind,
    Inventory,
    Layer,
    Resource,
    ServiceClass,
)
from awsresp.scan import Definitions
from awsresp.summary import matrix, ranked_gaps, undetermined_services

from .conftest import GOLDEN_NOW, make_resource

BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OPEN = dict.fromkeys(BLOCKED, False)
ENCRYPTED = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]


def _bucket(name: str, region: str = "us-east-1", **config: Any) -> Resource:
    base = {"PublicAccessBlock": BLOCKED, "PolicyStatus": None, "Acl": {"Grants": []}}
    return make_resource(
        "s3.bucket",
        {**base, **config},
        id=name,
        name=name,
        arn=f"arn:aws:s3:::{name}",
        region=region,
    )


def _fact(rtype: str, config: dict[str, Any], region: str = "global", **kw: Any) -> Resource:
    return make_resource(rtype, config, id=f"fact-{region}", region=region, account_fact=True, **kw)


def _only(definitions: Definitions, *ids: str) -> Definitions:
    """The definitions with only these controls, so a test sees exactly what it sets up."""
    catalog = definitions.catalog
    missing = set(ids) - set(catalog.controls)
    assert not missing, missing
    trimmed = {k: v for k, v in catalog.controls.items() if k in ids}
    return dataclasses.replace(definitions, catalog=dataclasses.replace(catalog, controls=trimmed))


def _cells(
    definitions: Definitions, *resources: Resource, services: tuple[str, ...] = ()
) -> dict[tuple[str, Layer], Cell]:
    inv = Inventory("123456789012", "aws", ("us-east-1",), tuple(resources), (), services=services)
    found = list(findings(inv, definitions.catalog, GOLDEN_NOW))
    return {(c.service, c.layer): c for c in matrix(inv, found, definitions.catalog)}


def _counts(cell: Cell) -> tuple[str, int, int, int, int, int]:
    return (
        cell.status.value,
        cell.resources,
        cell.controlled,
        cell.exposed,
        cell.weak,
        cell.unreadable,
    )


BPA = "data.s3.bucket-blocks-public-access"  # high, safeguard
NOT_PUBLIC = "data.s3.bucket-not-public"  # critical, safeguard: false
ENCRYPTION = "data.s3.bucket-default-encryption"  # medium, safeguard
VERSIONING = "data.s3.bucket-versioning-enabled"  # low, safeguard
ACCOUNT_BPA = "data.s3.account-blocks-public-access"  # setting, protects [s3], covers BPA


def test_aws_owned_layers_are_inherited(definitions: Definitions) -> None:
    cell = _cells(definitions, _bucket("b"))[("s3", Layer.PHYSICAL)]
    assert cell.status == CellStatus.INHERITED and cell.owner == "aws"
    assert "Artifact" in cell.evidence


def test_a_passing_safeguard_makes_a_unit_controlled_even_beside_a_low_failure(
    definitions: Definitions,
) -> None:
    d = _only(definitions, BPA, VERSIONING)
    cell = _cells(d, _bucket("a", Versioning={"Status": "Suspended"}))[("s3", Layer.DATA)]
    assert _counts(cell) == ("covered", 1, 1, 0, 0, 0)
    assert (cell.coverage, cell.worst) == (100, "low")


def test_a_failing_high_control_exposes_the_resource_whatever_else_passes(
    definitions: Definitions,
) -> None:
    d = _only(definitions, BPA, ENCRYPTION)
    exposed = _bucket("open", PublicAccessBlock=OPEN, Encryption=ENCRYPTED)
    fine = _bucket("fine", Encryption=ENCRYPTED)
    cell = _cells(d, exposed, fine)[("s3", Layer.DATA)]
    assert _counts(cell) == ("partial", 2, 1, 1, 0, 0)
    assert (cell.coverage, cell.worst, cell.reason) == (50, "high", "exposed")


def test_a_risk_check_exposes_but_never_controls(definitions: Definitions) -> None:
    d = _only(definitions, NOT_PUBLIC, ENCRYPTION)
    public = _bucket(
        "pub", PublicAccessBlock=OPEN, PolicyStatus={"IsPublic": True}, Encryption=ENCRYPTED
    )
    plain = _bucket("plain", Encryption=None)
    cell = _cells(d, public, plain)[("s3", Layer.DATA)]
    assert _counts(cell) == ("gap", 2, 0, 1, 1, 0)
    assert (cell.worst, cell.reason) == ("critical", "exposed")


def test_only_passing_risk_checks_leave_the_unit_out(definitions: Definitions) -> None:
    d = _only(definitions, NOT_PUBLIC)
    cell = _cells(d, _bucket("a"))[("s3", Layer.DATA)]
    assert (cell.status, cell.reason, cell.resources) == (
        CellStatus.NOT_ASSESSED,
        "risk-checks-only",
        0,
    )


def test_weak_unit_has_only_medium_or_low_failures(definitions: Definitions) -> None:
    d = _only(definitions, ENCRYPTION, VERSIONING)
    cell = _cells(d, _bucket("a", Encryption=None, Versioning=None))[("s3", Layer.DATA)]
    assert _counts(cell) == ("gap", 1, 0, 0, 1, 0)
    assert (cell.reason, cell.worst) == ("weak", "medium")


def test_an_unknown_grave_control_makes_the_unit_unreadable(definitions: Definitions) -> None:
    d = _only(definitions, BPA, ENCRYPTION)
    denied = dataclasses.replace(
        _bucket("a", Encryption=ENCRYPTED), unreadable=frozenset({"PublicAccessBlock"})
    )
    cell = _cells(d, denied)[("s3", Layer.DATA)]
    assert _counts(cell) == ("not-assessed", 1, 0, 0, 0, 1)
    assert cell.reason == "unreadable"


def test_unreadable_units_do_not_rescue_a_gap(definitions: Definitions) -> None:
    d = _only(definitions, ENCRYPTION)
    denied = dataclasses.replace(_bucket("b"), unreadable=frozenset({"Encryption"}))
    cell = _cells(d, _bucket("a", Encryption=None), denied)[("s3", Layer.DATA)]
    assert _counts(cell) == ("gap", 2, 0, 0, 1, 1)


def test_a_layer_no_control_observes_is_not_observable(definitions: Definitions) -> None:
    cell = _cells(definitions, _bucket("a"))[("s3", Layer.ENDPOINTS)]
    assert (cell.status, cell.reason) == (CellStatus.NOT_ASSESSED, "not-observable")


def test_an_account_setting_counts_once_per_region_and_is_never_exposed(
    definitions: Definitions,
) -> None:
    d = _only(definitions, ENCRYPTION, ACCOUNT_BPA)
    setting = _fact("s3.account-public-access-block", {"PublicAccessBlock": OPEN})
    cell = _cells(d, _bucket("a", Encryption=ENCRYPTED), setting)[("s3", Layer.DATA)]
    # The failing setting (high) is weak, not exposed; the bucket is controlled.
    assert _counts(cell) == ("partial", 2, 1, 0, 1, 0)
    assert cell.reason == "weak"


def test_a_passing_setting_covers_what_it_declares_and_nothing_else(
    definitions: Definitions,
) -> None:
    d = _only(definitions, BPA, ENCRYPTION, ACCOUNT_BPA)
    bucket = _bucket("a", PublicAccessBlock=OPEN, Encryption=None)
    on = _fact("s3.account-public-access-block", {"PublicAccessBlock": BLOCKED})
    cell = _cells(d, bucket, on)[("s3", Layer.DATA)]
    # The bucket-level BPA failure does not count; its missing encryption still does.
    assert _counts(cell) == ("partial", 2, 1, 0, 1, 0)
    assert "covered by an account setting: data.s3.bucket-blocks-public-access x1" in (
        cell.evidence
    )
    off = _fact("s3.account-public-access-block", {"PublicAccessBlock": OPEN})
    cell = _cells(d, bucket, off)[("s3", Layer.DATA)]
    assert _counts(cell) == ("gap", 2, 0, 1, 1, 0)


def test_ebs_default_encryption_covers_no_volume(definitions: Definitions) -> None:
    d = _only(definitions, "data.ec2.volume-encrypted", "data.ec2.ebs-encryption-by-default")
    volume = make_resource("ec2.volume", {"Encrypted": False}, id="vol-1")
    default_on = _fact("ec2.ebs-encryption-default", {"EbsEncryptionByDefault": True}, "us-east-1")
    cell = _cells(d, volume, default_on)[("ec2", Layer.DATA)]
    assert _counts(cell) == ("partial", 2, 1, 0, 1, 0)


def _baseline(mfa: int = 0) -> Resource:
    return _fact(
        "iam.account",
        {
            "Summary": {"AccountMFAEnabled": mfa, "AccountAccessKeysPresent": 0},
            "PasswordPolicy": None,
            "CredentialReport": [{"user": "alice", "password_enabled": True}],
            "SamlProviders": [],
            "OpenIdConnectProviders": [],
        },
    )


def test_the_baseline_counts_once_on_the_account_row(definitions: Definitions) -> None:
    cells = _cells(definitions, _baseline(), _bucket("a"))
    account = cells[(ACCOUNT_ROW, Layer.IDENTITY_DIRECTORY)]
    # Root MFA, root hardware MFA, password length, reuse and complexity, federation.
    assert account.status == CellStatus.GAP and account.resources == 6
    assert account.worst == "critical"
    s3 = cells[("s3", Layer.IDENTITY_DIRECTORY)]
    assert (s3.status, s3.reason, s3.resources, s3.evidence) == (
        CellStatus.GAP,
        "via-account",
        0,
        "",
    )
    gaps = ranked_gaps(list(cells.values()))
    identity = [g for g in gaps if g.cell.layer == Layer.IDENTITY_DIRECTORY]
    assert len(identity) == 1 and identity[0].cell.service == ACCOUNT_ROW
    assert identity[0].affects == ("s3",)
    # An account fact does not put its own service in use.
    assert ("iam", Layer.DATA) not in cells


def test_a_service_cell_with_units_of_its_own_ignores_the_baseline(
    definitions: Definitions,
) -> None:
    user = make_resource(
        "iam.user",
        {"Credentials": {"password_enabled": True, "mfa_active": True}},
        id="alice",
    )
    cells = _cells(definitions, _baseline(), user)
    cell = cells[("iam", Layer.IDENTITY_DIRECTORY)]
    assert _counts(cell) == ("covered", 1, 1, 0, 0, 0)
    assert "root-mfa" not in cell.evidence


def test_no_cell_takes_evidence_from_a_control_that_does_not_protect_it(
    definitions: Definitions,
) -> None:
    resources = [
        _baseline(),
        _bucket("a", PublicAccessBlock=OPEN),
        _fact("s3.account-public-access-block", {"PublicAccessBlock": OPEN}),
        _fact("ec2.ebs-encryption-default", {"EbsEncryptionByDefault": False}, "us-east-1"),
        make_resource("ec2.volume", {"Encrypted": False}, id="vol-1"),
        make_resource("dynamodb.table", {"ContinuousBackups": None}, id="t"),
        _fact("cloudtrail.account", {"Trails": []}),
    ]
    catalog = definitions.catalog
    for cell in _cells(definitions, *resources).values():
        for control_id in re.findall(r"([a-z-]+\.[a-z0-9-]+\.[a-z0-9-]+) x\d+", cell.evidence):
            assert cell.service in catalog.controls[control_id].scope, (cell, control_id)


def test_a_cell_whose_evidence_comes_from_an_unscanned_service_is_not_scanned(
    definitions: Definitions,
) -> None:
    instance = make_resource(
        "ec2.instance",
        {"State": {"Name": "running"}, "MetadataOptions": {"HttpTokens": "optional"}},
        id="i-1",
    )
    # Inspector and SSM also decide EC2's operating-system cell; a scan of EC2 alone would
    # call it a gap that a full scan might not have.
    cells = _cells(definitions, instance, services=("ec2",))
    cell = cells[("ec2", Layer.OPERATING_SYSTEM)]
    assert (cell.status, cell.reason, cell.exposed) == (CellStatus.NOT_ASSESSED, "not-scanned", 1)
    gaps = ranked_gaps(list(cells.values()))
    os_gaps = [g.kind for g in gaps if g.cell.layer == Layer.OPERATING_SYSTEM]
    assert os_gaps == [GapKind.EXPOSURE]
    # Scanning them too makes it a gap.
    full = _cells(definitions, instance, services=("ec2", "inspector2", "ssm"))
    assert full[("ec2", Layer.OPERATING_SYSTEM)].status == CellStatus.GAP


def _synthetic(service: str, status: CellStatus, exposed: int, weak: int, worst: str) -> Cell:
    controlled = 1 if status == CellStatus.PARTIAL else 0
    return Cell(
        "123456789012",
        Layer.DATA,
        service,
        ServiceClass.ABSTRACTED,
        "customer",
        status,
        exposed + weak + controlled,
        controlled,
        exposed,
        weak,
        0,
        0,
        worst,
        "exposed" if exposed else "weak",
        "",
    )


def test_gaps_rank_exposed_before_weak_then_by_severity_then_by_units() -> None:
    cells = [
        _synthetic("weak-critical", CellStatus.GAP, 0, 1, "critical"),
        _synthetic("exposed-high-1", CellStatus.GAP, 1, 0, "high"),
        _synthetic("exposed-high-3", CellStatus.GAP, 2, 1, "high"),
        _synthetic("exposed-critical", CellStatus.GAP, 1, 0, "critical"),
        _synthetic("partial-exposed", CellStatus.PARTIAL, 1, 0, "critical"),
        _synthetic("partial-weak", CellStatus.PARTIAL, 0, 1, "medium"),
    ]
    assert [(g.kind.value, g.cell.service) for g in ranked_gaps(cells)] == [
        ("gap", "exposed-critical"),
        ("gap", "exposed-high-3"),
        ("gap", "exposed-high-1"),
        ("gap", "weak-critical"),
        ("exposure", "partial-exposed"),
    ]


def test_a_type_that_could_not_be_listed_is_an_unreadable_unit_of_a_service_in_use(
    definitions: Definitions,
) -> None:
    d = _only(definitions, ENCRYPTION, "data.s3.account-blocks-public-access")
    unlisted = make_resource("s3.bucket", {}, id="*", unlisted=True, unreadable=frozenset("*"))
    # Alone, the service is not in use: no row, and it is named as undetermined.
    inv = Inventory("123456789012", "aws", ("us-east-1",), (unlisted,), ())
    assert undetermined_services(inv) == [("123456789012", "s3")]
    assert ("s3", Layer.DATA) not in _cells(d, unlisted)
    # Beside a listed bucket (another region listed fine) it is one unreadable unit.
    cell = _cells(d, unlisted, _bucket("a", Encryption=ENCRYPTED))[("s3", Layer.DATA)]
    assert _counts(cell) == ("partial", 2, 1, 0, 0, 1)


@pytest.mark.parametrize("layer", list(Layer))
def test_every_layer_has_a_cell_per_row(definitions: Definitions, layer: Layer) -> None:
    cells = _cells(definitions, _bucket("a"))
    assert ("s3", layer) in cells and (ACCOUNT_ROW, layer) in cells


def test_a_setting_gap_on_a_service_with_two_class_rows_is_listed_once(
    definitions: Definitions,
) -> None:
    """Lambda zip and image functions are two class rows; GuardDuty Lambda Protection off
    shows on both (the matrix is right), but the gap list names the one cause once."""
    d = _only(definitions, "logging-detection.guardduty.lambda-protection-enabled")
    zipped = make_resource("lambda.function", {"PackageType": "Zip"}, id="f-zip")
    image = make_resource("lambda.function", {"PackageType": "Image"}, id="f-image")
    off = _fact(
        "guardduty.detection",
        {"Detectors": [{"DetectorId": "d1", "Status": "ENABLED", "Features": []}]},
        "us-east-1",
    )
    inv = Inventory("123456789012", "aws", ("us-east-1",), (zipped, image, off), ())
    found = list(findings(inv, d.catalog, GOLDEN_NOW))
    cells = [
        c
        for c in matrix(inv, found, d.catalog)
        if (c.service, c.layer) == ("lambda", Layer.LOGGING_DETECTION)
    ]
    assert {(c.service_class.value, c.status.value) for c in cells} == {
        ("abstracted", "gap"),
        ("container", "gap"),
    }
    gaps = [g for g in ranked_gaps(cells) if g.cell.service == "lambda"]
    assert len(gaps) == 1
    assert gaps[0].cell.settings_only
    # A resource's own failures are never merged: its cell is not settings-only.
    d = _only(definitions, "application.lambda.code-signing-enabled")
    inv = Inventory(
        "123456789012",
        "aws",
        ("us-east-1",),
        (make_resource("lambda.function", {"PackageType": "Zip"}, id="a"),),
        (),
    )
    found = list(findings(inv, d.catalog, GOLDEN_NOW))
    own = [g for g in ranked_gaps(matrix(inv, found, d.catalog)) if g.cell.service == "lambda"]
    assert len(own) == 1 and not own[0].cell.settings_only
