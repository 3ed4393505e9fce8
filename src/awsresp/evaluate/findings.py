"""Applies the mapping data to an inventory: service classes, owners and control findings."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

from awsresp.evaluate import rules
from awsresp.evaluate.accountable import Accountability
from awsresp.evaluate.catalog import Catalog
from awsresp.model import AWS, CUSTOMER, Control, Finding, FindingStatus, Inventory, Resource


def controls_by_type(catalog: Catalog) -> dict[str, list[Control]]:
    by_type: dict[str, list[Control]] = defaultdict(list)
    for control in catalog.controls.values():
        by_type[control.resource_type].append(control)
    return by_type


def evaluate_control(
    control: Control, resource: Resource, now: dt.datetime
) -> tuple[FindingStatus, dict[str, object]] | None:
    """The control's status on one resource, or None when it does not apply."""
    evidence: dict[str, object] = {}
    if resource.unlisted:
        return FindingStatus.UNKNOWN, {"*": "<could not be listed>"}
    if control.applies_when is not None:
        applies = rules.evaluate(
            control.applies_when, resource.config, resource.unreadable, now, evidence
        )
        if applies is False:
            return None
        if applies is None:
            return FindingStatus.UNKNOWN, evidence
    result = rules.evaluate(control.condition, resource.config, resource.unreadable, now, evidence)
    if result is None:
        return FindingStatus.UNKNOWN, evidence
    return (FindingStatus.PASS if result else FindingStatus.FAIL), evidence


def findings(
    inventory: Inventory,
    catalog: Catalog,
    now: dt.datetime,
    accountable: Accountability | None = None,
) -> Iterator[Finding]:
    """One finding per applicable control and resource, in inventory order."""
    return findings_for(inventory.resources, catalog, now, accountable=accountable)


def findings_for(
    resources: Iterable[Resource],
    catalog: Catalog,
    now: dt.datetime,
    by_type: Mapping[str, list[Control]] | None = None,
    accountable: Accountability | None = None,
) -> Iterator[Finding]:
    """One finding per applicable control and resource, in the order given. Each resource's
    findings depend on that resource alone, so a scan evaluates each resource type as soon
    as it is collected (scan.scan_account). `accountable`: the owners and accept files,
    which name each finding's party and accept failures."""
    if by_type is None:
        by_type = controls_by_type(catalog)
    for resource in resources:
        controls = by_type.get(resource.type)
        if not controls:
            continue
        service_class = catalog.service_class(resource.type, resource.config)
        for control in controls:
            outcome = evaluate_control(control, resource, now)
            if outcome is None:
                continue
            status, evidence = outcome
            owner = catalog.owner(control.layer, resource.service, service_class)
            if accountable is None:
                party, acceptance = (AWS if owner == AWS else CUSTOMER), None
            else:
                party, status, acceptance = accountable.judge(control, resource, owner, status)
            yield Finding(
                control=control,
                resource=resource,
                status=status,
                evidence=evidence,
                service_class=service_class,
                owner=owner,
                party=party,
                acceptance=acceptance,
            )
