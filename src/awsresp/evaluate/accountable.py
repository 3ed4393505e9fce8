"""The owners and accept files applied to one scan: who is accountable for each finding, and
which failures are accepted risks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from awsresp.evaluate.accept import NO_ACCEPTS, AcceptList, Acceptor
from awsresp.evaluate.catalog import Catalog
from awsresp.evaluate.owners import NO_OWNERS, AccountFacts, Assigner, Owners
from awsresp.model import Acceptance, Control, FindingStatus, Resource


@dataclass
class Accountability:
    """One scan's parties and acceptances; remembers what matched, for the warnings."""

    assigner: Assigner
    acceptor: Acceptor

    @classmethod
    def of(
        cls,
        owners: Owners = NO_OWNERS,
        accepts: AcceptList = NO_ACCEPTS,
        now: dt.datetime | None = None,
        accounts: Mapping[str, AccountFacts] | None = None,
    ) -> Accountability:
        # The day acceptances are judged at: the scan's instant, in UTC.
        today = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date()
        return cls(Assigner(owners, dict(accounts or {})), Acceptor(accepts, today))

    def judge(
        self, control: Control, resource: Resource, owner: str, status: FindingStatus
    ) -> tuple[str, FindingStatus, Acceptance | None]:
        """(party, status, acceptance) of one finding: a failure an entry in force accepts
        becomes `accepted`; one whose entry expired stays `fail` and names it."""
        party = self.assigner.party(
            owner, resource.account, resource.service, control.layer, resource.tags
        )
        acceptance = None
        if status == FindingStatus.FAIL:
            acceptance = self.acceptor.acceptance(control.id, resource)
            if acceptance is not None and not acceptance.expired:
                status = FindingStatus.ACCEPTED
        return party, status, acceptance

    def warnings(self, catalog: Catalog, scanned: Iterable[str]) -> list[str]:
        scanned = list(scanned)
        owners = self.assigner.owners
        return [
            *owners.warnings,
            *owners.review_warnings(self.acceptor.today),
            *self.assigner.unused_rules(scanned),
            *self.acceptor.warnings(catalog, scanned),
        ]
