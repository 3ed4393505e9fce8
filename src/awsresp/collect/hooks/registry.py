"""The hook registry: what a hook sees (HookContext), and @hook, which declares its
operations once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from awsresp.collect.iam_actions import action_for


class HookContext(Protocol):
    account: str
    partition: str
    region: str

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A read call, at most once per scan for the same parameters."""

    def call_in(self, region: str, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        """Like call, in another region (a trail's home region, a log group's region)."""

    def call_uncached(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A read call made every time (for polling)."""

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """Computes a value once per scan, whichever thread asks first."""


# A detail hook returns one value per item, aligned with `items`.
DetailHook = Callable[[HookContext, Sequence[Mapping[str, Any]]], list[Any]]
Operation = tuple[str, str]  # (boto3 client, API operation)


@dataclass(frozen=True)
class Hook:
    fn: DetailHook
    operations: tuple[Operation, ...]
    # Operations the hook makes only for what an earlier read found (a detector's details,
    # a trail's status): the spec-derived minimum leaves them out.
    conditional: tuple[Operation, ...] = ()
    service: str = ""

    @property
    def iam_actions(self) -> tuple[str, ...]:
        """Derived from the operations: the policy never lists a hook's actions by hand."""
        return tuple(dict.fromkeys(action_for(c, op) for c, op in self.operations))


HOOKS: dict[str, Hook] = {}


def hook(
    service: str,
    operations: Sequence[Operation],
    conditional: Sequence[Operation] = (),
) -> Callable[[DetailHook], DetailHook]:
    """Registers a hook under its function's name, with every operation it may call
    (`conditional`: those made only for what an earlier read found)."""
    unknown = set(conditional) - set(operations)
    if unknown:
        raise ValueError(f"conditional operations not declared: {sorted(unknown)}")

    def register(fn: DetailHook) -> DetailHook:
        if fn.__name__ in HOOKS:
            raise ValueError(f"hook {fn.__name__} registered twice")
        HOOKS[fn.__name__] = Hook(fn, tuple(operations), tuple(conditional), service)
        return fn

    return register


def pages(answer: Any) -> list[Any]:
    """A cached call's answer as pages (paginated operations answer a list of pages)."""
    return answer if isinstance(answer, list) else [answer]


def arn_region(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default
