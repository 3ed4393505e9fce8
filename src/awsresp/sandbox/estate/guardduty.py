"""GuardDuty in the sandbox: a detector in us-east-1 only (and no Security Hub anywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
    sb.client("guardduty").create_detector(Enable=True)
