"""scan.json (schema version 2) as one typed model family: the writer builds it from a scan
(export/scanjson.py), every reader (diff, remap, reports, merge) reads it back through it,
and its JSON Schema is published from it (docs/schema/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, field_validator

from awsresp.errors import AwsrespError
from awsresp.model import (
    CellStatus,
    FindingStatus,
    GapKind,
    IssueKind,
    Layer,
    RequirementStatus,
    ServiceClass,
    Severity,
)

# 2: the gap rule v2 (cells judged per unit; the account row; gaps and exposures ranked)
# and the scan's scope (services and regions collected). Later additions are new keys and
# columns a version-2 reader may ignore: parties and accepted risks (a finding status
# `accepted`, columns party, accepted*, the lists owners, frameworks and warnings), the
# digests of the output set (`files`). The one version this awsresp writes and reads.
SCHEMA_VERSION: Final = 2
READS_VERSION = SCHEMA_VERSION

# findings.csv and scan.json spell a flag "true" / "false"; the model holds a bool.
Flag = Annotated[bool, PlainSerializer(lambda v: "true" if v else "false", return_type=str)]


class ScanFileError(AwsrespError):
    """A scan.json that cannot be read: missing, not JSON, of another version or shape."""


class _Row(BaseModel):
    # Frozen like the rest of the model; keys this reader does not know (a later minor
    # addition, another tool's annotations) are ignored rather than refused.
    model_config = ConfigDict(frozen=True, extra="ignore")


class _AccountRow(_Row):
    account_id: str
    # Written by organization scans; empty for one account.
    account_name: str = ""
    ou_path: str = ""


class FindingRow(_AccountRow):
    region: str
    service: str
    resource_type: str
    resource_id: str
    resource_arn: str
    resource_name: str
    service_class: ServiceClass
    layer: Layer
    owner: str
    # The accountable party (the owners file); scans before it have none.
    party: str = ""
    control_id: str
    control_title: str
    status: FindingStatus
    severity: Severity
    safeguard: Flag
    evidence: str
    references: str
    remediation: str
    accepted_reason: str = ""
    accepted_by: str = ""
    accepted_until: str = ""
    scanned_at: str
    finding_id: str

    @field_validator("safeguard", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        # findings.csv and scan.json spell it "true" / "false".
        if value in ("true", "false"):
            return value == "true"
        return value


class CellRow(_AccountRow):
    layer: Layer
    service: str
    service_class: ServiceClass
    owner: str
    party: str = ""
    status: CellStatus
    resources: int = Field(ge=0)
    controlled: int = Field(ge=0)
    exposed: int = Field(ge=0)
    weak: int = Field(ge=0)
    unreadable: int = Field(ge=0)
    accepted: int = Field(default=0, ge=0)
    coverage: int = Field(ge=0, le=100)
    worst: Severity | Literal[""]
    reason: str
    evidence: str

    @property
    def row_key(self) -> tuple[str, str, str]:
        """The matrix row the cell sits on: account, service, service class."""
        return (self.account_id, self.service, self.service_class.value)

    @property
    def key(self) -> tuple[str, str, ServiceClass, Layer, str]:
        """The cell: account, service, class, layer and party (tag rules of the owners file
        can split a layer between parties)."""
        return (self.account_id, self.service, self.service_class, self.layer, self.party)


class GapRow(CellRow):
    rank: int
    kind: GapKind
    affects: str = ""


class IssueRow(_Row):
    account_id: str = ""
    account_name: str = ""
    service: str
    region: str
    operation: str
    iam_action: str = ""
    error_code: str
    kind: IssueKind
    resource_type: str = ""
    message: str = ""


class ResourceRow(_Row):
    """A collected resource with its configuration (redacted at collection): what `remap`
    re-judges."""

    type: str
    id: str
    arn: str
    name: str
    account: str
    region: str
    service_class: ServiceClass
    tags: dict[str, str] = {}
    account_fact: bool = False
    unlisted: bool = False
    unreadable: list[str] = []
    config: dict[str, Any] = {}


class OwnerRow(_Row):
    """A row of owners.csv: one accountable party."""

    party: str
    contact: str = ""
    contract: str = ""
    review: str = ""
    layers: str = ""
    cells: int = 0
    covered: int = 0
    partial: int = 0
    gap: int = 0
    not_assessed: int = 0
    inherited: int = 0
    findings_pass: int = 0
    findings_fail: int = 0
    findings_accepted: int = 0
    findings_unknown: int = 0
    gaps: int = 0
    exposures: int = 0
    worst: str = ""


class FrameworkRow(_Row):
    """A row of frameworks.csv: one framework requirement."""

    framework: str
    requirement: str
    title: str
    aws_responsibility: str
    responsibility_source: str
    responsibility_basis: str
    party: str
    status: RequirementStatus
    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    accepted: int = Field(ge=0)
    unknown: int = Field(ge=0)
    controls: str = ""


class Undetermined(_Row):
    account_id: str
    service: str


class Tool(_Row):
    name: str
    version: str


class Scope(_Row):
    services: list[str] = []
    regions: list[str] = []


class OrgAccount(_Row):
    """An account of an organization's merged scan (from its run's manifest)."""

    account_id: str
    account_name: str = ""
    ou_path: str = ""
    tags: dict[str, str] | None = None
    state: str = ""
    complete: bool = True
    run: str | None = None
    scanned_at: str | None = None
    regions: list[str] | None = None
    services: list[str] | None = None
    counts: dict[str, Any] | None = None


class Organization(_Row):
    id: str = ""
    management_account: str = ""
    # The day merged, and the accounts the day's account list skipped (suspended) or that
    # have no finished run.
    date: str = ""
    accounts: list[OrgAccount] = []
    skipped: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []


class Stats(_Row):
    # API calls by "client:Operation".
    api_calls: dict[str, int] = {}


class ScanFile(_Row):
    """One scan.json: one account's scan, or an organization's merged scans."""

    schema_version: Literal[2]
    tool: Tool
    scanned_at: str
    account: str
    account_name: str = ""
    ou_path: str = ""
    partition: str
    regions: list[str]
    scope: Scope = Scope()
    complete: bool
    started_at: str = ""
    finished_at: str = ""
    summary: dict[str, Any] = {}
    issues: list[IssueRow]
    findings: list[FindingRow]
    matrix: list[CellRow]
    gaps: list[GapRow]
    owners: list[OwnerRow] = []
    frameworks: list[FrameworkRow] = []
    warnings: list[str] = []
    undetermined: list[Undetermined] = []
    resources: list[ResourceRow] = []
    stats: Stats = Stats()
    # An organization's merged scan: its accounts.
    organization: Organization | None = None
    # The SHA-256 of each other file of the output set this scan.json vouches for
    # (written last, beside them); absent from a scan.json that is not part of a set.
    files: dict[str, str] | None = None

    @property
    def accounts(self) -> list[str]:
        """Every account the scan holds, in matrix order (then any only named elsewhere)."""
        seen: dict[str, None] = {}
        if self.account:
            seen[self.account] = None
        for c in self.matrix:
            seen.setdefault(c.account_id, None)
        if self.organization:
            for a in self.organization.accounts:
                seen.setdefault(a.account_id, None)
        return list(seen)

    def account_names(self) -> dict[str, str]:
        """Account id -> name, where the scan knows one (an organization's)."""
        names: dict[str, str] = {}
        if self.account and self.account_name:
            names[self.account] = self.account_name
        if self.organization:
            names |= {a.account_id: a.account_name for a in self.organization.accounts}
        for row in self.matrix:
            if row.account_name:
                names.setdefault(row.account_id, row.account_name)
        return {k: v for k, v in names.items() if v}


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top)"


def parse_scan(doc: Any, source: str = "scan.json") -> ScanFile:
    """A scan.json value as a ScanFile; ScanFileError names the first problem in one line."""
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise ScanFileError(f"{source} is not an awsresp scan.json (no schema_version)")
    version = doc["schema_version"]
    if version != READS_VERSION or isinstance(version, bool):
        newer = isinstance(version, int) and version > READS_VERSION
        hint = "upgrade awsresp" if newer else "scan again with this awsresp"
        raise ScanFileError(
            f"{source} is a scan.json of schema version {version!r}; this awsresp reads"
            f" version {READS_VERSION}: {hint}"
        )
    try:
        return ScanFile.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = exc.error_count() - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ScanFileError(
            f"{source} is not a valid scan.json: {_where(first['loc'])}: {first['msg']}{tail}"
        ) from None


def read_scan(path: Path) -> ScanFile:
    """A scan.json file, or the scan.json in an output folder."""
    if path.is_dir():
        path = path / "scan.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScanFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ScanFileError(f"{path} is not JSON ({exc})") from None
    return parse_scan(doc, str(path))
