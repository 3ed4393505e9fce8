"""Runs the pipeline for one account: collect, map, summarize; and (re)loads saved scans."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from awsresp import summary
from awsresp.collect.executor import Collector, ProgressCallback
from awsresp.collect.session import Target, resolve_regions, whoami
from awsresp.collect.specs import ServiceSpec, load_specs, resource_types
from awsresp.evaluate import findings as mapping
from awsresp.evaluate.catalog import Catalog, load_catalog
from awsresp.model import AccountInfo, Finding, Inventory, Resource, ScanResult


@dataclass(frozen=True)
class Definitions:
    """Everything declarative: collector specs and mapping data, loaded and cross-checked."""

    specs: tuple[ServiceSpec, ...]
    catalog: Catalog

    @classmethod
    def load(cls, extra_mappings: Path | None = None) -> Definitions:
        specs = load_specs()
        catalog = load_catalog(resource_types(specs), extra_mappings)
        return cls(tuple(specs), catalog)

    def select(self, services: Sequence[str]) -> Definitions:
        if not services:
            return self
        known = {s.service for s in self.specs}
        unknown = sorted(set(services) - known)
        if unknown:
            from awsresp.errors import AwsrespError

            raise AwsrespError(
                f"unknown service(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return Definitions(tuple(s for s in self.specs if s.service in services), self.catalog)


def evaluate(
    inventory: Inventory,
    definitions: Definitions,
    now: dt.datetime,
    found: Sequence[Finding] | None = None,
) -> ScanResult:
    """The pure mapping stages: inventory -> findings -> matrix. `found`: the inventory's
    findings when already evaluated (in inventory order), as a scan does while collecting."""
    catalog = definitions.catalog
    found = tuple(mapping.findings(inventory, catalog, now) if found is None else found)
    cells = tuple(summary.matrix(inventory, found, catalog))
    classes = tuple(catalog.service_class(r.type, r.config).value for r in inventory.resources)
    return ScanResult(
        inventory,
        found,
        cells,
        now.replace(microsecond=0).isoformat(),
        classes,
        ranked=tuple(summary.ranked_gaps(cells)),
        undetermined=tuple(summary.undetermined_services(inventory)),
    )


def scan_account(
    target: Target,
    definitions: Definitions,
    regions: Sequence[str],
    all_regions: bool = False,
    progress: ProgressCallback | None = None,
    deadline: float | None = None,
    account_info: AccountInfo | None = None,
    expect_account: str | None = None,
) -> ScanResult:
    """Collects, maps and summarizes one account. `account_info`: the account's name and
    organizational unit, when an organization scan listed it; `expect_account`: the
    account the credentials must act in (a role ARN template may point elsewhere)."""
    identity = whoami(target)
    if expect_account and identity.account != expect_account:
        from awsresp.errors import AwsrespError

        raise AwsrespError(
            f"the credentials act in account {identity.account}, not {expect_account}"
        )
    region_list = resolve_regions(target, list(regions), all_regions)
    # The instant every control is judged at (key ages, certificate expiry): the scan's
    # start, so findings do not depend on when in the scan a resource was read.
    now = dt.datetime.now(dt.UTC)
    catalog = definitions.catalog
    by_type = mapping.controls_by_type(catalog)

    def evaluate_type(resources: list[Resource]) -> list[Finding]:
        return list(mapping.findings_for(resources, catalog, now, by_type))

    collector = Collector(
        target,
        definitions.specs,
        identity.account,
        identity.partition,
        region_list,
        progress=progress,
        deadline=deadline,
        after_type=evaluate_type,
    )
    inventory = collector.run()
    # Every issue names its account, so an organization's issues can be told apart.
    issues = tuple(dataclasses.replace(i, account=inventory.account) for i in inventory.issues)
    inventory = dataclasses.replace(inventory, issues=issues)
    found = [f for per_type in collector.after_type_results for f in per_type]
    result = evaluate(inventory, definitions, now, found)
    stats = {f"{svc}:{op}": n for (svc, op), n in sorted(target.stats.calls.items())}
    return dataclasses.replace(result, stats=stats, account_info=account_info)
