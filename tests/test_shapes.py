"""The spec language's regular shapes: `join`, a detail's own `client` and `when` (which
orders details), as the spec loader checks them and as the engine orders and joins them."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from awsresp.collect import hooks, shapes
from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import JoinSpec, load_spec_file
from awsresp.errors import SpecError

HEAD = """\
service: ec2
scope: regional
resources:
  vpc:
    list: {operation: DescribeVpcs, items: Vpcs}
    id: VpcId
    arn: "arn:{partition}:ec2:{region}:{account}:vpc/{VpcId}"
    details:
"""


def _load(tmp_path: Path, details: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "ec2.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(details), " " * 6))
    return load_spec_file(path)


def test_a_join_a_client_and_an_order_are_read(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """
        Logs:
          operation: DescribeFlowLogs
          join: {items: "[].FlowLogs[]", key: ResourceId, item_key: VpcId}
        Acl:
          client: wafv2
          operation: GetWebACLForResource
          params: {ResourceArn: VpcId}
          when: Logs
        Last:
          operation: DescribeVpcAttribute
          params: {VpcId: VpcId}
          const_params: {Attribute: enableDnsSupport}
          when: Acl || Logs
        """,
    )
    (res,) = spec.resources
    logs, acl, _last = res.details
    assert logs.join == JoinSpec("[].FlowLogs[]", "ResourceId", "VpcId")
    assert acl.call is not None and (acl.call.client, acl.call.iam_action) == (
        "wafv2",
        "wafv2:GetWebACLForResource",
    )
    assert ("wafv2", "GetWebACLForResource") in spec.operations()
    assert "wafv2:GetWebACLForResource" in spec.iam_actions()
    # `when: Logs` reads the Logs detail, so Acl waits for it; Last waits for both.
    assert [[d.key for d in stage] for stage in shapes.stages(res.details)] == [
        ["Logs"],
        ["Acl"],
        ["Last"],
    ]


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (
            """
            Logs:
              operation: DescribeFlowLogs
              params: {Filter: VpcId}
              join: {items: "[].FlowLogs[]", key: ResourceId, item_key: VpcId}
            """,
            "no per-item params",
        ),
        (
            """
            Logs:
              operation: DescribeFlowLogs
              join: {items: "[].FlowLogs[]", key: ResourceId}
            """,
            "missing 'item_key'",
        ),
        (
            """
            Logs:
              operation: DescribeFlowLogs
              when: Logs
            """,
            "its 'when' or 'from' reads itself",
        ),
        (
            """
            A:
              operation: DescribeFlowLogs
              when: B
            B:
              operation: DescribeVpcEndpoints
              when: A
            """,
            "details wait for each other: A, B",
        ),
        (
            """
            A:
              operation: DescribeFlowLogs
              when: "B[?"
            """,
            "'when' is not a valid path",
        ),
        (
            """
            A:
              operation: DescribeFlowLogs
              union: {operation: DescribeVpcs, params: {VpcIds: VpcId}, key: VpcId}
            """,
            "const_params only",
        ),
        (
            """
            A:
              operation: DescribeFlowLogs
              union: {operation: DescribeVpcs}
            """,
            "missing 'key'",
        ),
        (
            """
            A:
              from: "A[].Id"
            """,
            "its 'when' or 'from' reads itself",
        ),
        (
            """
            A:
              from: Vpcs
              operation: DescribeVpcs
            """,
            "unknown key(s): operation",
        ),
    ],
)
def test_malformed_shapes_are_refused_with_the_detail_named(
    tmp_path: Path, details: str, message: str
) -> None:
    with pytest.raises(SpecError, match=r"ec2\.yaml") as err:
        _load(tmp_path, details)
    assert message in str(err.value)


def test_a_join_matches_each_key_in_order_and_drops_unknown_ones() -> None:
    join = JoinSpec("[].Groups[]", "id", "ids")
    pages = [
        {"Groups": [{"id": "g1", "n": 1}, {"id": "g2", "n": 2}, "not an entry"]},
        {"Groups": [{"id": "g1", "n": 3}, {"n": 4}]},
    ]
    configs = [{"ids": ["g2", "g1", "gone"]}, {"ids": "g2"}, {"ids": []}, {}]
    got = shapes.join_values(join, pages, configs, lambda v: v)
    assert got == [
        [{"id": "g2", "n": 2}, {"id": "g1", "n": 1}, {"id": "g1", "n": 3}],
        [{"id": "g2", "n": 2}],
        [],
        [],
    ]
    # An operation botocore cannot paginate answers one page, not a list of them.
    one = shapes.join_values(join, pages[0], [{"ids": "g1"}], len)
    assert one == [1]


def test_when_decides_per_item() -> None:
    spec_when = shapes.applies
    from awsresp.collect.specs import DetailSpec

    detail = DetailSpec("Zones", None, None, False, when="VpcConfig.SubnetIds")
    assert spec_when(detail, {"VpcConfig": {"SubnetIds": ["s-1"]}})
    assert not spec_when(detail, {"VpcConfig": {"SubnetIds": []}})
    assert not spec_when(detail, {})


def test_each_reads_are_ordered_by_the_fields_they_name(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """
        Groups:
          operation: DescribeSecurityGroups
          result: "[].SecurityGroups[]"
          each:
            read:
              - operation: DescribeSecurityGroupRules
                params: {Filters: "[{Name: 'group-id', Values: [GroupId]}]"}
                into: Rules
              - operation: DescribeNetworkInterfaces
                join: {items: "[].NetworkInterfaces[]", key: GroupId, item_key: "Rules[].GroupId"}
                into: Interfaces
              - operation: DescribeSecurityGroupReferences
                params: {GroupId: [GroupId]}
                region: "split(GroupArn, ':')[3]"
        """,
    )
    (detail,) = spec.resources[0].details
    assert detail.each is not None
    reads = detail.each.reads
    # The join names Rules, made by the first read: it waits for it; the others do not.
    stages = shapes.each_stages(reads)
    assert [[r.call.operation for r in stage] for stage in stages] == [
        ["DescribeSecurityGroupRules", "DescribeSecurityGroupReferences"],
        ["DescribeNetworkInterfaces"],
    ]
    assert reads[2].region == "split(GroupArn, ':')[3]"
    assert shapes.search("split(GroupArn, ':')[3]", {"GroupArn": "arn:aws:ec2:eu-west-1:1:x"}) == (
        "eu-west-1"
    )
    assert shapes.search("split(Missing, ':')", {}) == []


def test_a_union_a_from_list_and_each_when_are_read_and_ordered(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """
        Groups:
          operation: DescribeSecurityGroups
          result: "[].SecurityGroups[]"
          union:
            operation: DescribeSecurityGroups
            const_params: {DryRun: false}
            result: "[].SecurityGroups[]"
            key: GroupId
        Owners:
          from: "Groups[].OwnerId"
          each:
            as: Owner
            read:
              - operation: DescribeSecurityGroupRules
                params: {Filters: "[{Name: 'owner', Values: [Owner]}]"}
                when: "Owner != 'amazon'"
                into: Rules
        """,
    )
    groups, owners = spec.resources[0].details
    assert groups.union is not None and groups.union.key == "GroupId"
    assert ("ec2", "DescribeSecurityGroups") in spec.operations()
    # The `from` list reads Groups: it comes after it; its read runs only where `when` holds.
    assert [[d.key for d in stage] for stage in shapes.stages([owners, groups])] == [
        ["Groups"],
        ["Owners"],
    ]
    assert owners.call is None and owners.each is not None
    (read,) = owners.each.reads
    assert shapes.each_applies(read, {"Owner": "1"}) and not shapes.each_applies(
        read, {"Owner": "amazon"}
    )


def test_a_union_appends_only_what_the_list_lacks_and_from_keeps_distinct_values() -> None:
    listed = [{"Arn": "a", "N": 1}, {"Arn": "b"}]
    more = [{"Arn": "b", "N": 2}, {"Arn": "c"}, {"Arn": "c"}, {"NoKey": 1}, "x"]
    assert shapes.union("Arn", listed, more) == [{"Arn": "a", "N": 1}, {"Arn": "b"}, {"Arn": "c"}]
    assert shapes.union("Arn", None, [{"Arn": "a"}]) == [{"Arn": "a"}]
    config = {"Trails": [{"B": "logs"}, {"B": "other"}, {"B": "logs"}, {"B": None}, {}]}
    assert shapes.over_values("Trails[].B", config) == ["logs", "other"]
    assert shapes.over_values("Missing[].B", config) == []


@pytest.mark.parametrize(
    ("each", "message"),
    [
        (
            """
            read:
              - {operation: DescribeSecurityGroupRules, params: {GroupId: Later}}
              - {operation: DescribeNetworkInterfaces, into: Later}
            """,
            "names ['Later'], made by it or a later read",
        ),
        ("read: []", "names at least one call"),
        (
            "read: [{operation: DescribeNetworkInterfaces, over: 'Ids[]'}]",
            "puts its results 'into' a field",
        ),
        ("{read: [{operation: X1, bogus: 1}]}", "unknown key(s): bogus"),
        ("{as: Id}", "missing 'read'"),
    ],
)
def test_malformed_each_is_refused_with_the_read_named(
    tmp_path: Path, each: str, message: str
) -> None:
    body = textwrap.indent(textwrap.dedent(each).strip(), " " * 4)
    with pytest.raises(SpecError, match=re.escape(message)):
        _load(tmp_path, f"Groups:\n  operation: DescribeSecurityGroups\n  each:\n{body}\n")


def test_csv_reads_a_document_with_a_header_as_objects_of_strings() -> None:
    report = 'user,arn,mfa_active\nalice,arn:aws:iam::1:user/alice,true\nbob,"a,b"\n'
    assert shapes.search("csv(Content)", {"Content": report}) == [
        {"user": "alice", "arn": "arn:aws:iam::1:user/alice", "mfa_active": "true"},
        # A short row's missing values are empty strings, never null or a number.
        {"user": "bob", "arn": "a,b", "mfa_active": ""},
    ]
    assert shapes.search("csv(Content)", {"Content": "user,arn\n"}) == []
    assert shapes.search("csv(Content)", {"Content": ""}) == []
    assert shapes.search("csv(Content)", {}) == []
    # Values beyond the header are dropped: every key is a header's.
    assert shapes.search("csv(Content)", {"Content": "a\n1,2\n"}) == [{"a": "1"}]
    # Over a list of pages (a join's items): every page's rows, one after another.
    pages = [{"Content": "user\nx\n"}, {"Content": "user\ny\n"}]
    assert shapes.search("[].csv(Content)[]", pages) == [{"user": "x"}, {"user": "y"}]


def test_credential_report_values_are_booleans_dates_and_nulls() -> None:
    from awsresp.collect.transforms import TRANSFORMS

    values = TRANSFORMS["credential_report_values"]
    row = {
        "user": "<root_account>",
        "password_enabled": "not_supported",
        "mfa_active": "true",
        "access_key_1_active": "false",
        "access_key_1_last_used_date": "N/A",
        "password_last_used": "no_information",
        "cert_1_last_rotated": "",
        "user_creation_time": "2024-01-02T03:04:05+00:00",
    }
    expected = {
        "user": "<root_account>",
        "password_enabled": None,
        "mfa_active": True,
        "access_key_1_active": False,
        "access_key_1_last_used_date": None,
        "password_last_used": None,
        "cert_1_last_rotated": None,
        "user_creation_time": "2024-01-02T03:04:05+00:00",
    }
    assert values(row) == expected
    assert values([row, row]) == [expected, expected]
    assert values(None) is None
    assert values([]) == []


@pytest.fixture
def ready_hook(monkeypatch: pytest.MonkeyPatch) -> str:
    """A ready hook of EC2's and a detail hook (ec2_example_values), for the test only."""
    from awsresp.collect import hooks

    def ec2_example_ready(ctx: object) -> None:
        return None

    def ec2_example_values(ctx: object, items: list[object]) -> list[object]:
        return [None for _ in items]

    ops = (("ec2", "DescribeVpcs"),)
    ready = hooks.Hook(ec2_example_ready, ops, (), "ec2", kind="ready")
    monkeypatch.setitem(hooks.HOOKS, "ec2_example_ready", ready)
    monkeypatch.setitem(hooks.HOOKS, "ec2_example_values", hooks.Hook(ec2_example_values, ops))
    return "ec2_example_ready"


def test_ready_names_a_ready_hook_and_its_operations_count(tmp_path: Path, ready_hook: str) -> None:
    spec = _load(
        tmp_path,
        f"""
        Logs:
          operation: DescribeFlowLogs
          ready: {ready_hook}
          text: [Content]
          join: {{items: "[].FlowLogs[]", key: ResourceId, item_key: VpcId}}
        """,
    )
    (logs,) = spec.resources[0].details
    assert (logs.ready, logs.call and logs.call.text) == (ready_hook, ("Content",))
    assert spec.operations() == [("ec2", "DescribeVpcs"), ("ec2", "DescribeFlowLogs")]
    assert spec.iam_actions() == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"]


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ("Logs: {operation: DescribeFlowLogs, ready: nope}", "unknown ready hook 'nope'"),
        (
            "Logs: {operation: DescribeFlowLogs, ready: ec2_example_values}",
            "'ready: ec2_example_values' names a detail hook, which 'hook' takes",
        ),
        (
            "Logs: {hook: ec2_example_ready}",
            "'hook: ec2_example_ready' names a ready hook, which 'ready' takes",
        ),
        ("Logs: {hook: ec2_example_values, ready: ec2_example_ready}", "unknown key(s): ready"),
        ("Logs: {operation: DescribeFlowLogs, text: Content}", "'text' has the wrong type"),
        (
            "Logs: {operation: DescribeFlowLogs, text: ['FlowLogs[].Content']}",
            "'text' names top-level members of the answer, not 'FlowLogs[].Content'",
        ),
    ],
)
def test_malformed_ready_and_text_are_refused(
    tmp_path: Path, ready_hook: str, details: str, message: str
) -> None:
    with pytest.raises(SpecError, match=r"ec2\.yaml") as err:
        _load(tmp_path, details)
    assert message in str(err.value)


@mock_aws
def test_a_detail_hook_still_makes_its_field_and_a_failing_one_its_issue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No spec names a field-making hook today; the escape hatch DESIGN keeps for the truly
    # odd still works: one value per item, and a failure is an issue and unreadable fields.
    def ec2_example_ids(ctx: Any, items: Any) -> list[Any]:
        pages = ctx.call("ec2", "DescribeVpcs", {})  # the scan's cached listing (pages)
        default = {v["VpcId"] for page in pages for v in page["Vpcs"] if v["IsDefault"]}
        return [i["VpcId"] in default for i in items]

    def ec2_example_denied(ctx: Any, items: Any) -> list[Any]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeVpcs")

    ops = (("ec2", "DescribeVpcs"),)
    for fn in (ec2_example_ids, ec2_example_denied):
        monkeypatch.setitem(hooks.HOOKS, fn.__name__, hooks.Hook(fn, ops, (), "ec2"))
    spec = _load(tmp_path, "First: {hook: ec2_example_ids}\nDenied: {hook: ec2_example_denied}\n")
    boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.9.0.0/16")
    target = Target(boto3.Session(region_name="us-east-1"))
    inv = Collector(target, [spec], "123456789012", "aws", ["us-east-1"]).run()
    vpcs = inv.resources
    assert len(vpcs) >= 2 and sum(v.config["First"] for v in vpcs) == 1
    assert all(v.unreadable == {"Denied"} and v.config["Denied"] is None for v in vpcs)
    (issue,) = inv.issues
    assert (issue.operation, issue.error_code, issue.iam_action) == (
        "DescribeVpcs",
        "AccessDenied",
        "ec2:DescribeVpcs",
    )
