"""End to end: data services, runtimes and endpoints in the scanned sandbox account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from awsresp.sandbox.estate.lambda_ import LAMBDA_SECRET_VALUE
from awsresp.sandbox.estate.secretsmanager import SECRET_STRING

pytestmark = pytest.mark.e2e

SERVICES = {
    "kms",
    "rds",
    "lambda",
    "secretsmanager",
    "dynamodb",
    "dax",
    "workspaces",
    "clientvpn",
}
UNLISTED = "(could not be listed)"
P, F = "pass", "fail"


def _table(
    region: str, names: tuple[str, ...], rows: dict[str, tuple[str | None, ...]]
) -> dict[tuple[str, str, str], str]:
    """(control id, region, resource name) -> status, from one row of statuses per control
    with one column per resource (None: the control does not apply to that resource)."""
    return {
        (control, region, name): status
        for control, statuses in rows.items()
        for name, status in zip(names, statuses, strict=True)
        if status is not None
    }


E1, W1 = "us-east-1", "eu-west-1"
# Names, because moto's ids for keys, WorkSpaces and directories are random.
KEYS = ("alias/acme-app-data", "alias/acme-ebs", "alias/acme-legacy-export", "alias/acme-retired")
# The EBS key comes from the compute estate (rotation on); the retired key is pending
# deletion, so rotation no longer applies to it.
KMS = _table(
    E1,
    KEYS,
    {
        "data.kms.key-rotation-enabled": (P, P, F, None),
        "data.kms.key-policy-not-public": (P, P, F, P),
        "data.kms.key-not-pending-deletion": (P, P, P, F),
    },
)
# The orders database is well kept; the reporting database fails everything it can.
RDS_INSTANCES = _table(
    E1,
    ("acme-orders-db", "acme-reports-db"),
    {
        "network-controls.rds.instance-not-publicly-accessible": (P, F),
        "network-controls.rds.instance-non-default-port": (P, F),
        "platform-runtime.rds.instance-auto-minor-version-upgrade": (P, F),
        "data.rds.instance-storage-encrypted": (P, F),
        "data.rds.instance-backup-retention": (P, F),
        "data.rds.instance-deletion-protection": (P, F),
        "data.rds.instance-multi-az": (P, F),
        "data.rds.instance-copies-tags-to-snapshots": (P, F),
        "logging-detection.rds.instance-enhanced-monitoring": (P, F),
        "logging-detection.rds.instance-logs-exported": (P, F),
        "identity-directory.rds.instance-iam-authentication": (P, F),
        "identity-directory.rds.instance-custom-admin-username": (P, F),
    },
)
# Aurora members: only the controls that are the instance's own apply.
RDS_MEMBERS = _table(
    E1,
    ("acme-analytics-a", "acme-analytics-b"),
    {
        "network-controls.rds.instance-not-publicly-accessible": (P, P),
        "platform-runtime.rds.instance-auto-minor-version-upgrade": (P, P),
        "logging-detection.rds.instance-enhanced-monitoring": (P, P),
    },
)
RDS_CLUSTERS = _table(
    E1,
    ("acme-analytics", "acme-legacy-aurora"),
    {
        "data.rds.cluster-storage-encrypted": (P, F),
        "data.rds.cluster-backup-retention": (P, F),
        "data.rds.cluster-deletion-protection": (P, F),
        "data.rds.cluster-multi-az": (P, F),
        "data.rds.cluster-backtracking-enabled": (P, F),
        "data.rds.cluster-copies-tags-to-snapshots": (P, F),
        "network-controls.rds.cluster-non-default-port": (P, F),
        "identity-directory.rds.cluster-iam-authentication": (P, F),
        "identity-directory.rds.cluster-custom-admin-username": (P, F),
        "logging-detection.rds.cluster-logs-exported": (P, F),
    },
)
# One private snapshot of each kind (encrypted, shared with a named account) and one public.
RDS_SNAPSHOTS = {
    **_table(
        E1,
        ("acme-orders-before-migration", "acme-reports-export"),
        {"data.rds.snapshot-not-public": (P, F), "data.rds.snapshot-encrypted": (P, F)},
    ),
    **_table(
        E1,
        ("acme-analytics-monthly", "acme-legacy-aurora-final"),
        {
            "data.rds.cluster-snapshot-not-public": (P, F),
            "data.rds.cluster-snapshot-encrypted": (P, F),
        },
    ),
    **_table(
        E1, ("acme-orders-proxy", "acme-reports-proxy"), {"data.rds.proxy-requires-tls": (P, F)}
    ),
}
# us-east-1 has one subscription, for instance events; eu-west-1 none (nothing to judge).
RDS_EVENTS = _table(
    E1,
    ("RDS event subscriptions",),
    {
        "logging-detection.rds.event-subscription-instance-events": (P,),
        "logging-detection.rds.event-subscription-cluster-events": (F,),
        "logging-detection.rds.event-subscription-parameter-group-events": (F,),
        "logging-detection.rds.event-subscription-security-group-events": (F,),
    },
)
# A container image: no runtime, code signing, URL or VPC; the legacy function sits in one
# subnet, the orders API in two zones (and lets S3 invoke it for one account's bucket).
LAMBDA = _table(
    E1,
    ("legacy-report-builder", "orders-api", "image-resizer"),
    {
        "platform-runtime.lambda.runtime-supported": (F, P, None),
        "application.lambda.function-url-requires-iam-auth": (F, P, None),
        "application.lambda.function-not-public": (F, P, P),
        "application.lambda.code-signing-enabled": (F, F, None),
        "network-controls.lambda.function-vpc-multi-az": (F, P, None),
    },
)
# moto cannot date a secret in the past: both were created (and read) just now, so the
# age controls pass; rotation on schedule applies to the rotating secret only.
SECRETS = _table(
    E1,
    ("acme/orders/db-password", "acme/reports/db-password"),
    {
        "data.secretsmanager.secret-rotation-enabled": (P, F),
        "data.secretsmanager.secret-rotation-on-schedule": (P, None),
        "data.secretsmanager.secret-rotated-within-90-days": (P, P),
        "access-rights.secretsmanager.secret-recently-used": (P, P),
    },
)
# Orders: on-demand, protected, PITR; sessions: provisioned without auto scaling; audit:
# provisioned, table and index scaled.
DYNAMODB = {
    **_table(
        W1,
        ("acme-orders", "acme-sessions", "acme-audit"),
        {
            "data.dynamodb.table-pitr-enabled": (P, F, P),
            "data.dynamodb.table-deletion-protection": (P, F, F),
            "data.dynamodb.table-capacity-scales": (P, F, P),
        },
    ),
    **_table(
        W1,
        ("acme-orders-cache", "acme-legacy-cache"),
        {
            "data.dax.cluster-encrypted-at-rest": (P, F),
            "data.dax.cluster-encrypted-in-transit": (P, F),
        },
    ),
}
EXPECTED_FINDINGS = {
    **KMS,
    **RDS_INSTANCES,
    **RDS_MEMBERS,
    **RDS_CLUSTERS,
    **RDS_SNAPSHOTS,
    **RDS_EVENTS,
    **LAMBDA,
    **SECRETS,
    **DYNAMODB,
    ("data.workspaces.user-volume-encrypted", "us-east-1", "finance-analyst"): "pass",
    ("data.workspaces.root-volume-encrypted", "us-east-1", "finance-analyst"): "pass",
    ("data.workspaces.user-volume-encrypted", "us-east-1", "contractor"): "fail",
    ("data.workspaces.root-volume-encrypted", "us-east-1", "contractor"): "fail",
    ("endpoints.workspaces.directory-ip-access-restricted", "us-east-1", "corp.acme.example"): (
        "fail"
    ),
    # moto has no Client VPN: the read fails in both regions and nothing is faked.
    ("endpoints.clientvpn.endpoint-strong-authentication", "us-east-1", UNLISTED): "unknown",
    ("endpoints.clientvpn.endpoint-strong-authentication", "eu-west-1", UNLISTED): "unknown",
    ("logging-detection.clientvpn.connection-logging-enabled", "us-east-1", UNLISTED): "unknown",
    ("logging-detection.clientvpn.connection-logging-enabled", "eu-west-1", UNLISTED): "unknown",
}


def _findings(doc: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {
        (f["control_id"], f["region"], f["resource_name"]): f["status"]
        for f in doc["findings"]
        if f["control_id"].split(".")[1] in SERVICES
    }


def test_data_service_findings_are_exact(sandbox_scan: dict[str, Any]) -> None:
    findings = [f for f in sandbox_scan["findings"] if f["control_id"].split(".")[1] in SERVICES]
    assert len(findings) == len(EXPECTED_FINDINGS)  # no duplicates hidden by the keys
    assert _findings(sandbox_scan) == EXPECTED_FINDINGS


def test_no_secret_value_reaches_any_output(sandbox_scan: dict[str, Any]) -> None:
    out = Path(sandbox_scan["_dir"])
    written = {p.name: p.read_text(encoding="utf-8-sig") for p in out.iterdir() if p.is_file()}
    assert {"scan.json", "findings.csv", "matrix.csv", "gaps.csv", "issues.csv"} <= set(written)
    for name, text in [*written.items(), ("stdout", sandbox_scan["_stdout"])]:
        for value in (LAMBDA_SECRET_VALUE, SECRET_STRING, "sandbox-rds-password-not-real"):
            assert value not in text, f"{value} leaked into {name}"
    legacy = next(r for r in sandbox_scan["resources"] if r["id"] == "legacy-report-builder")
    # The variable names stay visible: they tell a reviewer a credential is there.
    assert legacy["config"]["Environment"]["Variables"] == {
        "DB_PASSWORD": "<redacted>",
        "LOG_LEVEL": "<redacted>",
    }


def test_container_image_functions_are_a_container_service(sandbox_scan: dict[str, Any]) -> None:
    classes = {
        r["id"]: r["service_class"]
        for r in sandbox_scan["resources"]
        if r["type"] == "lambda.function"
    }
    assert classes == {
        "legacy-report-builder": "abstracted",
        "orders-api": "abstracted",
        "image-resizer": "container",
    }


def test_only_client_vpn_could_not_be_read(sandbox_scan: dict[str, Any]) -> None:
    ours = [i for i in sandbox_scan["issues"] if i["service"] in SERVICES]
    # moto has no DescribeClientVpnEndpoints: in the sandbox that is "not available".
    assert sorted((i["region"], i["iam_action"], i["kind"], i["error_code"]) for i in ours) == [
        ("eu-west-1", "ec2:DescribeClientVpnEndpoints", "not-enabled", "NotImplementedBySandbox"),
        ("us-east-1", "ec2:DescribeClientVpnEndpoints", "not-enabled", "NotImplementedBySandbox"),
    ]


def test_data_service_cells(sandbox_scan: dict[str, Any]) -> None:
    cells = {(c["service"], c["service_class"], c["layer"]): c for c in sandbox_scan["matrix"]}

    def status(service: str, cls: str, layer: str) -> tuple[str, str]:
        cell = cells[(service, cls, layer)]
        return cell["owner"], cell["status"]

    assert status("rds", "container", "network-controls") == ("shared", "partial")
    assert status("rds", "container", "platform-runtime") == ("shared", "partial")
    # Two public snapshots and the unencrypted databases expose RDS's data layer.
    rds_data = cells[("rds", "container", "data")]
    assert (rds_data["status"], rds_data["worst"]) == ("partial", "critical")
    assert "data.rds.snapshot-not-public" in rds_data["evidence"]
    # Database authentication is RDS's own identity evidence, not only the account's.
    rds_identity = cells[("rds", "container", "identity-directory")]
    assert (rds_identity["status"], rds_identity["reason"]) == ("partial", "weak")
    # The region's event subscriptions count for RDS's logging, beside the instances'.
    assert "event-subscription" in cells[("rds", "container", "logging-detection")]["evidence"]
    # One function in two zones, one in a single subnet.
    lambda_network = cells[("lambda", "abstracted", "network-controls")]
    assert (lambda_network["controlled"], lambda_network["weak"]) == (1, 1)
    # DAX is a service of its own: one encrypted cache, one not.
    dax = cells[("dax", "container", "data")]
    assert (dax["status"], dax["resources"], dax["controlled"]) == ("partial", 2, 1)
    assert status("workspaces", "container", "endpoints") == ("customer", "gap")
    # Client VPN could not be listed: in use or not is unknown, so it has no row.
    assert not any(service == "clientvpn" for service, _cls, _layer in cells)
    # A zip function's runtime is AWS's layer; a container image's is shared.
    assert status("lambda", "abstracted", "platform-runtime") == ("aws", "inherited")
    assert status("lambda", "container", "operating-system")[0] == "shared"
