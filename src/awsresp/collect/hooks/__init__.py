"""Named Python hooks for AWS shapes too odd for the spec language, one module per service.

A spec names a hook (`hook: iam_credential_report`). A hook is registered by @hook, which
declares every operation it may call once: the read-only test, `awsresp policy`, the deploy
templates' IAM actions and the minimum-call count are all derived from that declaration.
"""

from __future__ import annotations

# Importing a service's module registers its hooks.
from awsresp.collect.hooks import iam  # noqa: F401
from awsresp.collect.hooks.registry import HOOKS, DetailHook, Hook, HookContext, hook
from awsresp.collect.transforms import TRANSFORMS

__all__ = ["HOOKS", "TRANSFORMS", "DetailHook", "Hook", "HookContext", "hook"]
