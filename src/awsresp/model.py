"""The typed, immutable core model every pipeline stage passes to the next."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Layer(enum.StrEnum):
    """A responsibility layer (see mappings/layers.yaml for what each covers)."""

    PHYSICAL = "physical"
    VIRTUALIZATION = "virtualization"
    NETWORK_CONTROLS = "network-controls"
    OPERATING_SYSTEM = "operating-system"
    PLATFORM_RUNTIME = "platform-runtime"
    APPLICATION = "application"
    DATA = "data"
    ACCESS_RIGHTS = "access-rights"
    IDENTITY_DIRECTORY = "identity-directory"
    ENDPOINTS = "endpoints"
    SETTINGS = "settings"
    LOGGING_DETECTION = "logging-detection"


class ServiceClass(enum.StrEnum):
    INFRASTRUCTURE = "infrastructure"
    CONTAINER = "container"
    ABSTRACTED = "abstracted"


# Owners are an open set: the three below plus any third party a user's mapping names.
CUSTOMER = "customer"
AWS = "aws"
SHARED = "shared"
BUILTIN_OWNERS = (CUSTOMER, AWS, SHARED)


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 ... info 0."""
        return _SEVERITY_RANK[self]

    @property
    def grave(self) -> bool:
        """High or critical: a failure of such a control on a resource exposes it."""
        return self in (Severity.CRITICAL, Severity.HIGH)


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class FindingStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    # A failure the user accepted (--accept), with reason and expiry: neither a pass nor a
    # failure in the gap rule; it fails again the day its acceptance expires.
    ACCEPTED = "accepted"


class CellStatus(enum.StrEnum):
    COVERED = "covered"
    PARTIAL = "partial"
    GAP = "gap"
    NOT_ASSESSED = "not-assessed"
    INHERITED = "inherited"

    @property
    def rank(self) -> int:
        """How bad, for every worst-of shown (an organization overview, a diff): gap >
        partial > not-assessed > covered > inherited (DESIGN, the gap rule)."""
        return _CELL_RANK[self]


_CELL_RANK = {
    CellStatus.GAP: 4,
    CellStatus.PARTIAL: 3,
    CellStatus.NOT_ASSESSED: 2,
    CellStatus.COVERED: 1,
    CellStatus.INHERITED: 0,
}


class UnitState(enum.StrEnum):
    """What one unit of a cell (a resource, or an account setting in one region) shows."""

    EXPOSED = "exposed"
    UNREADABLE = "unreadable"
    CONTROLLED = "controlled"
    WEAK = "weak"
    # Its failures are all accepted risks and nothing shows a safeguard: left out of the
    # cell's judgement (and of its coverage), counted apart.
    ACCEPTED = "accepted"


class GapKind(enum.StrEnum):
    GAP = "gap"  # a gap cell: no unit controlled
    EXPOSURE = "exposure"  # a cell with some units controlled and some exposed


# The matrix row of an account's baseline (root, password policy, CloudTrail, Config, ...).
ACCOUNT_ROW = "account"


class IssueKind(enum.StrEnum):
    ACCESS_DENIED = "access-denied"
    NOT_ENABLED = "not-enabled"
    THROTTLED = "throttled"
    ERROR = "error"


# slots: a scan holds thousands of resources and findings; no per-object __dict__.
@dataclass(frozen=True, slots=True)
class Resource:
    """One collected item. `config` is the raw configuration, JSON-safe.

    `unreadable` names the top-level keys of `config` whose detail call failed: a
    condition that reads them evaluates to unknown, never to pass or fail.
    `account_fact` marks singletons that describe the account or a region (password
    policy, EBS default encryption) rather than a workload resource.
    """

    type: str
    id: str
    arn: str
    name: str
    account: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()
    account_fact: bool = False
    # A placeholder standing for every resource of a type that could not be listed.
    unlisted: bool = False

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]


@dataclass(frozen=True)
class CollectionIssue:
    """Something the scanner could not read. Never swallowed: it makes findings unknown."""

    service: str
    region: str
    operation: str
    error_code: str
    kind: IssueKind
    message: str
    resource_type: str = ""
    # The IAM action a policy must allow for this read (e.g. s3:GetBucketAcl).
    iam_action: str = ""
    # The account the read was made in (an organization scan has many).
    account: str = ""


@dataclass(frozen=True)
class AccountInfo:
    """An account as its organization names it: the name (never the e-mail address), the
    path of organizational units from the root (e.g. Root/Prod/Web) and the account's tags."""

    id: str
    name: str = ""
    ou_path: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Party:
    """A named party accountable for the customer's part of some layers (the owners file):
    a managed-service provider, a vendor, an internal team."""

    name: str
    contact: str = ""
    # The contract or SLA that assigns the responsibility (e.g. "MSA 2026, schedule B").
    contract: str = ""
    review: str = ""  # ISO date the assignment is due for review; "" when none


@dataclass(frozen=True)
class Acceptance:
    """Why a failing finding is accepted, by whom and until when (the accept file)."""

    reason: str
    approver: str
    expires: str  # ISO date: from that day on the finding fails again
    where: str  # file:line of the entry
    expired: bool = False


@dataclass(frozen=True)
class Inventory:
    account: str
    partition: str
    regions: tuple[str, ...]
    resources: tuple[Resource, ...]
    issues: tuple[CollectionIssue, ...]
    started_at: str = ""
    finished_at: str = ""
    complete: bool = True
    # The services whose collectors ran (`-s` narrows them); empty: not recorded (every one).
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    layer: Layer
    resource_type: str
    severity: Severity
    condition: Any  # a parsed rules.Condition; Any here keeps the model free of rules
    applies_when: Any | None
    safeguard: bool
    references: Mapping[str, tuple[str, ...]]
    remediation: str
    description: str = ""
    source_file: str = ""
    # Set at load time from the collector specs: the resource type is an account fact.
    account_scoped: bool = False
    # What an account fact protects: (ACCOUNT_ROW,) for the account's baseline, or the
    # services the setting protects. Empty for a control on a resource's own type, which is
    # evidence for that resource's service only.
    protects: tuple[str, ...] = ()
    # Controls (on resources) whose failures do not count while this setting passes in
    # their region (S3's account Block Public Access covers the bucket-level one).
    covers: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        return self.resource_type.split(".", 1)[0]

    @property
    def scope(self) -> tuple[str, ...]:
        """The rows this control gives evidence to: its own service, the services a setting
        protects, or the account row."""
        return self.protects or (self.service,)

    @property
    def baseline(self) -> bool:
        return self.protects == (ACCOUNT_ROW,)


@dataclass(frozen=True, slots=True)
class Finding:
    control: Control
    resource: Resource
    status: FindingStatus
    evidence: Mapping[str, Any]
    service_class: ServiceClass
    owner: str
    # Who is accountable for the customer's part: "customer", a named party, or "aws".
    party: str = CUSTOMER
    # Set when an accepted-risk entry matched: status ACCEPTED, or FAIL once it expired.
    acceptance: Acceptance | None = None

    @property
    def layer(self) -> Layer:
        return self.control.layer


@dataclass(frozen=True)
class Cell:
    """One account x service (x service class) x layer (x party) of the matrix, judged per
    unit.

    `resources` counts the units (resources with a control of their own on the layer, and
    account settings protecting the service, once per region); `controlled + exposed + weak +
    unreadable + accepted == resources`. `coverage` is controlled / (units - accepted) in per
    cent (rounded down), `worst` the highest severity failing ("" when nothing fails)."""

    account: str
    layer: Layer
    service: str
    service_class: ServiceClass
    owner: str
    status: CellStatus
    resources: int
    controlled: int
    exposed: int
    weak: int
    unreadable: int
    coverage: int
    worst: str
    reason: str
    evidence: str
    # Who is accountable for the customer's part; tag rules may split a service's layer
    # into one cell per party.
    party: str = CUSTOMER
    # Units whose only failures are accepted risks (not judged; see UnitState.ACCEPTED).
    accepted: int = 0
    # Every unit is an account setting protecting the service (no resource of its own):
    # the same evidence then shows on each class row of the service, and the gap list
    # names it once. Not written out; a cell read back from scan.json says False.
    settings_only: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Gap:
    """A ranked entry of the gap list: a gap cell, or a cell with exposed units."""

    cell: Cell
    kind: GapKind
    # For a baseline gap on the account row: the services in use it shows on (via-account).
    affects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """What a scan covered: the services collected and the regions read."""

    services: tuple[str, ...]
    regions: tuple[str, ...]


class RequirementStatus(enum.StrEnum):
    """A framework requirement judged from the findings of the controls mapped to it."""

    MET = "met"  # every mapped finding passes
    PARTLY = "partly"  # some pass; some fail, are accepted or could not be read
    NOT_MET = "not-met"  # none passes, some fail (or are accepted)
    NO_EVIDENCE = "no-automated-evidence"  # nothing mapped was decided in this scan
    INHERITED = "inherited"  # AWS's alone (it attests it)


@dataclass(frozen=True)
class RequirementResult:
    """One row of frameworks.csv: a requirement, who answers for it, and what the scan shows."""

    framework: str
    requirement: str
    title: str
    aws: str  # AWS's responsibility: inherited, shared or customer
    source: str  # the document (and date) that responsibility comes from
    basis: str  # "published" (the source says so) or "awsresp reading"
    parties: tuple[str, ...]
    status: RequirementStatus
    passed: int
    failed: int
    accepted: int
    unknown: int
    controls: tuple[str, ...]


@dataclass(frozen=True)
class ScanResult:
    inventory: Inventory
    findings: tuple[Finding, ...]
    cells: tuple[Cell, ...]
    scanned_at: str
    # The service class of each inventory resource, in inventory order.
    classes: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    # Gaps, then exposures, each ranked (summary.ranked_gaps).
    ranked: tuple[Gap, ...] = ()
    # (account, service) pairs whose listing failed with nothing listed: in use or not?
    undetermined: tuple[tuple[str, str], ...] = ()
    # The parties of the owners file; the framework requirements judged; and what the
    # owners and accept files want the user to know (expired acceptances, unused rules).
    parties: tuple[Party, ...] = ()
    requirements: tuple[RequirementResult, ...] = ()
    warnings: tuple[str, ...] = ()
    # The account's name and organizational unit, when an organization scan listed it.
    account_info: AccountInfo | None = None

    @property
    def gaps(self) -> list[Gap]:
        """Customer-owned layers without a working control (each baseline gap once)."""
        return [g for g in self.ranked if g.kind == GapKind.GAP]

    @property
    def exposures(self) -> list[Gap]:
        return [g for g in self.ranked if g.kind == GapKind.EXPOSURE]

    @property
    def scope(self) -> Scope:
        return Scope(self.inventory.services, self.inventory.regions)

    @property
    def complete(self) -> bool:
        return self.inventory.complete
