"""The JSON Schemas awsresp publishes (docs/schema/): scan.json from its model, and the shapes
of the YAML data files (controls, owners file, accept file, collector specs) for editors.

The YAML files are loaded and checked by their own loaders (evaluate.catalog, evaluate.owners,
evaluate.accept, collect.specs), which say the file and line of a problem and check what a
schema cannot (a control id that exists, a service a collector produces). The models here
describe the same shapes: tests check that their keys are the loaders' keys and that every
shipped file validates. `python -m awsresp.schemas DIR` writes the schemas (`make docs`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from awsresp.model import Layer, Severity
from awsresp.scanfile import ScanFile


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- conditions (pass_when, applies_when) -------------------------------------------------


class Test(_Strict):
    """A test: `path` (JMESPath into the configuration) and exactly one operator (the loader
    refuses more). A test checks these are rules.OPERATORS."""

    path: str
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    gt: Any = None
    gte: Any = None
    lt: Any = None
    lte: Any = None
    exists: bool | None = None
    empty: bool | None = None
    contains: Any = None
    matches: str | None = None
    older_than_days: float | None = None
    within_days: float | None = None


class AllOf(_Strict):
    all: list[AllOf | AnyOf | NotOf | Test] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[AllOf | AnyOf | NotOf | Test] = Field(min_length=1)


class NotOf(_Strict):
    not_: AllOf | AnyOf | NotOf | Test = Field(alias="not")


Condition: TypeAlias = AllOf | AnyOf | NotOf | Test
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


# --- mappings/controls/<service>.yaml --------------------------------------------------


class ControlEntry(_Strict):
    """A control (or `{id, disabled: true}` removing a packaged one)."""

    id: str = Field(pattern=r"^[a-z-]+\.[a-z0-9-]+\.[a-z0-9-]+$")
    title: str | None = None
    layer: Layer | None = None
    resource: str | None = Field(default=None, pattern=r"^[a-z0-9]+\.[a-z0-9-]+$")
    severity: Severity | None = None
    pass_when: Condition | None = None
    applies_when: Condition | None = None
    safeguard: bool = True
    references: dict[str, str | list[str]] = {}
    remediation: str | None = None
    description: str | None = None
    disabled: bool = False
    protects: Literal["account"] | list[str] | None = None
    covers: list[str] = []


# --- the owners file (--owners) ------------------------------------------------------------

Strings = str | list[str]
Date = dt.date | str


class PartyEntry(_Strict):
    name: str
    contact: str = ""
    contract: str = ""
    review: Date | None = None
    note: str = ""


class OwnerRuleEntry(_Strict):
    party: str
    services: Strings = "*"
    layers: Strings = "*"
    tag: Strings | None = None
    account: Strings | None = None
    ou: Strings | None = None
    note: str = ""


class OwnersFile(_Strict):
    """The owners file: named parties and the layers they hold (docs/ownership.md)."""

    model_config = ConfigDict(title="awsresp owners file")
    tag_key: str | None = None
    parties: list[PartyEntry] = []
    rules: list[OwnerRuleEntry] = []


# --- the accept file (--accept) ------------------------------------------------------------


class AcceptEntry(_Strict):
    control: str
    resource: Strings | None = None
    account: Strings | None = None
    tags: dict[str, str] | None = None
    reason: str
    approver: str
    expires: Date
    note: str = ""


class AcceptFile(_Strict):
    """The accept file: failures accepted as risks until their expiry (docs/ownership.md)."""

    model_config = ConfigDict(title="awsresp accept file")
    accepted: list[AcceptEntry]


# --- collectors/<service>.yaml -------------------------------------------------------------


class CallEntry(_Strict):
    operation: str = Field(pattern=r"^[A-Z][A-Za-z0-9]+$")
    params: dict[str, Any] = {}
    const_params: dict[str, Any] = {}
    result: str | None = None
    absent_on: list[str] = []
    not_enabled_on: list[str] = []
    page_size: int | None = None
    iam_action: str | None = None
    transform: str | None = None
    # A null result is a failed read; `failed` names the answer's refused entries.
    required: bool = False
    failed: str | None = None
    # Top-level blob members of the answer kept as UTF-8 text (every other blob is
    # "<N bytes>"): GetCredentialReport's CSV Content.
    text: list[str] = []


class ListCall(CallEntry):
    items: str


class HookCall(_Strict):
    hook: str


class JoinEntry(_Strict):
    """A detail joined by key from one read of a listing (docs/development.md)."""

    items: str
    key: str
    item_key: str


class ShapedCall(CallEntry):
    """A call a detail or an `each` read makes: on another client, joined, only `when`."""

    # The boto3 client of the call when it is not the resource's (a load balancer's WAFv2).
    client: str | None = None
    join: JoinEntry | None = None
    # Made only where this path holds (over the item, or the element); null elsewhere.
    when: str | None = None


class EachRead(ShapedCall):
    """A read made for every element of a detail's list (docs/development.md)."""

    # A path in the element naming the region the call goes to.
    region: str | None = None
    # The field of the element the result goes into; without it a result object is merged.
    into: str | None = None
    # One call per value at this path of the element (params and region then read `@`).
    over: str | None = None


class EachEntry(_Strict):
    as_: str | None = Field(default=None, alias="as")
    read: list[EachRead] = Field(min_length=1)


class UnionEntry(CallEntry):
    """A second listing whose entries the detail's list lacks, by `key`, are appended."""

    key: str


class DetailCall(ShapedCall):
    """A detail's call (a detail's `when` also orders the details)."""

    before_region: bool = False
    unless: str | None = None
    each: EachEntry | None = None
    union: UnionEntry | None = None
    # A ready hook run once per scan before the call (it makes no field).
    ready: str | None = None


class DetailFrom(_Strict):
    """No call: the distinct values at a path over the item's earlier details."""

    from_: str = Field(alias="from")
    when: str | None = None
    each: EachEntry | None = None


class DetailHook(HookCall):
    before_region: bool = False


class ResourceEntry(_Strict):
    list_: ListCall | HookCall | None = Field(default=None, alias="list")
    singleton: bool = False
    id: str
    name: str | None = None
    arn: str
    region: str | None = None
    tags: str | None = None
    details: dict[str, DetailCall | DetailHook | DetailFrom] = {}
    redact: list[str] = []
    client: str | None = None
    iam_prefix: str | None = None


class CollectorFile(_Strict):
    """collectors/<service>.yaml: what to read from one AWS service."""

    model_config = ConfigDict(title="awsresp collector spec")
    service: str
    scope: Literal["global", "regional"]
    iam_prefix: str | None = None
    resources: dict[str, ResourceEntry]


# --- publishing --------------------------------------------------------------------------


def _list_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """A top-level list of `model`, with its definitions."""
    item = model.model_json_schema()
    defs = item.pop("$defs", {})
    defs[model.__name__] = item
    return {
        "title": title,
        "type": "array",
        "items": {"$ref": f"#/$defs/{model.__name__}"},
        "$defs": defs,
    }


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of each published format."""
    scan = ScanFile.model_json_schema(mode="serialization")
    scan["title"] = "awsresp scan.json (schema version 2)"
    out = {
        "scan.schema.json": scan,
        "controls.schema.json": _list_schema(ControlEntry, "awsresp controls file"),
        "owners.schema.json": OwnersFile.model_json_schema(),
        "accept.schema.json": AcceptFile.model_json_schema(),
        "collector.schema.json": CollectorFile.model_json_schema(),
    }
    for name, schema in out.items():
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        # Relative: resolved against wherever the file is served from (docs/schema/).
        schema["$id"] = name
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Writes every schema into the directory given (docs/schema)."""
    target = Path(argv[0] if argv else "docs/schema")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (target / name).write_text(render(schema), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
