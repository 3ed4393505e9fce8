"""AWS Config: the recorders of a region, each with its own status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from awsresp.collect.hooks.registry import HookContext, hook


@hook(
    "config",
    [
        ("config", "DescribeConfigurationRecorders"),
        ("config", "DescribeConfigurationRecorderStatus"),
    ],
)
def config_recorders(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The region's configuration recorders, each with its own status joined by name: a
    region can hold a customer recorder and service-linked ones, and "recording" means
    something only for the recorder it belongs to."""
    recorders = ctx.call("config", "DescribeConfigurationRecorders", {}).get(
        "ConfigurationRecorders", []
    )
    statuses = {
        str(s.get("name")): s
        for s in ctx.call("config", "DescribeConfigurationRecorderStatus", {}).get(
            "ConfigurationRecordersStatus", []
        )
    }
    out = []
    for recorder in recorders:
        status = statuses.get(str(recorder.get("name"))) or {}
        out.append(
            {
                **recorder,
                "recording": bool(status.get("recording")),
                "lastStatus": status.get("lastStatus"),
                "lastErrorCode": status.get("lastErrorCode"),
            }
        )
    return [out for _ in items]
