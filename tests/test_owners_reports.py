"""The reports of a scan with an owners file and accepted risks: report.html and report.xlsx
show the parties (one matrix row per party where tags split a service), the framework views
and owners; OCSF reports an accepted risk as a suppressed failure."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import openpyxl
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from awsresp.export.html import render_html
from awsresp.export.ocsf import render_ocsf
from awsresp.export.report import scan_file
from awsresp.export.view import View
from awsresp.export.xlsx import render_xlsx
from awsresp.model import Inventory, Resource
from awsresp.scan import Definitions, evaluate

from .conftest import make_resource

NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
OWNERS = """\
tag_key: team
parties: [{name: Payments, contact: pay@example.com, contract: OLA-9}]
rules: [{party: Payments, tag: payments}]
"""
ACCEPT = """\
accepted:
  - control: logging-detection.s3.bucket-access-logging
    resource: pay-bucket
    reason: logs kept by the payment processor
    approver: CISO
    expires: 2027-01-01
"""


def _bucket(name: str, tags: dict[str, str] | None = None) -> Resource:
    return make_resource(
        "s3.bucket",
        {"Logging": None, "Encryption": []},
        id=name,
        name=name,
        arn=f"arn:aws:s3:::{name}",
        tags=tags or {},
    )


def _scan(definitions: Definitions) -> Any:
    d = definitions.with_files(("owners.yaml", OWNERS), ("accept.yaml", ACCEPT))
    inv = Inventory(
        "123456789012",
        "aws",
        ("us-east-1",),
        (_bucket("pay-bucket", {"team": "payments"}), _bucket("other-bucket")),
        (),
        services=("s3",),
    )
    return scan_file(evaluate(inv, d, NOW))


def test_the_report_view_splits_a_service_by_party(definitions: Definitions) -> None:
    scan = _scan(definitions)
    rows = {(r.service, r.party) for r in View.of(scan).rows}
    assert {("s3", "customer"), ("s3", "Payments")} <= rows
    labels = [r.label for r in View.of(scan).rows if r.service == "s3"]
    assert sorted(labels) == ["s3 [Payments]", "s3 [customer]"]
    # Every cell of the scan is on exactly one row (AWS's layers repeat on each party's).
    shown = {id(c) for r in View.of(scan).rows for c in r.cells if c is not None}
    assert {id(c) for c in scan.matrix} <= shown


def test_report_html_names_parties_frameworks_and_accepted_risks(
    definitions: Definitions,
) -> None:
    scan = _scan(definitions)
    page = render_html(scan)
    assert "s3 [Payments]" in page and '<span class="own">Payments</span>' in page
    assert '<section id="frameworks">' in page
    assert "<strong>pci-dss-4.0</strong>: 63 requirements" in page
    assert '<label>Party<select id="f-owner">' in page
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    assert {m["o"] for m in data["matrix"]} >= {"Payments", "customer"}


def test_report_xlsx_has_owners_and_frameworks_sheets(definitions: Definitions) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(_scan(definitions))))
    assert "Owners" in book.sheetnames and "Frameworks" in book.sheetnames
    owners = [[c.value for c in row] for row in book["Owners"].iter_rows()]
    assert owners[0][:3] == ["party", "contact", "contract"]
    payments = next(r for r in owners if r[0] == "Payments")
    assert payments[1:3] == ["pay@example.com", "OLA-9"]
    frameworks = list(book["Frameworks"].iter_rows(values_only=True))
    assert len(frameworks) == 1 + 63 + 61 + 38 + 177
    findings = list(book["Findings"].iter_rows(values_only=True))
    header = list(findings[0])
    accepted = [r for r in findings[1:] if r[header.index("status")] == "accepted"]
    assert [r[header.index("accepted_by")] for r in accepted] == ["CISO"]


def test_ocsf_reports_an_accepted_risk_as_a_suppressed_failure(definitions: Definitions) -> None:
    events = json.loads(render_ocsf(_scan(definitions)))
    accepted = [e for e in events if e["unmapped"]["awsresp"]["status"] == "accepted"]
    assert len(accepted) == 1
    event = accepted[0]
    assert (event["status_id"], event["status"], event["compliance"]["status_id"]) == (
        3,
        "Suppressed",
        3,
    )
    assert event["unmapped"]["awsresp"]["party"] == "Payments"
    assert event["unmapped"]["awsresp"]["accepted"]["until"] == "2027-01-01"
    body = {k: v for k, v in event.items() if k != "cloud"}
    model = ComplianceFinding.model_validate(body)
    assert model.model_dump(mode="json", exclude_unset=True) == body
