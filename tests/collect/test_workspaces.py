"""workspaces: the collector against moto in-process (a Stubber where moto lacks an answer)."""

from __future__ import annotations

import boto3

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, collect_only, stubbed
from .conftest import (
    by_name,
)


def test_workspaces_directories_get_their_ip_groups_only_when_they_name_some() -> None:
    target = Target(boto3.Session(region_name=REGION))
    _, stub = stubbed(target, "workspaces")
    stub.add_response(
        "describe_workspace_directories",
        {
            "Directories": [
                {"DirectoryId": "d-1111111111", "DirectoryName": "corp", "ipGroupIds": ["wsipg-1"]},
                {"DirectoryId": "d-2222222222", "DirectoryName": "lab"},
            ]
        },
    )
    rules = [{"ipRule": "203.0.113.0/24", "ruleDesc": "office"}]
    stub.add_response(
        "describe_ip_groups", {"Result": [{"groupId": "wsipg-1", "userRules": rules}]}
    )
    with stub:
        inv = collect_only(target, "workspaces.directory", "IpGroups")
    stub.assert_no_pending_responses()
    directories = by_name(inv, "workspaces.directory")
    assert directories["corp"].config["IpGroups"] == [{"groupId": "wsipg-1", "userRules": rules}]
    assert directories["lab"].config["IpGroups"] == []
    arn = f"arn:aws:workspaces:{REGION}:{ACCOUNT}:directory/d-1111111111"
    assert directories["corp"].arn == arn
