"""findings.ocsf.json: every finding as an OCSF Compliance Finding (class 2003), with the
layer and owner in `unmapped`, for a SIEM or Amazon Security Lake."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from awsresp import __version__
from awsresp.scanfile import FindingRow, ScanFile

OCSF_VERSION = "1.5.0"
CLASS_UID = 2003  # Findings category (2), Compliance Finding
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
AWS_ACCOUNT = 10  # account.type_id

# severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
SEVERITY_ID = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# compliance.status_id: 1 Pass, 2 Warning ("did not yield a result due to missing
# information": a read failed), 3 Fail.
# An accepted risk failed the control (3 Fail) and is reported as suppressed.
COMPLIANCE_STATUS_ID = {"pass": 1, "unknown": 2, "fail": 3, "accepted": 3}
_FINDING_NEW = 1  # status_id of the finding itself: New (it is reported, not triaged)
_FINDING_SUPPRESSED = 3  # ... or Suppressed: a failure the user accepted until its expiry


def _epoch_ms(iso: str) -> int:
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def _references(text: str) -> tuple[list[str], list[str]]:
    """'cis-aws-4.0 1.5; nist-800-53-r5 IA-2(1), IA-2(2)' -> standards, requirements."""
    standards: list[str] = []
    requirements: list[str] = []
    for part in text.split("; "):
        name, _, items = part.partition(" ")
        if not name:
            continue
        standards.append(name)
        requirements += [f"{name} {item}" for item in items.split(", ") if item]
    return standards, requirements


def _evidence(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def ocsf_finding(f: FindingRow, scan: ScanFile) -> dict[str, Any]:
    """One finding as an OCSF 1.5.0 Compliance Finding (with the cloud profile)."""
    severity_id = SEVERITY_ID[f.severity.value]
    standards, requirements = _references(f.references)
    time = _epoch_ms(f.scanned_at or scan.scanned_at)
    compliance: dict[str, Any] = {
        "control": f.control_id,
        "desc": f.control_title,
        "status_id": COMPLIANCE_STATUS_ID[f.status.value],
    }
    if standards:
        compliance["standards"] = standards
        compliance["requirements"] = requirements
    resource: dict[str, Any] = {
        "uid": f.resource_arn or f.resource_id,
        "name": f.resource_name or f.resource_id,
        "type": f.resource_type,
        "region": f.region,
        "cloud_partition": scan.partition,
        "data": {"evidence": _evidence(f.evidence)},
    }
    unmapped: dict[str, Any] = {
        "layer": f.layer.value,
        "owner": f.owner,
        "party": f.party,
        "service": f.service,
        "service_class": f.service_class.value,
        "safeguard": f.safeguard,
        "severity": f.severity.value,
        "status": f.status.value,
    }
    if f.ou_path:
        unmapped["ou_path"] = f.ou_path
    accepted = f.status.value == "accepted"
    if f.accepted_until:
        unmapped["accepted"] = {
            "reason": f.accepted_reason,
            "approver": f.accepted_by,
            "until": f.accepted_until,
        }
    return {
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "awsresp", "vendor_name": "awsresp", "version": __version__},
            "profiles": ["cloud"],
            "uid": f.finding_id,
            "event_code": f.control_id,
        },
        "time": time,
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": _SEVERITY_NAME[severity_id],
        "status_id": _FINDING_SUPPRESSED if accepted else _FINDING_NEW,
        "status": "Suppressed" if accepted else "New",
        "status_code": f.status.value,
        "message": f"{f.control_title}: {f.status.value} on {f.resource_type} {resource['name']}",
        "finding_info": {
            "uid": f.finding_id,
            "title": f.control_title,
            "desc": f.remediation,
            "types": [f.layer.value],
            "created_time": time,
        },
        "compliance": compliance,
        "remediation": {"desc": f.remediation or "-"},
        "resources": [resource],
        "cloud": {
            "provider": "AWS",
            "region": f.region,
            "account": {
                "uid": f.account_id,
                "name": f.account_name or f.account_id,
                "type_id": AWS_ACCOUNT,
                "type": "AWS Account",
            },
        },
        "unmapped": {"awsresp": unmapped},
    }


def iter_ocsf(scan: ScanFile) -> Iterator[str]:
    """The findings as one JSON array, one Compliance Finding per line. ASCII only: control
    and direction characters from the account travel as \\u escapes, so the array can go to
    a terminal (`--format ocsf`) unchanged in value."""
    yield "["
    for n, f in enumerate(scan.findings):
        yield ("\n" if n == 0 else ",\n") + json.dumps(
            ocsf_finding(f, scan), ensure_ascii=True, separators=(",", ":")
        )
    yield "\n]\n" if scan.findings else "]\n"


def render_ocsf(scan: ScanFile) -> str:
    return "".join(iter_ocsf(scan))
