"""GuardDuty: each detector of a region with its protection plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from awsresp.collect.hooks.registry import HookContext, hook, pages


def _status_of(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


@hook(
    "guardduty",
    [("guardduty", "ListDetectors"), ("guardduty", "GetDetector")],
    conditional=[("guardduty", "GetDetector")],
)
def guardduty_detectors(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Each detector with its protection plans: `Features` (with their additional
    configuration, such as the EC2 runtime agent) and the statuses of the older
    `DataSources` answer, which detectors created before features still carry."""
    detectors = []
    for page in pages(ctx.call("guardduty", "ListDetectors", {})):
        for detector_id in page.get("DetectorIds", []):
            detail = ctx.call("guardduty", "GetDetector", {"DetectorId": detector_id})
            sources = detail.get("DataSources") or {}
            detectors.append(
                {
                    "DetectorId": detector_id,
                    "Status": detail.get("Status"),
                    "Features": [
                        {
                            "Name": f.get("Name"),
                            "Status": f.get("Status"),
                            "AdditionalConfiguration": [
                                {"Name": a.get("Name"), "Status": a.get("Status")}
                                for a in f.get("AdditionalConfiguration") or []
                            ],
                        }
                        for f in detail.get("Features") or []
                    ],
                    "DataSources": {
                        "S3Logs": _status_of(sources, "S3Logs", "Status"),
                        "KubernetesAuditLogs": _status_of(
                            sources, "Kubernetes", "AuditLogs", "Status"
                        ),
                        "MalwareProtectionEbs": _status_of(
                            sources,
                            "MalwareProtection",
                            "ScanEc2InstanceWithFindings",
                            "EbsVolumes",
                            "Status",
                        ),
                    },
                }
            )
    return [detectors for _ in items]
