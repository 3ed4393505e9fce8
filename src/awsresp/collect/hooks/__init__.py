"""Named Python hooks for AWS shapes too odd for the spec language, one module per service.

A spec names a hook that makes a field (`hook: <name>`), or one that only makes a
spec read possible (`ready: iam_credential_report_ready`: IAM builds its credential report
on request). A hook is registered by @hook or @ready_hook, which declares every operation it
may call once: the read-only test, `awsresp policy`, the deploy templates' IAM actions and
the minimum-call count are all derived from that declaration.
"""

from __future__ import annotations

# Importing a service's module registers its hooks.
from awsresp.collect.hooks import iam  # noqa: F401
from awsresp.collect.hooks.registry import (
    HOOKS,
    DetailHook,
    Hook,
    HookContext,
    ReadyHook,
    hook,
    ready_hook,
)
from awsresp.collect.transforms import TRANSFORMS

__all__ = [
    "HOOKS",
    "TRANSFORMS",
    "DetailHook",
    "Hook",
    "HookContext",
    "ReadyHook",
    "hook",
    "ready_hook",
]
