"""Systems Manager in the sandbox: two runbooks the account owns in us-east-1, one shared
with a partner account, one shared with everyone. moto has no managed instances, compliance
or service settings: those stay unreadable, never faked."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

PARTNER_ACCOUNT = "210987654321"


def _runbook(description: str, command: str) -> str:
    return json.dumps(
        {
            "schemaVersion": "2.2",
            "description": description,
            "mainSteps": [
                {
                    "action": "aws:runShellScript",
                    "name": "run",
                    "inputs": {"runCommand": [command]},
                }
            ],
        }
    )


def seed(sb: Sandbox) -> None:
    ssm = sb.client("ssm")
    ssm.create_document(
        Name="acme-restart-web",
        DocumentType="Command",
        Content=_runbook("Restart the web tier", "systemctl restart nginx"),
    )
    ssm.modify_document_permission(
        Name="acme-restart-web", PermissionType="Share", AccountIdsToAdd=[PARTNER_ACCOUNT]
    )
    # Shared with everyone "for the contractor": any AWS account can read and run it.
    ssm.create_document(
        Name="acme-bootstrap-host",
        DocumentType="Command",
        Content=_runbook("Bootstrap a host", "curl -fsS https://deploy.acme.example/boot | sh"),
    )
    ssm.modify_document_permission(
        Name="acme-bootstrap-host", PermissionType="Share", AccountIdsToAdd=["all"]
    )
