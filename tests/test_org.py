"""Organization scans against a moto organization: every account's rows, names and OUs, the
failed accounts' issue rows, and the Lambda path (partitions + merge) giving the same report."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from awsresp import cli
from awsresp.errors import AwsrespError
from awsresp.model import AccountInfo
from awsresp.org import OrgAccount, Organization, RolePlan, Selection
from tests.conftest import run_cli
from tests.orgfixture import EXTERNAL_ID, MANAGEMENT, REGION, SERVICES, Org, organization

ROOT = Path(__file__).resolve().parent.parent


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _scan_org(org: Org, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> Any:
    monkeypatch.setattr(cli, "make_session", lambda _profile=None: org.session)
    args = ["scan", "--org", "--external-id", EXTERNAL_ID, "-r", REGION, "-q", "-o", str(out)]
    args += [a for s in SERVICES for a in ("-s", s)]
    return run_cli([*args, *extra])


def test_scan_org_reports_every_account_with_names_ous_and_failed_accounts_as_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with organization() as org:
        result = _scan_org(org, tmp_path, monkeypatch, "--fail-on-incomplete")
    # The account without the role and the one denied S3 make the run incomplete.
    assert result.exit_code == 3, result.output
    names = {v: k for k, v in org.ids.items()} | {MANAGEMENT: "management"}
    name_of = {v: k for k, v in org.ids.items()} | {MANAGEMENT: "master"}
    scanned = {org.ids[n] for n in org.scanned} | {MANAGEMENT}
    findings = _rows(tmp_path / "findings.csv")
    matrix = _rows(tmp_path / "matrix.csv")
    issues = _rows(tmp_path / "issues.csv")
    gaps = _rows(tmp_path / "gaps.csv")
    # Every row names its account, the account's name and its OU path.
    for row in [*findings, *matrix, *issues, *gaps]:
        account = row["account_id"]
        assert account in scanned
        assert row["account_name"] == name_of[account]
        assert row["ou_path"] == org.ou_paths[names[account]]
    # The suspended account is in no row; every active account with the role has rows.
    closed = org.ids["closed"]
    norole, denied = org.ids["norole"], org.ids["denied"]
    with_rows = {r["account_id"] for r in findings}
    assert with_rows == scanned - {norole}
    assert {r["account_id"] for r in matrix} == scanned - {norole}
    # The account without the role: one issue row, the denied AssumeRole, and nothing else.
    (failed,) = [r for r in issues if r["account_id"] == norole]
    assert (failed["service"], failed["operation"], failed["iam_action"]) == (
        "sts",
        "AssumeRole",
        "sts:AssumeRole",
    )
    assert (failed["error_code"], failed["kind"]) == ("AccessDenied", "access-denied")
    # The account whose role is denied S3: S3 could not be listed there, the rest was read.
    denied_issues = [r for r in issues if r["account_id"] == denied]
    assert {(r["service"], r["kind"]) for r in denied_issues} == {("s3", "access-denied")}
    assert "ListBuckets" in {r["operation"] for r in denied_issues}
    assert {r["service"] for r in findings if r["account_id"] == denied} >= {"iam"}
    # The other accounts are complete.
    assert {r["account_id"] for r in issues} == {norole, denied}

    doc = json.loads((tmp_path / "scan.json").read_text())
    assert doc["complete"] is False
    section = doc["organization"]
    listed = {a["account_id"]: a for a in section["accounts"]}
    assert set(listed) == scanned
    assert listed[norole]["state"] == "failed" and listed[denied]["state"] == "scanned"
    assert {a["account_id"] for a in section["skipped"]} == {closed}
    for name in org.scanned:
        assert listed[org.ids[name]]["ou_path"] == org.ou_paths[name]
        assert listed[org.ids[name]]["tags"] == {"team": name}
    assert len(doc["findings"]) == len(findings) and len(doc["matrix"]) == len(matrix)
    # Each account's own estate, and only its own.
    buckets = Counter(
        (r["account"], r["id"])
        for r in doc["resources"]
        if r["type"] == "s3.bucket" and not r["unlisted"]
    )
    for name in ["web-1", "web-2", "data", "dev"]:
        mine = {b for (a, b) in buckets if a == org.ids[name]}
        assert mine == set(org.buckets[name])
    assert not {b for (a, b) in buckets if a == denied}
    # The terminal view: accounts x layers, then the ranked gaps.
    assert "Worst status per account and layer" in result.stdout


@dataclass
class FakeContext:
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_lambda_partitions_and_merge_give_the_report_of_scan_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awsresp.lambda_handler import handler

    with organization() as org:
        # The function runs as the scanner (moto enforces IAM: its own keys, and a
        # bucket it may write to).
        from tests.orgfixture import session

        admin = session(aws_access_key_id=org.keys["id"], aws_secret_access_key=org.keys["secret"])
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", org.keys["id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", org.keys["secret"])
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.setenv("AWS_REGION", REGION)
        from moto.core.authorization import disable_iam_authentication

        with disable_iam_authentication():
            session().client("s3").create_bucket(Bucket="awsresp-org-out")
            session().client("iam").put_user_policy(
                UserName="org-scanner",
                PolicyName="write",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                    }
                ),
            )
        del admin
        env = {
            "AWSRESP_BUCKET": "awsresp-org-out",
            "AWSRESP_PREFIX": "org",
            "AWSRESP_SERVICES": ",".join(SERVICES),
            "AWSRESP_REGIONS": REGION,
            "AWSRESP_EXTERNAL_ID": EXTERNAL_ID,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        started = {"execution": "arn:aws:states:us-east-1:1:execution:org:run-1"}
        started["started"] = "2026-11-30T03:00:00Z"
        listed = handler({"action": "list-accounts", **started}, FakeContext())
        assert listed["accounts"] == len(org.scanned) + 1 and listed["skipped"] == [
            org.ids["closed"]
        ]
        s3 = session(
            aws_access_key_id=org.keys["id"], aws_secret_access_key=org.keys["secret"]
        ).client("s3")
        items = json.loads(s3.get_object(Bucket=listed["bucket"], Key=listed["key"])["Body"].read())
        summaries = [handler({"account": item, **started}, FakeContext()) for item in items]
        states = {s["account"]: s["state"] for s in summaries}
        assert states[org.ids["norole"]] == "failed"
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="awsresp-org-out")["Contents"]]
        day = "date=2026-11-30"
        for table in ("findings", "matrix", "gaps", "issues", "manifests", "scans", "reports"):
            assert any(k.startswith(f"org/{table}/{day}/account=") for k in keys), table
        merged = tmp_path / "merged"
        monkeypatch.setattr(cli, "make_session", lambda _profile=None: org.session)
        result = run_cli(
            ["merge", "s3://awsresp-org-out/org", "--date", "2026-11-30", "-q", "-o", str(merged)]
        )
        assert result.exit_code == 0, result.output
        # A local copy of the prefix (as `aws s3 sync` makes) merges the same.
        local = tmp_path / "copy"
        for key in keys:
            path = local / key.removeprefix("org/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket="awsresp-org-out", Key=key)["Body"].read())
        from_folder = tmp_path / "from-folder"
        result = run_cli(
            ["merge", str(local), "--date", "2026-11-30", "-q", "-o", str(from_folder)]
        )
        assert result.exit_code == 0, result.output
        direct = tmp_path / "direct"
        assert _scan_org(org, direct, monkeypatch).exit_code == 0
    # The same matrix and gaps, row for row; the same findings, but for when they were made
    # and what moved in between (the scanner's own access key was used again).
    for name in ("matrix.csv", "gaps.csv"):
        assert (merged / name).read_text() == (direct / name).read_text(), name
    for name in ("findings.csv", "matrix.csv", "gaps.csv", "issues.csv", "scan.json"):
        assert (from_folder / name).read_text() == (merged / name).read_text(), name

    def findings(where: Path) -> list[dict[str, str]]:
        return sorted(
            (
                {k: v for k, v in r.items() if k not in ("scanned_at", "evidence")}
                for r in _rows(where)
            ),
            key=lambda r: r["finding_id"],
        )

    assert findings(merged / "findings.csv") == findings(direct / "findings.csv")
    merged_issues = _rows(merged / "issues.csv")
    assert {r["account_id"] for r in merged_issues} == {org.ids["norole"], org.ids["denied"]}


def _org() -> Organization:
    def account(n: str, ou_ids: tuple[str, ...], state: str = "ACTIVE") -> OrgAccount:
        return OrgAccount(AccountInfo(n * 12, f"acct-{n}"), state, ou_ids)

    root, prod, web = "r-ab12", "ou-ab12-prod0001", "ou-ab12-web00001"
    return Organization(
        "o-example",
        "111111111111",
        (
            account("1", (root,)),
            account("2", (root, prod)),
            account("3", (root, prod, web)),
            account("4", (root, prod, web), "SUSPENDED"),
        ),
    )


def test_selection_by_ou_includes_child_ous_and_skips_suspended_accounts() -> None:
    chosen, skipped = Selection.parse([], ["ou-ab12-prod0001"], []).choose(_org())
    assert [a.id for a in chosen] == ["2" * 12, "3" * 12]
    assert [a.id for a in skipped] == ["4" * 12]
    chosen, _ = Selection.parse(["111111111111,333333333333"], [], ["333333333333"]).choose(_org())
    assert [a.id for a in chosen] == ["1" * 12]
    with pytest.raises(AwsrespError, match="no account 999999999999"):
        Selection.parse(["999999999999"], [], []).choose(_org())
    with pytest.raises(AwsrespError, match="--ou: not a valid id: prod"):
        Selection.parse([], ["prod"], [])


def test_role_arn_template_and_external_id_are_checked() -> None:
    info = AccountInfo("222222222222", "web")
    assert RolePlan().validate().arn(info, "aws") == (
        "arn:aws:iam::222222222222:role/awsresp-scanner"
    )
    custom = RolePlan("x", None, "arn:{partition}:iam::{account_id}:role/sec/{account_name}")
    assert (
        custom.validate().arn(info, "aws-us-gov") == "arn:aws-us-gov:iam::222222222222:role/sec/web"
    )
    for bad in (
        RolePlan(arn_template="arn:aws:iam::{account}:role/x"),
        RolePlan(arn_template="arn:aws:iam::123456789012:role/x"),
        RolePlan(external_id="x"),
        RolePlan(name="bad name"),
    ):
        with pytest.raises(AwsrespError):
            bad.validate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accounts", "123456789012"], "only apply with --org"),
        (["--org", "--sandbox"], "cannot be combined with --sandbox"),
        (["--org", "--accounts", "12"], "--accounts: not a valid id: 12"),
        (["--org", "--role-arn-template", "arn:{nope}"], "--role-arn-template"),
        (["--org", "--external-id", "x"], "--external-id"),
        (["--org", "--region", "mars-1"], "invalid region"),
    ],
)
def test_bad_org_options_exit_2_before_any_call(args: list[str], message: str) -> None:
    def no_session(*_args: Any) -> Any:
        raise AssertionError("no AWS session may be made")

    cli_make_session = cli.make_session
    cli.make_session = no_session  # type: ignore[assignment]
    try:
        result = run_cli(["scan", *args])
    finally:
        cli.make_session = cli_make_session  # type: ignore[assignment]
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_assumed_role_credentials_refresh_before_they_expire() -> None:
    import datetime as dt

    from moto import mock_aws

    from awsresp.collect.session import assume_role_session
    from tests.orgfixture import session

    now = [dt.datetime.now(dt.UTC)]
    with mock_aws():
        source = session()
        sts = source.client("sts")
        member = assume_role_session(
            source, sts, "arn:aws:iam::222222222222:role/awsresp-scanner", clock=lambda: now[0]
        )
        first = member.get_credentials().get_frozen_credentials()
        assert member.client("sts").get_caller_identity()["Account"] == "222222222222"
        assert member.get_credentials().get_frozen_credentials() == first
        # 55 minutes into the role's hour: within botocore's refresh window.
        now[0] += dt.timedelta(minutes=55)
        second = member.get_credentials().get_frozen_credentials()
        assert second.access_key != first.access_key
        assert member.client("sts").get_caller_identity()["Arn"].endswith("/awsresp-scan")


def test_policy_member_is_the_member_roles_policy_and_org_scanner_lists_and_assumes() -> None:
    from awsresp.collect.deploy_policy import template_actions

    member = json.loads(run_cli(["policy", "--member"]).stdout)
    actions = sorted(a for st in member["Statement"] for a in st["Action"])
    deployed = template_actions((ROOT / "deploy" / "org-member-role.yaml").read_text())
    # The template also lists the scanner's own ec2:DescribeRegions (for --all-regions).
    assert set(deployed) <= set(actions) <= set(deployed) | {"ec2:DescribeRegions"}
    scanner = json.loads(run_cli(["policy", "--org-scanner", "--role-name", "x"]).stdout)
    (listing, assume) = scanner["Statement"]
    assert all(
        a.startswith("organizations:List") or a == "organizations:DescribeOrganization"
        for a in listing["Action"]
    )
    assert assume == {
        "Sid": "AssumeMemberRole",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": "arn:*:iam::*:role/x",
    }
    assert run_cli(["policy", "--org-scanner", "--member"]).exit_code == 2


def test_merge_without_a_finished_run_exits_2(tmp_path: Path) -> None:
    result = run_cli(["merge", str(tmp_path), "--date", "2026-11-30", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no finished run on 2026-11-30" in result.stderr
    result = run_cli(["merge", str(tmp_path), "--date", "2026-13-01"])
    assert result.exit_code == 2 and "not a calendar date" in result.stderr
    result = run_cli(["merge", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "is not a folder or an s3:// URL" in result.stderr


def test_accounts_not_started_by_the_runs_deadline_are_failed_rows_not_missing() -> None:
    """--deadline with --org: an account not started when the deadline has passed is a
    failed account (DeadlineExceeded), its role never assumed, and the run incomplete."""
    import time

    from awsresp.org import OrgScanner

    def never(*_args: Any) -> Any:
        raise AssertionError("no account may be started after the deadline")

    scanner = OrgScanner(
        None,  # type: ignore[arg-type]
        MANAGEMENT,
        "aws",
        RolePlan(),
        never,
        never,
        [REGION],
        deadline=time.monotonic() - 1,
    )
    accounts = [OrgAccount(AccountInfo(id=f"11111111111{n}"), "ACTIVE") for n in (1, 2)]
    done: list[Any] = []
    scanner.run(accounts, lambda result, failed: done.append((result, failed)))
    assert len(done) == 2 and all(failed for _r, failed in done)
    for result, _failed in done:
        (issue,) = result.inventory.issues
        assert (issue.error_code, issue.kind.value) == ("DeadlineExceeded", "error")
        assert not result.complete


def test_org_scan_takes_a_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from awsresp import org as org_module

    given: list[float | None] = []
    scan_account = org_module.scan_account

    def recording(*args: Any, **kwargs: Any) -> Any:
        given.append(kwargs.get("deadline"))
        return scan_account(*args, **kwargs)

    monkeypatch.setattr(org_module, "scan_account", recording)
    started = time.monotonic()
    with organization() as org:
        result = _scan_org(org, tmp_path, monkeypatch, "--deadline", "600")
    # Every account's scan got the run's deadline: 600 s after the command started.
    ended = time.monotonic()
    assert given and all(d is not None and started + 600 <= d <= ended + 600 for d in given)
    assert len(set(given)) == 1
    # As without one (the run is incomplete for its two broken accounts: exit 0 without
    # --fail-on-incomplete), every scanned account has rows.
    assert result.exit_code == 0, result.output
    scanned = {org.ids[n] for n in org.scanned} - {org.ids["norole"]}
    assert {r["account_id"] for r in _rows(tmp_path / "findings.csv")} >= scanned
