"""Runs the pipeline for one account: collect, map, summarize; and (re)loads saved scans."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from awsresp import summary
from awsresp.collect.executor import Collector, ProgressCallback
from awsresp.collect.session import Target, resolve_regions, whoami
from awsresp.collect.specs import ServiceSpec, load_specs, resource_types
from awsresp.evaluate import findings as mapping
from awsresp.evaluate import frameworks as fw
from awsresp.evaluate.accept import NO_ACCEPTS, AcceptList, load_accepts
from awsresp.evaluate.accountable import Accountability
from awsresp.evaluate.catalog import Catalog, load_catalog
from awsresp.evaluate.owners import NO_OWNERS, AccountFacts, Owners, load_owners
from awsresp.evaluate.userfile import read
from awsresp.model import AccountInfo, Finding, Inventory, Resource, ScanResult


@dataclass(frozen=True)
class Definitions:
    """Everything declarative: collector specs, mapping data and framework views, loaded and
    cross-checked; and the user's owners and accept files, when given."""

    specs: tuple[ServiceSpec, ...]
    catalog: Catalog
    frameworks: tuple[fw.Framework, ...] = ()
    owners: Owners = NO_OWNERS
    accepts: AcceptList = NO_ACCEPTS

    @classmethod
    def load(
        cls,
        extra_mappings: Path | None = None,
        owners: Path | None = None,
        accept: Path | None = None,
    ) -> Definitions:
        specs = load_specs()
        catalog = load_catalog(resource_types(specs), extra_mappings)
        frameworks = fw.load_frameworks(catalog, extra_mappings)
        found = cls(tuple(specs), catalog, frameworks)
        return found.with_files(read(owners) if owners else None, read(accept) if accept else None)

    def with_files(
        self, owners: tuple[str, str] | None = None, accept: tuple[str, str] | None = None
    ) -> Definitions:
        """With an owners file and an accept file, each given as (name, text)."""
        return dataclasses.replace(
            self,
            owners=load_owners(*owners, self.catalog) if owners else self.owners,
            accepts=load_accepts(*accept, self.catalog) if accept else self.accepts,
        )

    def accountability(
        self, now: dt.datetime, accounts: Mapping[str, AccountFacts] | None = None
    ) -> Accountability:
        return Accountability.of(self.owners, self.accepts, now, accounts)

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
        return dataclasses.replace(
            self, specs=tuple(s for s in self.specs if s.service in services)
        )


def evaluate(
    inventory: Inventory,
    definitions: Definitions,
    now: dt.datetime,
    found: Sequence[Finding] | None = None,
    accountable: Accountability | None = None,
) -> ScanResult:
    """The pure mapping stages: inventory -> findings -> matrix -> framework views. `found`:
    the inventory's findings when already evaluated (in inventory order) with `accountable`,
    as a scan does while collecting."""
    catalog = definitions.catalog
    if accountable is None:
        accountable = definitions.accountability(now)
    if found is None:
        found = list(mapping.findings(inventory, catalog, now, accountable))
    found = tuple(found)
    cells = tuple(summary.matrix(inventory, found, catalog, accountable.assigner))
    classes = tuple(catalog.service_class(r.type, r.config).value for r in inventory.resources)
    scanned = inventory.services or tuple(s.service for s in definitions.specs)
    return ScanResult(
        inventory,
        found,
        cells,
        now.replace(microsecond=0).isoformat(),
        classes,
        ranked=tuple(summary.ranked_gaps(cells)),
        undetermined=tuple(summary.undetermined_services(inventory)),
        parties=definitions.owners.parties,
        requirements=fw.judge(definitions.frameworks, found),
        warnings=tuple(accountable.warnings(catalog, scanned)),
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
    identity = whoami(target, deadline)
    if expect_account and identity.account != expect_account:
        from awsresp.errors import AwsrespError

        raise AwsrespError(
            f"the credentials act in account {identity.account}, not {expect_account}"
        )
    region_list = resolve_regions(target, list(regions), all_regions, deadline)
    # The instant every control is judged at (key ages, certificate expiry): the scan's
    # start, so findings do not depend on when in the scan a resource was read.
    now = dt.datetime.now(dt.UTC)
    catalog = definitions.catalog
    by_type = mapping.controls_by_type(catalog)
    # OU rules of the owners file need the account's OU, which an organization scan knows.
    known = {identity.account: account_info} if account_info else None
    accountable = definitions.accountability(now, known)

    def evaluate_type(resources: Sequence[Resource]) -> list[Finding]:
        return list(mapping.findings_for(resources, catalog, now, by_type, accountable))

    collector = Collector(
        target,
        definitions.specs,
        identity.account,
        identity.partition,
        region_list,
        progress=progress,
        deadline=deadline,
    )
    # Controls are judged per resource type as soon as it is collected, overlapping with the
    # calls still under way (make bench: see docs/performance.md).
    collected = collector.collect(evaluate_type)
    inventory = collected.inventory
    # Every issue names its account, so an organization's issues can be told apart.
    issues = tuple(dataclasses.replace(i, account=inventory.account) for i in inventory.issues)
    inventory = dataclasses.replace(inventory, issues=issues)
    result = evaluate(inventory, definitions, now, collected.findings, accountable)
    stats = {f"{svc}:{op}": n for (svc, op), n in sorted(target.stats.calls.items())}
    return dataclasses.replace(result, stats=stats, account_info=account_info)
