"""Issue 20, first steps: what trips an admin doing real jobs. A template made without -r applies to a
catalogue (template -> fill -> validate -> apply -> report, against the sandbox); a dry run writes its
own report and never replaces a real run's; workbooks are readable by colleagues as any saved file."""
from __future__ import annotations

import json
import os
import stat
import uuid

import openpyxl
from click.testing import CliRunner
from conftest import NEW_DATASET, columns, put_row
from test_apply import Org, apply, edit, report

from bcdc_bulk.cli import cli


def test_a_template_made_without_a_catalogue_is_filled_validated_and_applied(sandbox, tmp_path):
    org = Org(sandbox, 0)
    template = tmp_path / "template.xlsx"
    made = CliRunner().invoke(cli, ["template", "-o", str(template)])
    assert made.exit_code == 0, made.output
    name = f"from-a-template-{uuid.uuid4().hex[:8]}"
    wb = openpyxl.load_workbook(template)
    put_row(wb["Datasets"], dict(NEW_DATASET, name=name, title=f"From a template {name}", owner_org=org.org["name"],
                                 tags="template"), row=3)
    put_row(wb["Contacts"], {"package_name": name, "position": "1", "name": "Kim", "email": "kim@example.invalid",
                             "org": org.org["name"], "role": "custodian", "displayed": "displayed"}, row=3)
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    env = {"BCDC_API_KEY": sandbox["CKAN_EDITOR_TOKEN"]}
    checked = CliRunner().invoke(cli, ["validate", str(filled), "-r", sandbox["CKAN_URL"]], env=env)
    assert checked.exit_code == 0, checked.output  # no more "exported from (built-in schema) ..."
    applied = apply(filled, sandbox)
    assert applied.exit_code == 0, applied.output
    assert applied.output.startswith("2 created."), applied.output
    assert {r["status"] for r in report(filled)} == {"created"}
    made_record = org.sysadmin.action.package_show(id=name)
    assert made_record["title"] == f"From a template {name}" and made_record["contacts"][0]["name"] == "Kim"


def test_a_dry_run_after_a_real_run_keeps_the_real_runs_report(sandbox, tmp_path):
    org = Org(sandbox, 1)
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx",
                  [("Datasets", org.packages[0]["id"], "purpose", "Really applied")])
    real = apply(edited, sandbox)
    assert real.exit_code == 0, real.output
    real_rows = report(edited)
    journal = edited.with_name("edited.journal.jsonl").read_text()
    undo = sorted(tmp_path.glob("edited.undo-*.xlsx"))
    dry = apply(edited, sandbox, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"Report: {tmp_path / 'edited.dry-run.report.xlsx'}" in dry.output
    assert report(edited) == real_rows and real_rows[0]["status"] == "applied"  # the real report stands
    dry_rows = [json.loads(line) for line in (tmp_path / "edited.dry-run.report.jsonl").read_text().splitlines()]
    assert [r["status"] for r in dry_rows] == ["unchanged"]
    assert edited.with_name("edited.journal.jsonl").read_text() == journal  # nothing journalled
    assert sorted(tmp_path.glob("edited.undo-*.xlsx")) == undo  # no undo workbook of its own


def test_workbooks_are_written_readable_as_any_saved_file(tmp_path):
    out = tmp_path / "template.xlsx"
    old = os.umask(0o022)
    try:
        assert CliRunner().invoke(cli, ["template", "-o", str(out)]).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # a colleague on a shared drive can open it


def test_the_report_names_the_row_of_the_entry_that_changed(tmp_path):
    """A changed contact is reported at its own row, not at its dataset's first Contacts row."""
    from test_lists_exact import SETTINGS, memory_catalogue

    import bcdc_bulk as bb

    catalogue, org, packages = memory_catalogue()
    export = tmp_path / "org.xlsx"
    bb.export(catalogue, export, org["name"])
    wb = openpyxl.load_workbook(export)
    ws = wb["Contacts"]
    cols = columns(ws)
    name = packages[1]["name"]
    rows = {ws.cell(r, cols["position"]).value: r for r in range(3, ws.max_row + 1)
            if ws.cell(r, cols["package_name"]).value == name}
    ws.cell(rows["2"], cols["email"]).value = "second.contact@example.invalid"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    result = bb.apply(edited, catalogue, SETTINGS)
    assert [(r.sheet, r.row, str(r.status)) for r in result.rows] == [("Contacts", rows["2"], "applied")]
    assert rows["2"] != rows["1"]
