"""The hook registry: what a hook sees (HookContext), and @hook and @ready_hook, which
declare a hook's operations once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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


# A detail hook returns one value per item, aligned with `items` (a list hook: the items).
DetailHook = Callable[[HookContext, Sequence[Mapping[str, Any]]], list[Any]]
# A ready hook makes no field: it runs once per scan and region before a spec read that
# names it (`ready:`), and returns when that read can be made, or raises.
ReadyHook = Callable[[HookContext], None]
Operation = tuple[str, str]  # (boto3 client, API operation)
# "detail": makes a detail field or a listing's items (`hook:`); "ready": `ready:`.
HookKind = Literal["detail", "ready"]


@dataclass(frozen=True)
class Hook:
    # A DetailHook, or a ReadyHook when `kind` is "ready" (the decorators check the type).
    fn: Callable[..., Any]
    operations: tuple[Operation, ...]
    # Operations the hook makes only for what an earlier read found (a detector's details,
    # a trail's status): the spec-derived minimum leaves them out.
    conditional: tuple[Operation, ...] = ()
    service: str = ""
    kind: HookKind = "detail"

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
        _register(Hook(fn, tuple(operations), tuple(conditional), service))
        return fn

    return register


def ready_hook(service: str, operations: Sequence[Operation]) -> Callable[[ReadyHook], ReadyHook]:
    """Registers a ready hook (a spec names it with `ready:`) under its function's name,
    with every operation it may call."""

    def register(fn: ReadyHook) -> ReadyHook:
        _register(Hook(fn, tuple(operations), (), service, kind="ready"))
        return fn

    return register


def _register(found: Hook) -> None:
    name = found.fn.__name__
    if name in HOOKS:
        raise ValueError(f"hook {name} registered twice")
    HOOKS[name] = found
