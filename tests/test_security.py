"""Issue 19: nothing in a workbook makes a server read its own files, and no text becomes a formula
in a CSV file we write. (The browser test of the same attack is in test_web_security.py.)"""
from __future__ import annotations

import csv
import json
import os
import uuid
from pathlib import Path

from click.testing import CliRunner
from conftest import NEW_RESOURCE, columns, export_open, put_row
from test_catalogue_contract import SETTINGS, memory_world

import bcdc_bulk as bb
from bcdc_bulk.cli import cli
from bcdc_bulk.local_files import not_on_a_server
from bcdc_bulk.reporting import write_apply_report, write_problem_report

HOSTILE = '=HYPERLINK("http://evil.invalid","x")'


def secret_file(folder: Path) -> Path:
    """A file only this test knows of, its access time set far in the past: reading it would move it."""
    path = folder / f"secret-{uuid.uuid4().hex}.txt"
    path.write_text("the server's secret\n")
    os.utime(path, (946684800, 946684800))  # 2000-01-01: any read moves the access time (relatime)
    return path


def server_paths(secret: Path) -> list[str]:
    """The ways a workbook could name a file on the server."""
    return [str(secret), f"file://{secret}", f"file:{secret}", "~/.bashrc", "..\\..\\etc\\hostname",
            "\\\\fileserver\\share\\secret.txt", f"../../../../../../..{secret}"]


def workbook_with_new_resources(world, folder: Path, urls: list[str]) -> Path:
    export = folder / "org.xlsx"
    wb = export_open(world, export)
    name = world.packages[0]["name"]
    for i, url in enumerate(urls):
        put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=name, name=f"Attempt {i}", url=url))
    edited = folder / "edited.xlsx"
    wb.save(edited)
    return edited


def test_a_server_takes_no_local_path_as_a_resource_url_and_reads_no_file(tmp_path):
    world = memory_world(1)
    secret = secret_file(tmp_path)
    urls = server_paths(secret)
    edited = workbook_with_new_resources(world, tmp_path, urls)
    checked = bb.check(edited, world.catalogue, local_files=False)
    refused = [p for p in checked.problems if p.code == "url-not-web"]
    assert [(p.sheet, p.column) for p in refused] == [("Resources", refused[0].column)] * len(urls)
    assert sorted(p.row for p in refused) == list(range(refused[0].row, refused[0].row + len(urls)))
    assert "is a file path, not a web address" in refused[0].message
    assert "must be a web address starting with https://" in refused[0].message
    assert not checked.valid and checked.calls() == []

    result = bb.apply(edited, world.catalogue, bb.ApplySettings(backoff=0.0, local_files=False))
    assert {str(r.status) for r in result.rows} == {"invalid"}
    assert all(len(p.get("resources") or []) == 2 for p in world.catalogue.store.values())  # nothing added
    assert os.stat(secret).st_atime == 946684800  # never opened


def test_the_last_line_of_defence_refuses_an_upload_that_skipped_validation(tmp_path):
    """Even a plan that was never validated (a bug, or a hand-made plan) uploads nothing on a server."""
    from bcdc_bulk.applying import apply_plan
    from bcdc_bulk.planning import build_plan
    from bcdc_bulk.problems import ValidationReport

    world = memory_world(1)
    secret = secret_file(tmp_path)
    edited = workbook_with_new_resources(world, tmp_path, [str(secret)])
    plan = build_plan(bb.read(edited))
    settings = bb.ApplySettings(backoff=0.0, local_files=False)
    result = apply_plan(world.catalogue, plan, ValidationReport(), settings, edited, "test")
    assert [str(r.status) for r in result.rows] == ["failed"]
    assert "is not a web address, and files are not uploaded from here" in result.rows[0].message
    assert os.stat(secret).st_atime == 946684800


def test_every_way_of_naming_a_file_is_named_in_words():
    assert not_on_a_server("https://example.invalid/data.csv") is None and not_on_a_server("") is None
    assert not_on_a_server("ftp://example.invalid/a") is None
    assert "is a file path" in not_on_a_server("/etc/hostname")
    assert "is a file path" in not_on_a_server("C:\\Users\\me\\data.csv")
    assert "file on a computer or network share" in not_on_a_server("file:///etc/hostname")
    assert "file on a computer or network share" in not_on_a_server("\\\\server\\share\\a.csv")
    assert "starts with 'gopher:'" in not_on_a_server("gopher://example.invalid/")


def test_the_command_line_uploads_files_beside_the_workbook_and_plan_names_each_with_its_size(tmp_path):
    world = memory_world(1)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    edited = workbook_with_new_resources(world, tmp_path, ["data.csv"])
    checked = bb.check(edited, world.catalogue)
    assert checked.valid, [p.message for p in checked.problems]
    from bcdc_bulk.local_files import LocalFiles
    from bcdc_bulk.reporting import plan_lines

    lines = plan_lines(checked.plan, checked.report, checked.calls(), LocalFiles(True, tmp_path))
    assert f"    upload: data.csv (the file {(tmp_path / 'data.csv').resolve()}, 8 bytes)" in lines
    result = bb.apply(edited, world.catalogue, SETTINGS)
    assert [str(r.status) for r in result.rows] == ["applied"]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_no_text_becomes_a_formula_in_the_problems_csv_of_validate(tmp_path):
    world = memory_world(1)
    export = tmp_path / "org.xlsx"
    wb = export_open(world, export)
    ws = wb["Datasets"]
    cols = columns(ws)
    cell = ws.cell(3, cols["security_class"])
    cell.value = HOSTILE
    cell.data_type = "s"  # typed as text (a formula cell is refused as a formula anyway)
    wb.save(export)
    checked = bb.check(export, world.catalogue)
    written = write_problem_report(tmp_path / "problems.xlsx", checked.report, export)
    rows = _csv_rows(written[1])
    values = [r["value"] for r in rows if HOSTILE in r["value"]]
    assert values == ["'" + HOSTILE]  # neutralized as OWASP advises
    exact = [json.loads(line)["value"] for line in written[2].read_text().splitlines()]
    assert HOSTILE in exact  # the JSON lines keep the value as it is
    # and through the command line, the same
    out = tmp_path / "cli-problems.xlsx"
    CliRunner().invoke(cli, ["validate", str(export), "--report", str(out)])
    assert any(r["value"] == "'" + HOSTILE for r in _csv_rows(out.with_suffix(".csv")))


def test_no_text_becomes_a_formula_in_the_report_csv_of_apply_cli_and_extension_alike(tmp_path):
    """The extension writes its report with the same function as the command line."""
    starts = ["=1+1", "+1", "-1", "@SUM(A1)", "\tTab", "\rReturn", "safe"]
    rows = [{"where": s, "dataset": s, "message": s, "changes": f"title: '' -> '{s}'", "status": "applied"}
            for s in starts]
    paths = write_apply_report(tmp_path / "report.xlsx", rows, {"applied": len(rows)})
    got = [r["dataset"] for r in _csv_rows(paths[1])]
    assert got == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tTab", "'\rReturn", "safe"]
    assert [json.loads(line)["dataset"] for line in paths[2].read_text().splitlines()] == starts
