"""End to end: logging, detection and governance findings of the sandbox scan, exactly."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
US = f"{ACCOUNT}/us-east-1"
EU = f"{ACCOUNT}/eu-west-1"
DETECT_SERVICES = {
    "cloudtrail",
    "cloudwatch",
    "config",
    "securityhub",
    "guardduty",
    "inspector2",
    "ssm",
    "fms",
}
ALARMED = {"unauthorized-api-calls", "root-usage", "cloudtrail-changes"}
NOT_ALARMED = {
    "console-signin-without-mfa",
    "iam-policy-changes",
    # A filter exists, but its alarm has no action.
    "console-auth-failures",
    "cmk-disable-or-deletion",
    "s3-bucket-policy-changes",
    "config-changes",
    "security-group-changes",
    "nacl-changes",
    "network-gateway-changes",
    "route-table-changes",
    "vpc-changes",
    "organizations-changes",
}

EXPECTED_FINDINGS = {
    # One multi-region trail, logging all management events, validated, SSE-S3 only.
    ("logging-detection.cloudtrail.multi-region-trail-logging", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.log-file-validation", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.logs-kms-encrypted", ACCOUNT): "fail",
    **{(f"logging-detection.cloudwatch.alarm-{s}", ACCOUNT): "pass" for s in ALARMED},
    **{(f"logging-detection.cloudwatch.alarm-{s}", ACCOUNT): "fail" for s in NOT_ALARMED},
    # Config records in us-east-1 only; moto cannot answer rule compliance.
    ("settings.config.recorder-recording-all", US): "pass",
    ("settings.config.recorder-recording-all", EU): "fail",
    ("settings.config.rules-compliant", US): "unknown",
    ("settings.config.rules-compliant", EU): "unknown",
    # GuardDuty in us-east-1 only; no Security Hub (so its standards do not apply).
    ("logging-detection.guardduty.detector-enabled", US): "pass",
    ("logging-detection.guardduty.detector-enabled", EU): "fail",
    ("logging-detection.securityhub.hub-enabled", US): "fail",
    ("logging-detection.securityhub.hub-enabled", EU): "fail",
    # What moto cannot show is unknown, never faked: Firewall Manager (no backend), SSM
    # managed instances and patch states, Inspector account status.
    ("network-controls.fms.policies-cover-account", US): "unknown",
    ("network-controls.fms.policies-cover-account", EU): "unknown",
    ("operating-system.ssm.patch-compliant", US): "unknown",
    ("operating-system.ssm.patch-compliant", EU): "unknown",
    ("operating-system.inspector2.ec2-scanning-enabled", US): "unknown",
    ("operating-system.inspector2.ec2-scanning-enabled", EU): "unknown",
}


def _findings(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (f["control_id"], f["resource_id"]): f["status"]
        for f in doc["findings"]
        if f["control_id"].split(".")[1] in DETECT_SERVICES
    }


def test_detection_findings_are_exact(sandbox_scan: dict[str, Any]) -> None:
    assert _findings(sandbox_scan) == EXPECTED_FINDINGS


def test_what_moto_lacks_is_reported_as_issues(sandbox_scan: dict[str, Any]) -> None:
    issues = {
        (i["service"], i["region"], i["operation"])
        for i in sandbox_scan["issues"]
        if i["service"] in DETECT_SERVICES
    }
    expected = {
        (service, region, op)
        for region in ("us-east-1", "eu-west-1")
        for service, op in (
            ("config", "DescribeComplianceByConfigRule"),
            ("fms", "GetAdminAccount"),
            ("fms", "ListPolicies"),
            ("ssm", "DescribeInstanceInformation"),
            ("ssm", "ListResourceComplianceSummaries"),
            ("inspector2", "BatchGetAccountStatus"),
        )
    }
    assert issues == expected
    # Security Hub's "not subscribed" is data (no hub), not a failed read.
    assert not any(i["service"] == "securityhub" for i in sandbox_scan["issues"])


def test_trail_and_alarm_evidence(sandbox_scan: dict[str, Any]) -> None:
    facts = {r["type"]: r for r in sandbox_scan["resources"]}
    (trail,) = facts["cloudtrail.account"]["config"]["Trails"]
    assert trail["Name"] == "acme-main" and trail["KmsKeyId"] is None
    monitoring = facts["cloudwatch.cis-alarms"]["config"]["Monitoring"]
    assert monitoring["LogGroups"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:acme-cloudtrail:*"
    ]
    assert monitoring["RootUsage"]["Alarm"] == "cis-root-usage"
    failures = monitoring["ConsoleAuthFailures"]
    assert failures["Filter"] == "acme-cloudtrail:console-auth-failures"
    assert (failures["Alarm"], failures["Alarmed"]) == (None, False)


def test_the_detection_baseline_counts_once_on_the_account_row(
    sandbox_scan: dict[str, Any],
) -> None:
    cells = {(c["service"], c["layer"]): c for c in sandbox_scan["matrix"]}
    account = {layer: c for (service, layer), c in cells.items() if service == "account"}
    # Passing trail, alarm and GuardDuty safeguards beside failing ones: partial.
    logging = account["logging-detection"]
    assert logging["status"] == "partial" and logging["controlled"] >= 5
    assert "logging-detection.cloudtrail.multi-region-trail-logging" in logging["evidence"]
    # Config records in one region of two; rule compliance is unreadable.
    settings = account["settings"]
    assert settings["status"] == "partial"
    assert "settings.config.recorder-recording-all" in settings["evidence"]
    # Firewall Manager cannot be read at all: not assessed, never a pass.
    assert (account["network-controls"]["status"], account["network-controls"]["reason"]) == (
        "not-assessed",
        "unreadable",
    )
    for service in ("iam", "s3", "dynamodb"):
        # A service with no settings control of its own shows the account row's status.
        assert (cells[(service, "settings")]["reason"], cells[(service, "settings")]["status"]) == (
            "via-account",
            "partial",
        )
        assert cells[(service, "settings")]["evidence"] == ""
    # S3 logs nothing itself: its own logging cell ignores the trail, the alarms, GuardDuty.
    assert "cloudtrail" not in cells[("s3", "logging-detection")]["evidence"]
    # Inspector and SSM protect EC2 alone: EC2's operating system, nobody else's.
    ec2_os = cells[("ec2", "operating-system")]
    assert "operating-system.inspector2.ec2-scanning-enabled" in ec2_os["evidence"]
    rds_os = next(
        c
        for c in sandbox_scan["matrix"]
        if (c["service"], c["layer"]) == ("rds", "operating-system")
    )
    assert "inspector2" not in rds_os["evidence"]
    # The detection services are account facts, not services in use.
    assert not {s for s, _ in cells} & DETECT_SERVICES


def test_moto_notes_stay_off_stdout(sandbox_scan: dict[str, Any]) -> None:
    # moto's server prints a note for Firewall Manager requests; stdout is the scan.
    lines = sandbox_scan["_stdout"].splitlines()
    assert lines[0] == f"Responsibility matrix for account {ACCOUNT} (us-east-1, eu-west-1)"
    assert not [line for line in lines if "moto" in line.lower() and "sandbox" not in line]
