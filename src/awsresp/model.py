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


class FindingStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


class CellStatus(enum.StrEnum):
    COVERED = "covered"
    PARTIAL = "partial"
    GAP = "gap"
    NOT_ASSESSED = "not-assessed"
    INHERITED = "inherited"


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
class Inventory:
    account: str
    partition: str
    regions: tuple[str, ...]
    resources: tuple[Resource, ...]
    issues: tuple[CollectionIssue, ...]
    # Resource types the collector specs could produce (observable ones), by service.
    started_at: str = ""
    finished_at: str = ""
    complete: bool = True


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


@dataclass(frozen=True, slots=True)
class Finding:
    control: Control
    resource: Resource
    status: FindingStatus
    evidence: Mapping[str, Any]
    service_class: ServiceClass
    owner: str

    @property
    def layer(self) -> Layer:
        return self.control.layer


@dataclass(frozen=True)
class Cell:
    account: str
    layer: Layer
    service: str
    service_class: ServiceClass
    owner: str
    status: CellStatus
    passed: int
    failed: int
    unknown: int
    resources: int
    reason: str
    evidence: str


@dataclass(frozen=True)
class ScanResult:
    inventory: Inventory
    findings: tuple[Finding, ...]
    cells: tuple[Cell, ...]
    scanned_at: str
    # The service class of each inventory resource, in inventory order.
    classes: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    # The account's name and organizational unit, when an organization scan listed it.
    account_info: AccountInfo | None = None

    @property
    def gaps(self) -> list[Cell]:
        return [c for c in self.cells if c.status == CellStatus.GAP]

    @property
    def complete(self) -> bool:
        return self.inventory.complete
