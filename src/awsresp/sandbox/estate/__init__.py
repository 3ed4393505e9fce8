"""The sandbox estate: one seeding module per service, run in this order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate import compute, data, detect, iam, s3

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox

SEEDERS = (iam.seed, s3.seed, data.seed, compute.seed, detect.seed)


def seed_all(sandbox: Sandbox) -> None:
    for seed in SEEDERS:
        seed(sandbox)
