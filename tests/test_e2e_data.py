"""End to end: data services, runtimes and endpoints in the scanned sandbox account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from awsresp.sandbox.estate.lambda_ import LAMBDA_SECRET_VALUE
from awsresp.sandbox.estate.secretsmanager import SECRET_STRING

pytestmark = pytest.mark.e2e

SERVICES = {"kms", "rds", "lambda", "secretsmanager", "dynamodb", "workspaces", "clientvpn"}
UNLISTED = "(could not be listed)"

# (control id, region, resource name) -> status. Names, because moto's ids for keys,
# WorkSpaces and directories are random.
EXPECTED_FINDINGS = {
    ("data.kms.key-rotation-enabled", "us-east-1", "alias/acme-app-data"): "pass",
    ("data.kms.key-policy-not-public", "us-east-1", "alias/acme-app-data"): "pass",
    ("data.kms.key-not-pending-deletion", "us-east-1", "alias/acme-app-data"): "pass",
    # The compute estate's EBS key (rotation on).
    ("data.kms.key-rotation-enabled", "us-east-1", "alias/acme-ebs"): "pass",
    ("data.kms.key-policy-not-public", "us-east-1", "alias/acme-ebs"): "pass",
    ("data.kms.key-not-pending-deletion", "us-east-1", "alias/acme-ebs"): "pass",
    ("data.kms.key-rotation-enabled", "us-east-1", "alias/acme-legacy-export"): "fail",
    ("data.kms.key-policy-not-public", "us-east-1", "alias/acme-legacy-export"): "fail",
    ("data.kms.key-not-pending-deletion", "us-east-1", "alias/acme-legacy-export"): "pass",
    # Pending deletion: rotation does not apply any more.
    ("data.kms.key-policy-not-public", "us-east-1", "alias/acme-retired"): "pass",
    ("data.kms.key-not-pending-deletion", "us-east-1", "alias/acme-retired"): "fail",
    ("data.rds.instance-storage-encrypted", "us-east-1", "acme-reports-db"): "fail",
    ("data.rds.instance-backup-retention", "us-east-1", "acme-reports-db"): "fail",
    ("data.rds.instance-deletion-protection", "us-east-1", "acme-reports-db"): "fail",
    ("network-controls.rds.instance-not-publicly-accessible", "us-east-1", "acme-reports-db"): (
        "fail"
    ),
    ("platform-runtime.rds.instance-auto-minor-version-upgrade", "us-east-1", "acme-reports-db"): (
        "fail"
    ),
    ("data.rds.instance-storage-encrypted", "us-east-1", "acme-orders-db"): "pass",
    ("data.rds.instance-backup-retention", "us-east-1", "acme-orders-db"): "pass",
    ("data.rds.instance-deletion-protection", "us-east-1", "acme-orders-db"): "pass",
    ("network-controls.rds.instance-not-publicly-accessible", "us-east-1", "acme-orders-db"): (
        "pass"
    ),
    ("platform-runtime.rds.instance-auto-minor-version-upgrade", "us-east-1", "acme-orders-db"): (
        "pass"
    ),
    ("platform-runtime.lambda.runtime-supported", "us-east-1", "legacy-report-builder"): "fail",
    ("application.lambda.function-url-requires-iam-auth", "us-east-1", "legacy-report-builder"): (
        "fail"
    ),
    ("application.lambda.function-not-public", "us-east-1", "legacy-report-builder"): "fail",
    ("application.lambda.code-signing-enabled", "us-east-1", "legacy-report-builder"): "fail",
    ("platform-runtime.lambda.runtime-supported", "us-east-1", "orders-api"): "pass",
    ("application.lambda.function-url-requires-iam-auth", "us-east-1", "orders-api"): "pass",
    ("application.lambda.function-not-public", "us-east-1", "orders-api"): "pass",
    ("application.lambda.code-signing-enabled", "us-east-1", "orders-api"): "fail",
    # A container image: no runtime, code signing or URL controls apply.
    ("application.lambda.function-not-public", "us-east-1", "image-resizer"): "pass",
    ("data.secretsmanager.secret-rotation-enabled", "us-east-1", "acme/reports/db-password"): (
        "fail"
    ),
    ("data.secretsmanager.secret-rotation-enabled", "us-east-1", "acme/orders/db-password"): (
        "pass"
    ),
    ("data.dynamodb.table-pitr-enabled", "eu-west-1", "acme-orders"): "pass",
    ("data.dynamodb.table-pitr-enabled", "eu-west-1", "acme-sessions"): "fail",
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
    assert status("workspaces", "container", "endpoints") == ("customer", "gap")
    # Client VPN could not be listed: in use or not is unknown, so it has no row.
    assert not any(service == "clientvpn" for service, _cls, _layer in cells)
    # A zip function's runtime is AWS's layer; a container image's is shared.
    assert status("lambda", "abstracted", "platform-runtime") == ("aws", "inherited")
    assert status("lambda", "container", "operating-system")[0] == "shared"
