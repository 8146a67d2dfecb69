"""Issue 6: apply writes only what changed, never over someone else's edit, and reports every row."""
from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import ckanapi
import openpyxl
import pytest
from click.testing import CliRunner
from conftest import NEW_DATASET, NEW_RESOURCE, columns, put_row
from test_validate_corpus import base_package

import bcdc_bulk as bb
from bcdc_bulk.applying import apply_plan
from bcdc_bulk.ckan_catalogue import CkanCatalogue, remote_catalogue
from bcdc_bulk.cli import cli, confirm_prod
from bcdc_bulk.errors import ConfigError
from bcdc_bulk.export import export_workbook
from bcdc_bulk.problems import ValidationReport
from bcdc_bulk.results import ApplySettings, Preview
from bcdc_bulk.validation import validate_workbook


class Org:
    """A fresh organization with n packages, the editor an editor of it."""

    def __init__(self, sandbox: dict[str, str], n: int) -> None:
        self.url = sandbox["CKAN_URL"]
        self.env = sandbox
        self.sysadmin = ckanapi.RemoteCKAN(self.url, apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
        run = uuid.uuid4().hex[:8]
        self.org = self.sysadmin.action.organization_create(name=f"apply-{run}", title=f"Apply {run}")
        self.sysadmin.action.organization_member_create(id=self.org["id"], username=sandbox["CKAN_EDITOR_USER"],
                                                        role="editor")
        self.packages = [self.sysadmin.action.package_create(**base_package(self.org["id"], f"p{i}", run))
                         for i in range(n)]

    def export(self, path: Path) -> Path:
        export_workbook(remote_catalogue(self.url, self.env["CKAN_EDITOR_TOKEN"]), path, self.org["name"])
        return path

    def show(self, i: int) -> dict[str, Any]:
        return self.sysadmin.action.package_show(id=self.packages[i]["id"])


def edit(src: Path, dst: Path, edits: list[tuple[str, str, str, Any]]) -> Path:
    """(sheet, key, field, value): key is a package or resource id, or 'name|position' on group sheets."""
    wb = openpyxl.load_workbook(src)
    for sheet, key, field, value in edits:
        ws = wb[sheet]
        cols = columns(ws)
        if "|" in key:
            name, position = key.split("|")
            row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, cols["package_name"]).value == name
                       and ws.cell(r, cols["position"]).value == position)
        else:
            row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, cols["id"]).value == key)
        ws.cell(row, cols[field]).value = value
    wb.save(dst)
    return dst


def apply(path: Path, sandbox: dict[str, str], *args: str, role: str = "EDITOR"):
    env = {"BCDC_API_KEY": sandbox[f"CKAN_{role}_TOKEN"]}
    return CliRunner().invoke(cli, ["-q", "apply", str(path), "-r", sandbox["CKAN_URL"], *args], env=env)


def report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.with_name(path.stem + ".report.jsonl").read_text().splitlines()]


def test_apply_writes_only_the_changes_and_a_rerun_is_unchanged(sandbox, tmp_path):
    org = Org(sandbox, 3)
    p0, p1, p2 = org.packages
    res1 = p1["resources"][1]["id"]
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "title", f"Applied {p0['name']}"),
        ("Datasets", p1["id"], "purpose", "A purpose written by apply."),
        ("Resources", res1, "format", "csv"),
        ("Contacts", f"{p2['name']}|1", "email", "new.contact@example.invalid"),
    ])
    result = apply(edited, sandbox)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"4 applied. Report: {tmp_path / 'edited.report.xlsx'}\nTo undo: bcdc-bulk apply ")
    rows = report(edited)
    assert sorted((r["sheet"], r["dataset"], r["status"]) for r in rows) == [
        ("Contacts", p2["name"], "applied"), ("Datasets", p0["name"], "applied"),
        ("Datasets", p1["name"], "applied"), ("Resources", p1["name"], "applied")]
    contact_row = next(r for r in rows if r["sheet"] == "Contacts")
    assert contact_row["changes"] == ("Contacts #1 Email: 'alex@example.invalid' -> "
                                      "'new.contact@example.invalid'")
    assert org.show(0)["title"] == f"Applied {p0['name']}"
    now1 = org.show(1)
    assert now1["purpose"] == "A purpose written by apply."
    assert next(r for r in now1["resources"] if r["id"] == res1)["format"] == "csv"
    assert now1["resources"][0] == p1["resources"][0] | {k: now1["resources"][0][k] for k in (
        "metadata_modified", "position")}  # the other resource untouched
    assert org.show(2)["contacts"][0]["email"] == "new.contact@example.invalid"
    assert org.show(2)["title"] == p2["title"]
    # the report: coloured by status, filterable, a summary with counts and a chart
    book = openpyxl.load_workbook(tmp_path / "edited.report.xlsx")
    assert book.sheetnames == ["Summary", "Rows"] and len(book["Summary"]._charts) == 1
    assert book["Rows"].auto_filter.ref and book["Rows"]["A2"].fill.fgColor.rgb.endswith("C6EFCE")
    # it leads with what a person reads first, each row linked to its row in the workbook
    assert [c.value for c in book["Rows"][1]][:5] == ["Where", "Dataset", "Resource", "Status", "Message"]
    first = book["Rows"]["A2"]
    row = contact_row["row"]
    assert (first.value, first.hyperlink.target, first.hyperlink.location) == (
        f"Contacts row {row}", "edited.xlsx", f"'Contacts'!A{row}")
    # the API key is in no output and no file written (export, edits, report, journal, undo)
    key = sandbox["CKAN_EDITOR_TOKEN"].encode()
    assert key.decode() not in result.output
    for written in tmp_path.iterdir():
        contents = [written.read_bytes()]
        if zipfile.is_zipfile(written):  # xlsx parts are compressed: look inside
            with zipfile.ZipFile(written) as zf:
                contents += [zf.read(name) for name in zf.namelist()]
        assert all(key not in c for c in contents), written
    # the same workbook again: everything is already there, nothing is written
    again = apply(edited, sandbox)
    assert again.exit_code == 0, again.output
    assert again.output.startswith("4 unchanged. Report: ")
    assert {r["status"] for r in report(edited)} == {"unchanged"}


def test_an_unchanged_workbook_makes_no_calls(sandbox, tmp_path):
    org = Org(sandbox, 1)
    path = org.export(tmp_path / "org.xlsx")
    catalogue = remote_catalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"])
    plan, rep = validate_workbook(bb.read(path), catalogue)
    before = list(catalogue.calls)
    result = apply_plan(catalogue, plan, rep, ApplySettings(), path, "x")
    assert result.rows == [] and result.calls_made == 0 and catalogue.calls == before


def test_someone_elses_edit_is_a_conflict_and_is_kept(sandbox, tmp_path):
    org = Org(sandbox, 2)
    p0, p1 = org.packages
    exported = org.export(tmp_path / "org.xlsx")
    # after the export, someone edits p0's title and p1's notes in the web form
    org.sysadmin.action.package_patch(id=p0["id"], title=f"Theirs {p0['name']}")
    org.sysadmin.action.package_patch(id=p1["id"], notes="Their notes.")
    edited = edit(exported, tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "title", f"Mine {p0['name']}"),
        ("Datasets", p1["id"], "purpose", "My purpose."),
    ])
    result = apply(edited, sandbox)
    assert result.exit_code == 3
    rows = {r["dataset"]: r for r in report(edited)}
    assert rows[p0["name"]]["status"] == "conflict"
    assert (f"title: exported '{p0['title']}', now in the catalogue 'Theirs {p0['name']}', yours "
            f"'Mine {p0['name']}'") in rows[p0["name"]]["message"]
    assert org.show(0)["title"] == f"Theirs {p0['name']}"  # not overwritten
    assert rows[p1["name"]]["status"] == "applied"
    now = org.show(1)
    assert (now["purpose"], now["notes"]) == ("My purpose.", "Their notes.")  # their other edit kept
    assert f"conflict  Datasets row {rows[p0['name']]['row']}" in result.output


def _plan_without_checks(path: Path, catalogue: CkanCatalogue):
    """The plan, with validation skipped: to see what the server itself answers."""
    return bb.check(path).plan, ValidationReport()


@pytest.mark.parametrize("method", ["revise", "patch"])
def test_server_refusals_are_rows_and_the_run_goes_on(sandbox, tmp_path, method):
    org = Org(sandbox, 4)
    p0, p1, p2, p3 = org.packages
    foreign = ckanapi.RemoteCKAN(org.url, apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    exported = org.export(tmp_path / "org.xlsx")
    foreign.action.package_delete(id=p1["id"])  # deleted since the export
    # moved since the export to an organization the editor has no role in
    other = foreign.action.organization_create(name=f"{org.org['name']}-other", title="Other")
    foreign.action.package_patch(id=p2["id"], owner_org=other["id"], private=False)
    edited = edit(exported, tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "security_class", "SECRETISH"),
        ("Datasets", p1["id"], "purpose", "Too late."),
        ("Datasets", p2["id"], "purpose", "Not mine to edit."),
    ])
    catalogue = remote_catalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"])
    plan, rep = _plan_without_checks(edited, catalogue)
    result = apply_plan(catalogue, plan, rep, ApplySettings(method=method), edited, "refusals")
    rows = {r.dataset: r for r in result.rows}
    assert rows[p0["name"]].status == "failed"
    assert "the catalogue refused it: Datasets!H" in rows[p0["name"]].message
    assert "security_class" in rows[p0["name"]].message
    assert rows[p1["name"]].status == "failed" and "no longer in the catalogue" in rows[p1["name"]].message
    assert rows[p2["name"]].status == "failed" and "HTTP 403" in rows[p2["name"]].message
    assert len(result.rows) == 3
    assert max(r.attempts for r in result.rows) == 1  # a refusal is never retried


def test_a_title_only_the_catalogue_can_see_is_refused_in_its_cell(sandbox, tmp_path):
    """A deleted record's title: validate can only warn; the server's refusal lands in the title's cell."""
    org = Org(sandbox, 2)
    p0, p1 = org.packages
    org.sysadmin.action.package_delete(id=p1["id"])
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx",
                  [("Datasets", p0["id"], "title", p1["title"])])
    result = apply(edited, sandbox)
    assert result.exit_code == 3, result.output
    [row] = report(edited)
    title_col = openpyxl.load_workbook(edited)["Datasets"]
    letter = next(c.column_letter for c in title_col[2] if c.value == "title")
    assert row["status"] == "failed"
    assert row["message"] == f"the catalogue refused it: Datasets!{letter}{row['row']} title: That Title is already in use."
    assert org.show(0)["title"] == p0["title"]


def test_validation_errors_are_not_sent(sandbox, tmp_path):
    org = Org(sandbox, 2)
    p0, p1 = org.packages
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "security_class", "SECRETISH"),
        ("Datasets", p1["id"], "purpose", "Fine."),
    ])
    result = apply(edited, sandbox)
    assert result.exit_code == 3
    rows = {r["dataset"]: r for r in report(edited)}
    assert rows[p0["name"]]["status"] == "invalid" and "SECRETISH" in rows[p0["name"]]["message"]
    assert rows[p1["name"]]["status"] == "applied"
    assert org.show(0)["security_class"] == "PUBLIC"


def test_undo_puts_the_catalogue_back(sandbox, tmp_path):
    org = Org(sandbox, 2)
    p0, p1 = org.packages
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "title", f"Changed {p0['name']}"),
        ("Resources", p1["resources"][0]["id"], "format", "csv"),
    ])
    result = apply(edited, sandbox)
    assert result.exit_code == 0, result.output
    undo = Path(result.output.split("To undo: bcdc-bulk apply ")[1].split(" -r ")[0])
    assert undo.exists()
    back = apply(undo, sandbox)
    assert back.exit_code == 0, back.output
    assert back.output.startswith("2 applied.")
    assert org.show(0)["title"] == p0["title"]
    assert org.show(1)["resources"][0]["format"] == p1["resources"][0]["format"]


def test_dry_run_writes_nothing(sandbox, tmp_path):
    org = Org(sandbox, 1)
    p0 = org.packages[0]
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx",
                  [("Datasets", p0["id"], "purpose", "Dry.")])
    result = apply(edited, sandbox, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run, nothing written: 1 applied.")
    assert org.show(0).get("purpose", "") == p0.get("purpose", "")
    assert not list(tmp_path.glob("*.undo-*.xlsx"))


def test_new_dataset_is_created_once(sandbox, tmp_path):
    org = Org(sandbox, 0)
    path = org.export(tmp_path / "org.xlsx")
    name = f"made-by-apply-{uuid.uuid4().hex[:8]}"
    wb = openpyxl.load_workbook(path)
    put_row(wb["Datasets"], dict(NEW_DATASET, name=name, title=f"Made {name}", owner_org=org.org["name"], tags="made"),
            row=3)
    put_row(wb["Contacts"], {"package_name": name, "position": "1", "name": "Kim", "email": "kim@example.invalid",
                             "org": org.org["name"], "role": "custodian", "displayed": "displayed"}, row=3)
    edited = tmp_path / "new.xlsx"
    wb.save(edited)
    first = apply(edited, sandbox)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("2 created.")  # its Datasets row and its Contacts row
    second = apply(edited, sandbox)
    assert second.output.startswith("2 unchanged."), second.output
    found = org.sysadmin.action.package_search(fq=f'name:"{name}"', include_drafts=True, include_private=True)
    assert found["count"] == 1


@pytest.mark.parametrize("name, yes, interactive, outcome", [
    ("prod", False, False, "refuse"), ("prod", True, False, True), ("http://127.0.0.1:5055", False, False, True),
])
def test_prod_asks_first_and_never_waits_without_a_terminal(name, yes, interactive, outcome):
    preview = Preview(site="https://catalogue.data.gov.bc.ca", records=12, calls=12, invalid=1, dry_run=False)
    if outcome == "refuse":
        with pytest.raises(ConfigError) as err:
            confirm_prod(preview, name, yes, interactive)
        assert str(err.value).startswith("not writing to prod without a yes. Write 12 datasets (12 calls) to "
                                         "https://catalogue.data.gov.bc.ca? 1 with errors will not be sent.")
    else:
        assert confirm_prod(preview, name, yes, interactive) is outcome


def test_an_edit_made_between_our_read_and_our_write_is_refused_by_the_match(sandbox, tmp_path):
    org = Org(sandbox, 1)
    p0 = org.packages[0]
    exported = org.export(tmp_path / "org.xlsx")
    edited = edit(exported, tmp_path / "edited.xlsx", [("Datasets", p0["id"], "title", f"Mine {p0['name']}")])
    stale = bb.read(edited).snapshot

    class ReadTooEarly:
        """Reads the records as they were before someone else's edit landed (the rest as the site)."""

        def __init__(self, site):
            self.site_catalogue = site

        def __getattr__(self, name):
            return getattr(self.site_catalogue, name)

        def packages_by_id(self, ids):
            org.sysadmin.action.package_patch(id=p0["id"], title=f"Theirs {p0['name']}")
            return {i: stale[i] for i in ids}

    catalogue = ReadTooEarly(remote_catalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"]))
    plan, rep = validate_workbook(bb.read(edited), catalogue)
    result = apply_plan(catalogue, plan, rep, ApplySettings(), edited, "race")
    [row] = result.rows
    assert row.status == "conflict" and "while this run was applying it (title)" in row.message
    assert org.show(0)["title"] == f"Theirs {p0['name']}"


def test_calls_are_exactly_the_changed_datasets(sandbox, tmp_path):
    org = Org(sandbox, 3)
    p0, p1, _ = org.packages
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", [
        ("Datasets", p0["id"], "purpose", "One."),
        ("Resources", p1["resources"][0]["id"], "format", "csv"),
        ("Resources", p1["resources"][1]["id"], "format", "csv"),
    ])
    catalogue = remote_catalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"])
    plan, rep = validate_workbook(bb.read(edited), catalogue)
    for method, expected in (("revise", ["package_revise"] * 2), ("patch", None)):
        catalogue.calls.clear()
        result = apply_plan(catalogue, plan, rep, ApplySettings(method=method, dry_run=method == "patch"),
                            edited, f"calls-{method}")
        writes = [c for c in catalogue.calls if c not in ("package_search", "package_show")]
        if expected:
            assert writes == expected and {r.status for r in result.rows} == {"applied"}
        else:  # a dry run sends nothing
            assert writes == []


def test_a_new_resource_with_a_local_file_is_uploaded(sandbox, tmp_path):
    org = Org(sandbox, 1)
    p0 = org.packages[0]
    path = org.export(tmp_path / "org.xlsx")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    wb = openpyxl.load_workbook(path)
    put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=p0["name"], name="Uploaded table", url="files/table.csv",
                                  resource_storage_location="catalogue data store"))
    edited = tmp_path / "upload.xlsx"
    wb.save(edited)
    result = apply(edited, sandbox)
    assert result.exit_code == 0, result.output
    uploaded = next(r for r in org.show(0)["resources"] if r["name"] == "Uploaded table")
    assert uploaded["url_type"] == "upload" and uploaded["url"].endswith("/table.csv")
    again = apply(edited, sandbox)
    assert again.output.startswith("1 unchanged."), again.output
    assert [r["name"] for r in org.show(0)["resources"]].count("Uploaded table") == 1
