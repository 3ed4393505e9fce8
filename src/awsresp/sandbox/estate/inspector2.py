"""Amazon Inspector in the sandbox: EC2 and Lambda standard scanning on in us-east-1, Lambda
code scanning off. moto answers nothing for a region where Inspector was never turned on
(AWS would say DISABLED): eu-west-1 stays unreadable, as it must."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsresp.sandbox.estate.cloudtrail import ACCOUNT

if TYPE_CHECKING:
    from awsresp.sandbox import Sandbox


def seed(sb: Sandbox) -> None:
    sb.client("inspector2").enable(accountIds=[ACCOUNT], resourceTypes=["EC2", "LAMBDA"])
