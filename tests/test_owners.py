"""The owners file: validation with file and line, rule precedence, AWS's layers, tag-split
cells, owners.csv, --owner slices and ownership changes in diff."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.session import Target
from awsresp.diff import diff_scans
from awsresp.evaluate.owners import Assigner, Level
from awsresp.evaluate.userfile import UserFileError
from awsresp.export.owners import owner_rows
from awsresp.export.scanjson import scan_document
from awsresp.model import ACCOUNT_ROW, Inventory, Layer, Resource, ScanResult
from awsresp.owner_view import for_parties
from awsresp.scan import Definitions, evaluate, scan_account
from awsresp.scanfile import parse_scan

from .conftest import GOLDEN_NOW, make_resource, run_cli

ACCOUNT = "123456789012"
OTHER = "210987654321"

OWNERS = """\
tag_key: team
parties:
  - name: Acme MSP
    contact: noc@acme.example
    contract: MSA 2026 schedule B
    review: 2027-03-31
  - name: Payments
    contact: payments@example.com
  - name: Platform
rules:
  - party: Acme MSP
    services: [ec2]
    layers: [operating-system]
  - party: Platform
    account: "210987654321"
  - party: Payments
    tag: payments
  - party: Platform
    ou: Root/Prod
"""


def _owners(definitions: Definitions, text: str = OWNERS) -> Definitions:
    return definitions.with_files(("owners.yaml", text))


def _error(definitions: Definitions, text: str) -> str:
    with pytest.raises(UserFileError) as err:
        _owners(definitions, text)
    return str(err.value)


# --- validation: every error names the file and the line ---------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parties: [{name: A}]\nrules:\n  - {party: B}\n", "owners.yaml: line 3: party 'B' is not"),
        (
            "parties: [{name: A}]\nrules:\n  - party: A\n    layers: [os]\n",
            "owners.yaml: line 4: unknown layer 'os'",
        ),
        (
            "parties: [{name: A}]\nrules:\n  - party: A\n    services: [ec3]\n",
            "owners.yaml: line 4: unknown service(s) ec3",
        ),
        (
            "parties: [{name: A}]\nrules:\n  - party: A\n    account: 12345\n",
            "owners.yaml: line 4: account '12345' is not a 12-digit account id",
        ),
        (
            "parties: [{name: A}]\nrules:\n  - party: A\n    tag: payments\n",
            "owners.yaml: line 4: 'tag: VALUE' needs 'tag_key'",
        ),
        (
            "parties: [{name: A}]\nrules:\n  - party: A\n    colour: blue\n",
            "owners.yaml: line 4: rule: unknown key(s) colour",
        ),
        ("parties:\n  - name: A\n  - name: A\n", "owners.yaml: line 3: party 'A' is listed twice"),
        ("parties:\n  - name: aws\n", "owners.yaml: line 2: 'aws' is not a party"),
        (
            "parties:\n  - name: A\n    review: someday\n",
            "owners.yaml: line 3: 'review' must be a date",
        ),
        ("parties: [{name: A}\nrules: x\n", "owners.yaml: line 2: not valid YAML"),
        ("rules: {party: A}\n", "owners.yaml: line 1: 'rules' must be a list"),
        ("", "owners.yaml: the file is empty"),
    ],
)
def test_owners_file_errors_name_the_file_and_the_line(
    definitions: Definitions, text: str, message: str
) -> None:
    assert message in _error(definitions, text)


def test_a_rule_never_takes_a_layer_from_aws(definitions: Definitions) -> None:
    # S3's operating system is AWS's for every class S3 has: the rule can apply nowhere.
    text = (
        "parties: [{name: A}]\nrules:\n  - party: A\n"
        "    services: [s3]\n    layers: [operating-system]\n"
    )
    message = _error(definitions, text)
    assert "owners.yaml: line 5: operating-system of s3 is AWS's" in message
    assert "never AWS's" in message
    # Physical is AWS's everywhere, whatever the services.
    assert "physical is AWS's" in _error(
        definitions, "parties: [{name: A}]\nrules: [{party: A, layers: [physical]}]\n"
    )


def test_a_rule_partly_over_aws_layers_is_a_warning(definitions: Definitions) -> None:
    text = (
        "parties: [{name: A}]\nrules:\n  - party: A\n"
        "    services: [ec2, s3]\n    layers: [operating-system]\n"
    )
    owners = _owners(definitions, text).owners
    assert owners.warnings == (
        "owners.yaml: line 3: operating-system of s3 is AWS's: the rule for A does not apply there",
    )
    # And it does not: the party holds EC2's operating system, never S3's.
    assert owners.party("customer", ACCOUNT, "ec2", Layer.OPERATING_SYSTEM, {})[0] == "A"
    assert owners.party("aws", ACCOUNT, "s3", Layer.OPERATING_SYSTEM, {})[0] == "aws"


# --- precedence: tag over account over OU over service default ---------------------------


@dataclass(frozen=True)
class Facts:
    ou_path: str


def test_precedence_tag_over_account_over_ou_over_service(definitions: Definitions) -> None:
    owners = _owners(definitions).owners
    assert [r.level for r in owners.rules] == [Level.TAG, Level.ACCOUNT, Level.OU, Level.SERVICE]
    os_ = Layer.OPERATING_SYSTEM

    def party(account: str, tags: dict[str, str], ou: str = "") -> str:
        return owners.party("customer", account, "ec2", os_, tags, ou)[0]

    # Every level matches: the tag wins; then the account; then the OU; then the service.
    assert party(OTHER, {"team": "payments"}, "Root/Prod/Web") == "Payments"
    assert party(OTHER, {"team": "web"}, "Root/Prod/Web") == "Platform"  # account rule
    assert party(ACCOUNT, {}, "Root/Prod/Web") == "Platform"  # OU rule (and below it)
    assert party(ACCOUNT, {}, "Root/Production") == "Acme MSP"  # not under Root/Prod
    assert party(ACCOUNT, {}) == "Acme MSP"  # service default
    # No rule for the layer: the customer.
    assert owners.party("customer", ACCOUNT, "ec2", Layer.DATA, {})[0] == "customer"
    # AWS's layers stay AWS's, even where a rule for every layer matches.
    assert owners.party("aws", OTHER, "ec2", Layer.PHYSICAL, {"team": "payments"})[0] == "aws"


def test_within_a_level_the_first_rule_in_the_file_wins(definitions: Definitions) -> None:
    text = (
        "tag_key: team\nparties: [{name: A}, {name: B}]\nrules:\n"
        "  - {party: A, tag: {team: 'pay*'}}\n  - {party: B, tag: payments}\n"
    )
    owners = _owners(definitions, text).owners
    assert owners.party("customer", ACCOUNT, "s3", Layer.DATA, {"team": "payments"})[0] == "A"


def test_ou_rules_use_the_accounts_ou_when_an_organization_scan_knows_it(
    definitions: Definitions,
) -> None:
    owners = _owners(definitions).owners
    known = Assigner(owners, {ACCOUNT: Facts("Root/Prod/Payments")})
    assert known.party("customer", ACCOUNT, "s3", Layer.DATA, {}) == "Platform"
    unknown = Assigner(owners)
    assert unknown.party("customer", ACCOUNT, "s3", Layer.DATA, {}) == "customer"
    warned = unknown.unused_rules(["s3", "ec2"])
    assert any(
        "line 18: the rule for Platform matched nothing" in w and "organization scan" in w
        for w in warned
    )


# --- the gap rule per party ---------------------------------------------------------------

BLOCKED = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)


def _bucket(name: str, tags: dict[str, str] | None = None, **config: Any) -> Resource:
    base = {"PublicAccessBlock": BLOCKED, "PolicyStatus": None, "Acl": {"Grants": []}}
    return make_resource(
        "s3.bucket",
        {**base, **config},
        id=name,
        name=name,
        arn=f"arn:aws:s3:::{name}",
        tags=tags or {},
    )


def _result(definitions: Definitions, *resources: Resource) -> ScanResult:
    inv = Inventory(ACCOUNT, "aws", ("us-east-1",), resources, (), services=("s3",))
    return evaluate(inv, definitions, GOLDEN_NOW)


def test_tag_rules_split_a_cell_and_each_party_is_judged_on_its_units(
    definitions: Definitions,
) -> None:
    d = _owners(definitions)
    result = _result(
        d,
        _bucket("pay-open", {"team": "payments"}, PublicAccessBlock=dict.fromkeys(BLOCKED, False)),
        _bucket("shared-closed"),
    )
    data = {c.party: c for c in result.cells if c.service == "s3" and c.layer == Layer.DATA}
    assert set(data) == {"customer", "Payments"}
    assert data["Payments"].resources == 1 and data["Payments"].exposed == 1
    assert data["customer"].exposed == 0 and data["customer"].resources == 1
    # The account-row cells stay the customer's (no rule names the account row's layers).
    assert {c.party for c in result.cells if c.service == ACCOUNT_ROW} <= {"customer", "aws"}
    findings = {f.resource.id: f.party for f in result.findings if f.layer == Layer.DATA}
    assert findings == {"pay-open": "Payments", "shared-closed": "customer"}
    exposed = [g for g in result.exposures + result.gaps if g.cell.party == "Payments"]
    assert exposed and all(g.cell.service == "s3" for g in exposed)


def test_owners_csv_summarises_each_party(definitions: Definitions) -> None:
    d = _owners(definitions)
    result = _result(
        d,
        _bucket("pay-open", {"team": "payments"}, PublicAccessBlock=dict.fromkeys(BLOCKED, False)),
        _bucket("shared-closed"),
    )
    rows = {r["party"]: r for r in owner_rows(result)}
    assert list(rows) == ["customer", "Acme MSP", "Payments", "Platform", "aws"]
    pay = rows["Payments"]
    assert pay["contact"] == "payments@example.com"
    assert pay["worst"] == "high" and pay["findings_fail"] >= 1
    assert pay["gaps"] + pay["exposures"] >= 1
    assert "data: s3" in pay["layers"]
    msp = rows["Acme MSP"]
    assert (msp["contract"], msp["review"], msp["cells"]) == (
        "MSA 2026 schedule B",
        "2027-03-31",
        0,
    )
    assert rows["aws"]["inherited"] == rows["aws"]["cells"] > 0
    assert scan_document(result)["owners"] == list(owner_rows(result))


def test_a_slice_keeps_only_what_the_party_answers_for(definitions: Definitions) -> None:
    d = _owners(definitions)
    result = _result(d, _bucket("pay", {"team": "payments"}), _bucket("other"))
    mine = for_parties(result, ["Payments"], d.frameworks)
    assert mine.findings and {f.party for f in mine.findings} == {"Payments"}
    assert {c.party for c in mine.cells} == {"Payments"}
    assert [r.id for r in mine.inventory.resources] == ["pay"]
    assert len(mine.classes) == len(mine.inventory.resources)
    assert [p.name for p in mine.parties] == ["Payments"]
    assert mine.requirements and all(r.parties == ("Payments",) for r in mine.requirements)


# --- a seeded account (moto, in process) --------------------------------------------------


def test_tag_based_ownership_on_a_seeded_account(definitions: Definitions) -> None:
    text = (
        "tag_key: team\nparties: [{name: Payments}, {name: Data team}]\nrules:\n"
        "  - {party: Payments, tag: payments}\n"
        "  - {party: Data team, tag: {cost-center: 'CC-4*'}, layers: [data]}\n"
    )
    d = _owners(definitions, text).select(["s3", "ec2"])
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for name, tags in (
            ("pay-bucket", {"team": "payments"}),
            ("lake-bucket", {"cost-center": "CC-42"}),
            ("plain-bucket", {}),
        ):
            s3.create_bucket(Bucket=name)
            if tags:
                tagset = [{"Key": k, "Value": v} for k, v in tags.items()]
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tagset})
        ec2 = boto3.client("ec2", region_name="us-east-1")
        image = ec2.describe_images(Owners=["amazon"])["Images"]
        ami = image[0]["ImageId"] if image else "ami-12c6146b"
        ec2.run_instances(
            ImageId=ami,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "payments"}]}
            ],
        )
        result = scan_account(Target(boto3.Session(region_name="us-east-1")), d, ["us-east-1"])
    by_resource: dict[str, set[tuple[str, str]]] = {}
    for f in result.findings:
        by_resource.setdefault(f.resource.id, set()).add((f.layer.value, f.party))
    assert {p for _l, p in by_resource["pay-bucket"]} == {"Payments"}
    lake = by_resource["lake-bucket"]
    assert ("data", "Data team") in lake and all(
        p == "customer" for layer, p in lake if layer != "data"
    )
    assert {p for _l, p in by_resource["plain-bucket"]} == {"customer"}
    instance = next(r for r in result.inventory.resources if r.type == "ec2.instance")
    assert {f.party for f in result.findings if f.resource is instance} == {"Payments"}
    s3_data = {c.party for c in result.cells if c.service == "s3" and c.layer == Layer.DATA}
    assert s3_data == {"customer", "Data team", "Payments"}
    assert not result.warnings


# --- the command line ----------------------------------------------------------------------


def test_cli_refuses_a_malformed_owners_file_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "owners.yaml"
    path.write_text("parties: [{name: A}]\nrules:\n  - party: A\n    layers: [kernel]\n")
    result = run_cli(["scan", "--sandbox", "-q", "--owners", str(path), "-o", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"awsresp: error: {path}: line 4: unknown layer 'kernel' (one of: "
                     + ", ".join(Layer) + ")"]  # fmt: skip
    missing = run_cli(["scan", "-q", "--owners", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "nope.yaml: cannot read" in missing.stderr


def test_cli_refuses_an_unknown_owner_name(tmp_path: Path) -> None:
    path = tmp_path / "owners.yaml"
    path.write_text("parties: [{name: Acme MSP}]\nrules: [{party: Acme MSP, services: [ec2]}]\n")
    result = run_cli(["scan", "-q", "--owners", str(path), "--owner", "Acme", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "awsresp: error: --owner: unknown party 'Acme'; known: customer, aws, Acme MSP"
    )


# --- diff: a layer that changes hands is a change -----------------------------------------


def _doc(result: ScanResult) -> dict[str, Any]:
    return json.loads(json.dumps(scan_document(result), default=str))


def test_diff_reports_a_layer_moving_from_the_customer_to_a_provider(
    definitions: Definitions,
) -> None:
    buckets = (_bucket("a"), _bucket("b"))
    before = _doc(_result(definitions, *buckets))
    text = (
        "parties: [{name: Acme MSP}]\nrules: [{party: Acme MSP, services: [s3], layers: [data]}]\n"
    )
    after = _doc(_result(_owners(definitions, text), *buckets))
    d = diff_scans(parse_scan(before), parse_scan(after), "old", "new")
    moved = [c.row for c in d.changes if c.change == "owner-changed"]
    assert moved == [
        {
            "account_id": ACCOUNT,
            "layer": "data",
            "service": "s3",
            "old_owner": "customer",
            "new_owner": "customer",
            "old_party": "customer",
            "new_party": "Acme MSP",
        }
    ]
    assert not d.regressed
    assert {c.change for c in d.changes} == {"owner-changed"}
    # A scan written before the owners file (no party column) reads as the customer's.
    for row in before["matrix"]:
        del row["party"]
    assert [
        c.row["old_party"]
        for c in diff_scans(parse_scan(before), parse_scan(after), "o", "n").changes
    ] == ["customer"]


def test_diff_table_names_the_parties(definitions: Definitions) -> None:
    from awsresp.diff import render_diff

    buckets = (_bucket("a"),)
    before = _doc(_result(definitions, *buckets))
    text = (
        "parties: [{name: Acme MSP}]\nrules: [{party: Acme MSP, services: [s3], layers: [data]}]\n"
    )
    after = _doc(_result(_owners(definitions, text), *buckets))
    table = render_diff(diff_scans(parse_scan(before), parse_scan(after), "old", "new"), "table")
    assert "owner-changed" in table and "customer (customer)" not in table
    assert "Acme MSP (customer)" in table
    rows = list(
        csv.DictReader(
            io.StringIO(
                render_diff(diff_scans(parse_scan(before), parse_scan(after), "o", "n"), "csv")
            )
        )
    )
    assert rows[0]["change"] == "owner-changed" and rows[0]["new_party"] == "Acme MSP"


def test_owner_columns_are_stable() -> None:
    from awsresp.export.owners import OWNER_COLUMNS
    from awsresp.export.tables import FINDING_COLUMNS, GAP_COLUMNS, MATRIX_COLUMNS

    assert FINDING_COLUMNS[FINDING_COLUMNS.index("owner") + 1] == "party"
    assert MATRIX_COLUMNS[MATRIX_COLUMNS.index("owner") + 1] == "party"
    assert "party" in GAP_COLUMNS and "accepted" in MATRIX_COLUMNS
    assert OWNER_COLUMNS[:5] == ["party", "contact", "contract", "review", "layers"]


def test_scan_result_parties_come_from_the_owners_file(definitions: Definitions) -> None:
    result = _result(_owners(definitions), _bucket("x"))
    assert [p.name for p in result.parties] == ["Acme MSP", "Payments", "Platform"]
    assert dataclasses.asdict(result.parties[0])["review"] == "2027-03-31"
