"""Accepted risks with a fixed clock: validation with file and line, `accepted` never a pass,
how an accepted finding enters the gap rule, expiry (failing again, with a warning), diff."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from awsresp.diff import diff_scans
from awsresp.evaluate.userfile import UserFileError
from awsresp.export.scanjson import scan_document
from awsresp.export.tables import finding_row
from awsresp.model import CellStatus, FindingStatus, Inventory, Layer, Resource, ScanResult
from awsresp.scan import Definitions, evaluate
from awsresp.scanfile import parse_scan

from .conftest import make_resource, run_cli

ACCOUNT = "123456789012"
LOGGING = "logging-detection.s3.bucket-access-logging"
BEFORE = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)  # three days before the expiry
ON_EXPIRY = dt.datetime(2026, 12, 1, 0, 0, 1, tzinfo=dt.UTC)

ACCEPT = f"""\
accepted:
  - control: {LOGGING}
    resource: "arn:aws:s3:::site-*"
    reason: Static website; the CDN logs requests
    approver: J. Doe (CISO)
    expires: 2026-12-01
"""

BLOCKED = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)


def _bucket(name: str, logging: bool = False, **config: Any) -> Resource:
    base: dict[str, Any] = {
        "PublicAccessBlock": BLOCKED,
        "PolicyStatus": None,
        "Acl": {"Grants": []},
        "Logging": {"TargetBucket": "logs"} if logging else None,
    }
    return make_resource(
        "s3.bucket", {**base, **config}, id=name, name=name, arn=f"arn:aws:s3:::{name}"
    )


def _accepting(definitions: Definitions, text: str = ACCEPT) -> Definitions:
    return definitions.with_files(accept=("accept.yaml", text))


def _scan(definitions: Definitions, now: dt.datetime, *resources: Resource) -> ScanResult:
    # A full scope: S3's logging layer also takes evidence from CloudTrail and GuardDuty
    # settings, so a scan of S3 alone could not call it a gap (DESIGN: not-scanned).
    inv = Inventory(ACCOUNT, "aws", ("us-east-1",), resources, ())
    return evaluate(inv, definitions, now)


def _status(result: ScanResult, control: str, rid: str) -> FindingStatus:
    return next(
        f.status for f in result.findings if f.control.id == control and f.resource.id == rid
    )


def _logging_cell(result: ScanResult) -> Any:
    return next(c for c in result.cells if c.service == "s3" and c.layer == Layer.LOGGING_DETECTION)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accepted:\n  - control: nope.s3.x\n", "accept.yaml: line 2: unknown control 'nope.s3.x'"),
        (
            f"accepted:\n  - control: {LOGGING}\n    reason: r\n    approver: a\n"
            "    expires: 2027-01-01\n",
            "accept.yaml: line 2: say which resources the acceptance covers",
        ),
        (
            f"accepted:\n  - control: {LOGGING}\n    resource: '*'\n    approver: a\n"
            "    expires: 2027-01-01\n",
            "accept.yaml: line 2: missing 'reason'",
        ),
        (
            f"accepted:\n  - control: {LOGGING}\n    resource: '*'\n    reason: r\n"
            "    approver: a\n    expires: next year\n",
            "accept.yaml: line 6: 'expires' must be a date (YYYY-MM-DD)",
        ),
        (
            f"accepted:\n  - control: {LOGGING}\n    resource: '*'\n    reason: r\n"
            "    approver: a\n    expires: 2027-02-30\n",
            "accept.yaml: line 6: 'expires' must be a date",
        ),
        (
            f"accepted:\n  - control: {LOGGING}\n    account: 42\n    reason: r\n"
            "    approver: a\n    expires: 2027-01-01\n",
            "accept.yaml: line 3: account '42' is not a 12-digit account id",
        ),
        (
            f"accepted:\n  - control: {LOGGING}\n    resource: '*'\n    reason: r\n"
            "    approver: a\n    expires: 2027-01-01\n    until: 2028-01-01\n",
            "accept.yaml: line 7: entry: unknown key(s) until",
        ),
        ("accepted: none\n", "accept.yaml: line 1: 'accepted' must be a list"),
        ("accepted:\n  - [a, b\n", "accept.yaml: line 3: not valid YAML"),
    ],
)
def test_accept_file_errors_name_the_file_and_the_line(
    definitions: Definitions, text: str, message: str
) -> None:
    with pytest.raises(UserFileError) as err:
        _accepting(definitions, text)
    assert message in str(err.value)


def test_a_matching_failure_is_accepted_never_passed(definitions: Definitions) -> None:
    d = _accepting(definitions)
    result = _scan(
        d, BEFORE, _bucket("site-www"), _bucket("app-data"), _bucket("site-logged", True)
    )
    assert _status(result, LOGGING, "site-www") == FindingStatus.ACCEPTED
    assert _status(result, LOGGING, "app-data") == FindingStatus.FAIL  # not matched
    assert _status(result, LOGGING, "site-logged") == FindingStatus.PASS  # a pass stays a pass
    accepted = next(f for f in result.findings if f.status == FindingStatus.ACCEPTED)
    row = finding_row(accepted, result.scanned_at)
    assert (row["status"], row["accepted_reason"], row["accepted_by"], row["accepted_until"]) == (
        "accepted",
        "Static website; the CDN logs requests",
        "J. Doe (CISO)",
        "2026-12-01",
    )
    assert accepted.acceptance is not None and accepted.acceptance.where == "accept.yaml:2"
    # Three days before its expiry, the entry is named so it can be renewed.
    assert result.warnings == (
        f"accept.yaml: line 2: {LOGGING} for arn:aws:s3:::site-*: the acceptance expires on"
        " 2026-12-01 (in 3 day(s))",
    )


def test_accepted_units_are_left_out_of_the_cell_and_counted_apart(
    definitions: Definitions,
) -> None:
    d = _accepting(definitions)
    plain = _scan(definitions, BEFORE, _bucket("site-www"), _bucket("site-shop"))
    cell = _logging_cell(plain)
    assert (cell.status, cell.weak, cell.accepted) == (CellStatus.GAP, 2, 0)

    # Every unit's failure accepted: nothing left to judge, and not a gap.
    every = _scan(d, BEFORE, _bucket("site-www"), _bucket("site-shop"))
    cell = _logging_cell(every)
    assert (cell.status, cell.reason) == (CellStatus.NOT_ASSESSED, "accepted")
    assert (cell.resources, cell.accepted, cell.weak, cell.coverage) == (2, 2, 0, 0)
    assert "accepted: " + LOGGING + " x2" in cell.evidence
    assert not [g for g in every.ranked if g.cell.layer == Layer.LOGGING_DETECTION]

    # One accepted, one controlled: covered, the accepted unit outside the coverage.
    mixed = _scan(d, BEFORE, _bucket("site-www"), _bucket("app-logged", True))
    cell = _logging_cell(mixed)
    assert (cell.status, cell.controlled, cell.accepted, cell.coverage) == (
        CellStatus.COVERED,
        1,
        1,
        100,
    )

    # One accepted, one failing: a gap still, on the unit that is not accepted.
    other = _scan(d, BEFORE, _bucket("site-www"), _bucket("app-data"))
    cell = _logging_cell(other)
    assert (cell.status, cell.weak, cell.accepted, cell.resources) == (CellStatus.GAP, 1, 1, 2)


def test_an_accepted_exposure_no_longer_exposes(definitions: Definitions) -> None:
    open_ = dict.fromkeys(BLOCKED, False)
    control = "data.s3.bucket-blocks-public-access"
    text = (
        f"accepted:\n  - control: {control}\n    resource: site-www\n    reason: public site\n"
        "    approver: CISO\n    expires: 2027-01-01\n"
    )
    plain = _scan(definitions, BEFORE, _bucket("site-www", PublicAccessBlock=open_))
    exposed = next(c for c in plain.cells if c.service == "s3" and c.layer == Layer.DATA)
    accepted = _scan(
        _accepting(definitions, text), BEFORE, _bucket("site-www", PublicAccessBlock=open_)
    )
    cell = next(c for c in accepted.cells if c.service == "s3" and c.layer == Layer.DATA)
    assert exposed.exposed == 1 and cell.exposed == 0
    assert _status(accepted, control, "site-www") == FindingStatus.ACCEPTED


def test_on_its_expiry_day_the_finding_fails_again_with_a_warning(
    definitions: Definitions,
) -> None:
    d = _accepting(definitions)
    result = _scan(d, ON_EXPIRY, _bucket("site-www"))
    finding = next(f for f in result.findings if f.control.id == LOGGING)
    assert finding.status == FindingStatus.FAIL
    assert finding.acceptance is not None and finding.acceptance.expired
    assert finding_row(finding, result.scanned_at)["accepted_until"] == "2026-12-01"
    assert _logging_cell(result).status == CellStatus.GAP
    assert result.warnings == (
        f"accept.yaml: line 2: {LOGGING} for arn:aws:s3:::site-*: the acceptance expired on"
        " 2026-12-01: 1 finding(s) fail again",
    )


def test_entries_that_match_nothing_are_reported(definitions: Definitions) -> None:
    text = ACCEPT.replace("site-*", "nothing-*") + ACCEPT.replace("accepted:\n", "").replace(
        "2026-12-01", "2026-01-01"
    )
    result = _scan(_accepting(definitions, text), BEFORE, _bucket("site-www"))
    assert result.warnings == (
        f"accept.yaml: line 2: {LOGGING} for arn:aws:s3:::nothing-*: matches no failing finding",
        f"accept.yaml: line 2: {LOGGING} for arn:aws:s3:::nothing-*: the acceptance expires on"
        " 2026-12-01 (in 3 day(s))",
        f"accept.yaml: line 7: {LOGGING} for arn:aws:s3:::site-*: the acceptance expired on"
        " 2026-01-01: 1 finding(s) fail again",
    )


def test_accounts_and_tags_narrow_an_entry(definitions: Definitions) -> None:
    text = (
        f"accepted:\n  - control: {LOGGING}\n    account: '{ACCOUNT}'\n    tags: {{env: 'sand*'}}\n"
        "    reason: sandbox data\n    approver: CISO\n    expires: 2027-01-01\n"
    )
    d = _accepting(definitions, text)
    tagged = make_resource(
        "s3.bucket",
        {"Logging": None},
        id="box",
        name="box",
        arn="arn:aws:s3:::box",
        tags={"env": "sandbox"},
    )
    result = _scan(d, BEFORE, tagged, _bucket("prod"))
    assert _status(result, LOGGING, "box") == FindingStatus.ACCEPTED
    assert _status(result, LOGGING, "prod") == FindingStatus.FAIL


def _doc(result: ScanResult) -> dict[str, Any]:
    return json.loads(json.dumps(scan_document(result), default=str))


def test_diff_an_acceptance_is_no_regression_its_expiry_is(definitions: Definitions) -> None:
    d = _accepting(definitions)
    failing = _doc(_scan(definitions, BEFORE, _bucket("site-www")))
    accepted = _doc(_scan(d, BEFORE, _bucket("site-www")))
    expired = _doc(_scan(d, ON_EXPIRY, _bucket("site-www")))
    into = diff_scans(parse_scan(failing), parse_scan(accepted), "old", "new")
    assert not into.regressed
    changed = [c.row for c in into.changes if c.change == "finding-changed"]
    assert [(r["old_status"], r["new_status"]) for r in changed] == [("fail", "accepted")]
    back = diff_scans(parse_scan(accepted), parse_scan(expired), "old", "new")
    assert back.regressed
    assert [
        (c.row["old_status"], c.row["new_status"])
        for c in back.changes
        if c.change == "finding-changed"
    ] == [("accepted", "fail")]


def test_cli_prints_expired_entries_as_warnings_and_refuses_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "accept.yaml"
    bad.write_text("accepted:\n  - control: data.s3.nope\n")
    result = run_cli(["scan", "-q", "--accept", str(bad), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"awsresp: error: {bad}: line 2: unknown control 'data.s3.nope' (awsresp controls"
        " lists them)"
    )
