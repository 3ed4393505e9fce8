"""Output files: atomic (an interrupted write keeps the previous files) and spreadsheet-safe."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from awsresp.export import files as export_files
from awsresp.export.files import atomic_text, write_files
from awsresp.export.tables import safe_cell
from awsresp.model import Inventory, ScanResult
from awsresp.scan import Definitions, evaluate

from .conftest import make_resource, run_cli


def _result(definitions: Definitions, name: str) -> ScanResult:
    bucket = make_resource("s3.bucket", {"Name": name}, id=name, name=name)
    inventory = Inventory(
        account="123456789012",
        partition="aws",
        regions=("us-east-1",),
        resources=(bucket,),
        issues=(),
        started_at="2026-11-28T00:00:00+00:00",
        finished_at="2026-11-28T00:00:01+00:00",
    )
    return evaluate(inventory, definitions, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "findings.csv"
    path.write_bytes(b"previous,complete\r\n")
    with pytest.raises(KeyboardInterrupt), atomic_text(path) as fh:
        fh.write("half,a,row")
        fh.flush()
        raise KeyboardInterrupt
    assert path.read_bytes() == b"previous,complete\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.csv"], "no temporary file left"


def test_crash_while_writing_the_set_keeps_every_previous_file(
    tmp_path: Path, definitions: Definitions, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(_result(definitions, "first-scan"), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {
        "findings.csv",
        "matrix.csv",
        "gaps.csv",
        "issues.csv",
        "owners.csv",
        "frameworks.csv",
        "scan.json",
        "report.html",
    }

    def crash(_result: ScanResult, **_kw: object) -> None:
        raise RuntimeError("disk on fire")  # after every CSV file has been written

    monkeypatch.setattr(export_files, "iter_scan_json", crash)
    with pytest.raises(RuntimeError):
        write_files(_result(definitions, "second-scan"), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert b"first-scan" in before["findings.csv"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_are_neutralized(start: str) -> None:
    assert safe_cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"


def test_ordinary_values_are_left_alone() -> None:
    for value in ("acme-data", "Zürich ☃", "a=b", 5, -3, None):
        assert safe_cell(value) == value


def test_ctrl_c_mid_scan_leaves_the_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awsresp import cli

    first = run_cli(["scan", "--sandbox", "-q", "-s", "s3", "-o", str(tmp_path)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "scan_account", interrupted)
    result = run_cli(["scan", "--sandbox", "-q", "-s", "s3", "-o", str(tmp_path)])
    assert result.exit_code == 130
    assert "previous output files were left" in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_matrix_table_is_services_down_layers_across() -> None:
    from awsresp.export.terminal import MATRIX_LEGEND, matrix_table
    from awsresp.model import ACCOUNT_ROW, Cell, CellStatus, Layer, ServiceClass

    def cell(
        service: str,
        cls: ServiceClass,
        layer: Layer,
        owner: str,
        st: CellStatus,
        units: tuple[int, int, int, int] = (0, 0, 0, 0),
        worst: str = "",
        reason: str = "",
        party: str = "",
    ) -> Cell:
        controlled = units[0]
        n = sum(units)
        coverage = 100 * controlled // n if n else 0
        party = party or ("aws" if owner == "aws" else "customer")
        return Cell(
            "111122223333", layer, service, cls, owner, st, n, *units, coverage, worst, reason, "",
            party=party,
        )  # fmt: skip

    infra, abstracted = ServiceClass.INFRASTRUCTURE, ServiceClass.ABSTRACTED
    inherited = [
        cell(ACCOUNT_ROW, abstracted, layer, "aws", CellStatus.INHERITED) for layer in Layer
    ]
    cells = [
        *inherited[:2],
        cell(ACCOUNT_ROW, abstracted, Layer.OPERATING_SYSTEM, "aws", CellStatus.INHERITED),
        cell(ACCOUNT_ROW, abstracted, Layer.DATA, "customer", CellStatus.NOT_ASSESSED),
        cell(ACCOUNT_ROW, abstracted, Layer.IDENTITY_DIRECTORY, "shared", CellStatus.GAP,
             (0, 0, 3, 0), "critical", "weak"),
    ]  # fmt: skip
    cells += [cell("ec2", infra, layer, "aws", CellStatus.INHERITED) for layer in Layer][:2]
    cells += [cell("s3", abstracted, layer, "aws", CellStatus.INHERITED) for layer in Layer][:2]
    cells += [
        cell("ec2", infra, Layer.OPERATING_SYSTEM, "customer", CellStatus.GAP, (0, 2, 1, 0),
             "high", "exposed", party="Acme MSP"),
        cell("ec2", infra, Layer.DATA, "customer", CellStatus.COVERED, (4, 0, 0, 0)),
        cell("ec2", infra, Layer.IDENTITY_DIRECTORY, "customer", CellStatus.GAP,
             reason="via-account"),
        cell("s3", abstracted, Layer.OPERATING_SYSTEM, "aws", CellStatus.INHERITED),
        cell("s3", abstracted, Layer.DATA, "customer", CellStatus.PARTIAL, (5, 2, 1, 0),
             "critical", "exposed"),
        cell("s3", abstracted, Layer.IDENTITY_DIRECTORY, "shared", CellStatus.NOT_ASSESSED,
             (0, 0, 0, 2), reason="unreadable"),
    ]  # fmt: skip
    text = matrix_table(cells)
    lines = text.splitlines()
    assert lines[0].split() == ["service", "(class)", "os", "data", "identity"]
    assert lines[2].split() == ["account", "(baseline)", "aws", "-", "GAP", "C", "(S)"]
    assert lines[3].split() == [
        "ec2",
        "(infrastructure)",
        "GAP",
        "H",
        "(#1)",
        "covered",
        "^",
    ]
    assert lines[4].split() == ["s3", "(abstracted)", "aws", "62%", "C", "?", "(S)"]
    assert MATRIX_LEGEND in text
    assert "#1 Acme MSP: the party accountable for the customer's part" in text
    assert lines[-1].startswith("physical, virtualization: AWS's on every row")


def test_streamed_scan_json_is_the_scan_document(tmp_path: Path) -> None:
    import json as _json

    from awsresp.export.files import write_files
    from awsresp.export.scanjson import iter_scan_json, scan_document

    result = _result(Definitions.load(), "=bucket-é")
    text = "".join(iter_scan_json(result))
    assert _json.loads(text) == _json.loads(_json.dumps(scan_document(result), default=str))
    write_files(result, tmp_path)
    written = _json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))
    # The file adds the digests of its siblings (the output set's marker), nothing else.
    assert set(written.pop("files")) == {
        "findings.csv",
        "matrix.csv",
        "gaps.csv",
        "issues.csv",
        "owners.csv",
        "frameworks.csv",
        "report.html",
    }
    assert written == _json.loads(text)


HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\u202egnp.exe\u2066x\u200b\x00end"


def _hostile_result(definitions: Definitions) -> ScanResult:
    import dataclasses

    from awsresp.model import CollectionIssue, IssueKind

    result = _result(definitions, HOSTILE)
    issue = CollectionIssue(
        "s3", "us-east-1", "GetBucketAcl", f"Code{HOSTILE}", IssueKind.ERROR, HOSTILE, "s3.bucket"
    )
    inventory = dataclasses.replace(result.inventory, issues=(issue,), complete=False)
    return evaluate(inventory, definitions, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_nothing_from_the_account_reaches_a_terminal_raw(
    definitions: Definitions, fmt: str
) -> None:
    import csv as _csv
    import io
    import json as _json

    from awsresp.export import Format, render

    result = _hostile_result(definitions)
    text = render(result, Format(fmt))
    for raw in ("\x1b", "\x07", "\u202e", "\u2066", "\u200b", "\x00"):
        assert raw not in text, (fmt, repr(raw))
    if fmt == "table":
        assert "evil\\x1b[2J" in text and "\\u202egnp.exe" in text
    elif fmt == "csv":
        rows = list(_csv.DictReader(io.StringIO(text)))
        assert rows[0]["resource_name"].startswith("evil\\x1b[2J")
        assert text.count("\r\n") == len(rows) + 1  # the CSV's own line ends are kept
    else:  # the JSON value is unchanged: the escapes are JSON's own
        doc = _json.loads(text)
        assert doc["findings"][0]["resource_name"] == HOSTILE


def test_files_keep_the_data_as_it_is(definitions: Definitions, tmp_path: Path) -> None:
    import json as _json

    write_files(_hostile_result(definitions), tmp_path)
    assert (
        _json.loads((tmp_path / "scan.json").read_text())["issues"][0]["message"]
        == " ".join(HOSTILE.split())
        or HOSTILE
    )
    assert HOSTILE in (tmp_path / "findings.csv").read_text(encoding="utf-8")


def test_errors_on_stderr_are_printable(capsys: pytest.CaptureFixture[str]) -> None:
    from awsresp.cli import _err

    _err(f"cannot reach the AWS endpoint: {HOSTILE}")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and err.count("\n") == 1


def test_outputs_follow_the_umask(definitions: Definitions, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o027)
    try:
        written = write_files(_result(definitions, "b"), tmp_path / "out")
    finally:
        os.umask(old)
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o640}


def test_scan_json_is_published_last_and_vouches_for_the_set(
    definitions: Definitions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json as _json

    out = tmp_path / "out"
    written = write_files(_result(definitions, "first"), out)
    assert [p.name for p in written][-1] == "scan.json"
    files = _json.loads((out / "scan.json").read_text())["files"]
    assert set(files) == {p.name for p in written} - {"scan.json"}
    assert export_files.unpublished(out) == []
    # A kill after two renames: the new CSVs sit beside the previous scan.json, which does
    # not vouch for them.
    real, done = export_files._Staged.publish, []

    def killed_after_two(self: export_files._Staged) -> None:
        if len(done) == 2:
            raise KeyboardInterrupt
        real(self)
        done.append(self.path.name)

    monkeypatch.setattr(export_files._Staged, "publish", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        write_files(_result(definitions, "second"), out)
    stale = export_files.unpublished(out)
    # findings.csv changed (it names the bucket); matrix.csv came out byte for byte the same.
    assert "findings.csv" in stale and set(stale) <= set(done)
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_every_format_has_a_writer_in_every_registry() -> None:
    import awsresp.diff
    import awsresp.merge
    from awsresp.export import CONTROLS, REGISTRIES, SCAN, Format, Writers

    assert {r.document for r in REGISTRIES} >= {
        SCAN.document,
        CONTROLS.document,
        awsresp.diff.DIFF.document,
        awsresp.merge.ORG.document,
    }
    for registry in REGISTRIES:
        assert set(registry.writers) == set(Format), registry.document
        assert Format.TABLE in registry.formats, registry.document
    # A scan prints in every format.
    assert SCAN.formats == list(Format)
    with pytest.raises(TypeError, match="formats without a writer: csv, json, ocsf"):
        Writers[int]("a test", {Format.TABLE: str})


@pytest.mark.parametrize(
    ("args", "document"),
    [
        (["controls", "-f", "ocsf"], "the control catalog"),
        (["diff", "a", "b", "-f", "ocsf"], "a diff"),
        (["merge", ".", "-f", "ocsf"], "an organization report"),
        (["scan", "--org", "-f", "ocsf"], "an organization report"),
    ],
)
def test_a_format_that_does_not_apply_is_one_line(args: list[str], document: str) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"awsresp: error: --format ocsf does not apply to {document}; use one of table, csv, json\n"
    )


def test_a_fresh_scan_streams_its_rows_and_an_empty_scan_still_writes_valid_json(
    tmp_path: Path,
) -> None:
    """The report and scan.json of a fresh scan build finding and resource rows as they read
    them; the JSON is the same value as the whole document, with or without findings."""
    import dataclasses
    import json as _json

    from awsresp.export.scanjson import iter_scan_json, scan_document, scan_model

    result = _result(Definitions.load(), "bucket-a")
    lazy = scan_model(result, lazy=True)
    assert type(lazy.findings).__name__ == "_Rows"
    assert scan_document(lazy) == scan_document(result)
    assert _json.loads("".join(iter_scan_json(result))) == scan_document(result)
    empty = dataclasses.replace(result, findings=())
    assert _json.loads("".join(iter_scan_json(empty)))["findings"] == []
