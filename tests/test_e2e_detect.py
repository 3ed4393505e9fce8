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
    # One multi-region trail, logging all management events and S3 object writes (not
    # reads), validated, sent to CloudWatch Logs (moto reports no delivery time, so the log
    # group decides), SSE-S3 only, delivering to a bucket that logs no access of its own.
    ("logging-detection.cloudtrail.multi-region-trail-logging", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.trail-logging", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.log-file-validation", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.logs-kms-encrypted", ACCOUNT): "fail",
    ("logging-detection.cloudtrail.cloudwatch-logs-delivery", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.s3-object-write-events", ACCOUNT): "pass",
    ("logging-detection.cloudtrail.s3-object-read-events", ACCOUNT): "fail",
    ("logging-detection.cloudtrail.trail-bucket-access-logging", ACCOUNT): "fail",
    ("logging-detection.cloudtrail.trail-bucket-not-public", ACCOUNT): "pass",
    **{(f"logging-detection.cloudwatch.alarm-{s}", ACCOUNT): "pass" for s in ALARMED},
    **{(f"logging-detection.cloudwatch.alarm-{s}", ACCOUNT): "fail" for s in NOT_ALARMED},
    # Config records in us-east-1 only, with the service-linked role; moto cannot answer
    # rule compliance. Without a recorder, the role check does not apply.
    ("settings.config.recorder-recording-all", US): "pass",
    ("settings.config.recorder-recording-all", EU): "fail",
    ("settings.config.recorder-uses-service-linked-role", US): "pass",
    ("settings.config.rules-compliant", US): "unknown",
    ("settings.config.rules-compliant", EU): "unknown",
    # GuardDuty in us-east-1 only, with some protection plans on; where there is no
    # detector, no plan protects anything. No Security Hub (so its standards do not apply).
    ("logging-detection.guardduty.detector-enabled", US): "pass",
    ("logging-detection.guardduty.detector-enabled", EU): "fail",
    ("logging-detection.guardduty.s3-protection-enabled", US): "pass",
    ("logging-detection.guardduty.ec2-malware-protection-enabled", US): "pass",
    ("logging-detection.guardduty.runtime-monitoring-enabled", US): "pass",
    ("logging-detection.guardduty.rds-protection-enabled", US): "fail",
    ("logging-detection.guardduty.lambda-protection-enabled", US): "fail",
    ("logging-detection.guardduty.ec2-runtime-agent-enabled", US): "fail",
    **{
        (f"logging-detection.guardduty.{plan}", EU): "fail"
        for plan in (
            "s3-protection-enabled",
            "ec2-malware-protection-enabled",
            "runtime-monitoring-enabled",
            "rds-protection-enabled",
            "lambda-protection-enabled",
            "ec2-runtime-agent-enabled",
        )
    },
    ("logging-detection.securityhub.hub-enabled", US): "fail",
    ("logging-detection.securityhub.hub-enabled", EU): "fail",
    # Inspector scans EC2 and Lambda packages in us-east-1, not Lambda code; moto answers
    # nothing for eu-west-1, where Inspector was never turned on.
    ("operating-system.inspector2.ec2-scanning-enabled", US): "pass",
    ("application.inspector2.lambda-standard-scanning-enabled", US): "pass",
    ("application.inspector2.lambda-code-scanning-enabled", US): "fail",
    ("operating-system.inspector2.ec2-scanning-enabled", EU): "unknown",
    ("application.inspector2.lambda-standard-scanning-enabled", EU): "unknown",
    ("application.inspector2.lambda-code-scanning-enabled", EU): "unknown",
    # Two runbooks the account owns: one shared with a partner, one with everyone.
    ("application.ssm.document-not-public", "acme-restart-web"): "pass",
    ("application.ssm.document-not-public", "acme-bootstrap-host"): "fail",
    # What moto cannot show is unknown, never faked: Firewall Manager (no backend), SSM
    # managed instances, compliance and service settings. eu-west-1 runs no instance, so
    # whether they are managed does not arise there.
    ("network-controls.fms.policies-cover-account", US): "unknown",
    ("network-controls.fms.policies-cover-account", EU): "unknown",
    ("operating-system.ssm.patch-compliant", US): "unknown",
    ("operating-system.ssm.patch-compliant", EU): "unknown",
    ("operating-system.ssm.association-compliant", US): "unknown",
    ("operating-system.ssm.association-compliant", EU): "unknown",
    ("operating-system.ssm.ec2-instances-managed", US): "unknown",
    ("application.ssm.documents-block-public-sharing", US): "unknown",
    ("application.ssm.documents-block-public-sharing", EU): "unknown",
    ("logging-detection.ssm.automation-cloudwatch-logging", US): "unknown",
    ("logging-detection.ssm.automation-cloudwatch-logging", EU): "unknown",
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
            ("ssm", "GetServiceSetting"),
        )
    } | {("inspector2", "eu-west-1", "BatchGetAccountStatus")}
    assert issues == expected
    # Security Hub's "not subscribed" is data (no hub), not a failed read.
    assert not any(i["service"] == "securityhub" for i in sandbox_scan["issues"])


def test_trail_and_alarm_evidence(sandbox_scan: dict[str, Any]) -> None:
    facts = {r["type"]: r for r in sandbox_scan["resources"]}
    (trail,) = facts["cloudtrail.account"]["config"]["Trails"]
    assert trail["Name"] == "acme-main" and "KmsKeyId" not in trail  # as CloudTrail answers
    (watched,) = facts["cloudwatch.cis-alarms"]["config"]["Trails"]
    assert watched["LogGroupArn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:acme-cloudtrail:*"
    assert {f["filterName"] for f in watched["MetricFilters"]} == {
        "unauthorized-api-calls",
        "root-usage",
        "cloudtrail-changes",
        "console-auth-failures",
    }
    alarms = {a["AlarmName"]: a for a in watched["Alarms"]}
    assert alarms["cis-root-usage"]["AlarmActions"] and watched["Subscriptions"]
    assert alarms["cis-console-auth-failures"]["AlarmActions"] == []
    # The trail's bucket is read through the S3 collector's own answers.
    (bucket,) = facts["cloudtrail.account"]["config"]["TrailBuckets"]
    assert (bucket["Bucket"], bucket["InAccount"], bucket["Logging"]) == (
        "acme-access-logs",
        True,
        None,
    )
    blocks = (bucket["BucketPublicAccessBlock"] or {}, bucket["AccountPublicAccessBlock"] or {})
    assert any(b.get("RestrictPublicBuckets") for b in blocks)


def test_settings_count_for_the_services_they_protect(sandbox_scan: dict[str, Any]) -> None:
    cells = {(c["service"], c["service_class"], c["layer"]): c for c in sandbox_scan["matrix"]}
    # S3 data events in the trail and GuardDuty S3 Protection are evidence for S3's
    # logging, never the baseline trail; the baseline row does not carry them.
    s3_logging = cells[("s3", "abstracted", "logging-detection")]["evidence"]
    assert "logging-detection.cloudtrail.s3-object-write-events" in s3_logging
    assert "logging-detection.guardduty.s3-protection-enabled" in s3_logging
    assert "multi-region-trail-logging" not in s3_logging
    account_logging = cells[("account", "abstracted", "logging-detection")]["evidence"]
    assert "s3-object-write-events" not in account_logging
    assert "s3-protection-enabled" not in account_logging
    # GuardDuty's Lambda and RDS Protection are off (and there is no detector in eu-west-1):
    # Lambda Protection is the only logging evidence Lambda has, so it is a gap of its own,
    # one weak unit per region (every class of Lambda in use). RDS has controls of its own
    # (log exports, monitoring, event subscriptions): the setting is two weak units among them.
    for (service, _cls, layer), cell in cells.items():
        if service == "lambda" and layer == "logging-detection":
            assert (cell["status"], cell["weak"], cell["worst"]) == ("gap", 2, "high")
        if service == "rds" and layer == "logging-detection":
            assert "logging-detection.guardduty.rds-protection-enabled x2" in cell["evidence"]
            assert cell["worst"] == "high" and cell["weak"] >= 2
    # Inspector's Lambda scanning counts on Lambda's application layer, not EC2's.
    lambda_app = cells[("lambda", "abstracted", "application")]["evidence"]
    assert "application.inspector2.lambda-standard-scanning-enabled" in lambda_app
    ec2_app = [
        c["evidence"]
        for (svc, _cls, layer), c in cells.items()
        if svc == "ec2" and layer == "application"
    ]
    assert not any("inspector2" in evidence for evidence in ec2_app)
    # The public runbook exposes SSM's application layer; blocking public sharing cannot be
    # read in moto, so nothing there is controlled: a gap, ranked with the exposures.
    ssm_app = cells[("ssm", "abstracted", "application")]
    assert (ssm_app["status"], ssm_app["exposed"], ssm_app["worst"]) == ("gap", 1, "critical")
    assert any(
        (g["service"], g["layer"], g["kind"]) == ("ssm", "application", "gap")
        for g in sandbox_scan["gaps"]
    )


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
    # S3's own logging cell ignores the baseline: the trail as such, the alarms, GuardDuty.
    s3_logging = cells[("s3", "logging-detection")]["evidence"]
    assert "multi-region-trail-logging" not in s3_logging and "alarm-" not in s3_logging
    assert "detector-enabled" not in s3_logging
    # Inspector and SSM protect EC2 alone: EC2's operating system, nobody else's.
    ec2_os = cells[("ec2", "operating-system")]
    assert "operating-system.inspector2.ec2-scanning-enabled" in ec2_os["evidence"]
    rds_os = next(
        c
        for c in sandbox_scan["matrix"]
        if (c["service"], c["layer"]) == ("rds", "operating-system")
    )
    assert "inspector2" not in rds_os["evidence"]
    # The detection services are account facts, not services in use; Systems Manager is in
    # use because the account owns documents.
    assert {s for s, _ in cells} & DETECT_SERVICES == {"ssm"}


def test_moto_notes_stay_off_stdout(sandbox_scan: dict[str, Any]) -> None:
    # moto's server prints a note for Firewall Manager requests; stdout is the scan.
    lines = sandbox_scan["_stdout"].splitlines()
    assert lines[0] == f"Responsibility matrix for account {ACCOUNT} (us-east-1, eu-west-1)"
    assert not [line for line in lines if "moto" in line.lower() and "sandbox" not in line]
