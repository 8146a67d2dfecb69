"""Issue 5: validation and planning logic (in memory), and the validate/plan commands."""
from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import NEW_DATASET, NEW_RESOURCE, SAMPLE, put_row, row_of

import bcdc_bulk as bb
from bcdc_bulk.calls import PATCH, REVISE, plan_calls, record_calls
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.cli import cli
from bcdc_bulk.export import export_workbook
from bcdc_bulk.problems import ERROR, TITLES_UNSEEN_NOTE, WARNING
from bcdc_bulk.schema import shipped_licenses, shipped_schema
from bcdc_bulk.validation import CatalogueFacts, RecordChecker, ckan_reads_date, validate_workbook

BRANCH = "sample-data-branch"


def sample_packages() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def current_package() -> dict:
    return next(p for p in sample_packages() if p["security_class"] == "PUBLIC" and isinstance(p["contacts"], list)
                and p.get("resource_status") not in ("obsolete", "historicalArchive"))


@pytest.fixture(scope="module")
def checker() -> RecordChecker:
    orgs = {o["id"]: o["name"] for o in map(json.loads, (SAMPLE.parent / "organizations.jsonl").read_text().splitlines())}
    lookups = CatalogueFacts(licence_ids={str(x["id"]) for x in shipped_licenses()}, org_ids=set(orgs), org_names=orgs)
    return RecordChecker(shipped_schema(), lookups)


@pytest.fixture(scope="module")
def branch_export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("validate") / "branch.xlsx"
    export_workbook(FileCatalogue(SAMPLE), path, BRANCH)
    return path


# four records of the branch, named: the export writes them by title, so tests find their rows
CLEAN, SECOND, THIRD, FOURTH = ("heritage-sites-skeena-0009", "groundwater-wells-vancouver-island-0057",
                                "clinic-wait-times-lower-mainland-0005", "salmon-escapement-okanagan-0061")


def edit(src: Path, dst: Path, changes: list[tuple[str, int | str | tuple[str, int], str, object]]) -> Path:
    """Type values into a copy; a change's row is a number, a dataset's URL name, or (name, nth row)."""
    wb = openpyxl.load_workbook(src)
    for sheet, where, field, value in changes:
        ws = wb[sheet]
        col = next(c.column for c in ws[2] if c.value == field)
        ws.cell(at(src, sheet, where), col).value = value
    wb.save(dst)
    return dst


def at(path: Path, sheet: str, where: int | str | tuple[str, int]) -> int:
    """The row a test means: a number as it is, else the named dataset's (nth) row on the sheet."""
    if isinstance(where, int):
        return where
    name, nth = (where, 1) if isinstance(where, str) else where
    return row_of(openpyxl.load_workbook(path, read_only=False)[sheet], name, nth)


# --- pure logic ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, ok", [
    ("2024-03-31", True), ("2024-03-31T10:00:00", True), ("2024/01/02", True), ("2020-01-01 17.04.59.123", True),
    ("31/12/2020", False), ("yesterday", False), ("2020-13-45", False), ("2024", False),
])
def test_dates_as_ckan_reads_them(text, ok):
    assert ckan_reads_date(text) is ok


def test_a_current_record_has_no_problems(checker):
    assert checker.check(current_package()) == []


def test_every_problem_of_a_record_is_reported(checker):
    pkg = copy.deepcopy(current_package())
    pkg.update(security_class="SECRET", title="x", resource_status="obsolete", replacement_record="", notes="")
    pkg["resources"][0]["format"] = "docx"
    codes = {(i.path, i.code, i.severity) for i in checker.check(pkg)}
    assert codes == {(("security_class",), "choice", ERROR), (("title",), "too-short", ERROR),
                     (("replacement_record",), "conditional-required", ERROR), (("notes",), "required", ERROR),
                     (("resources", 0, "format"), "choice", ERROR)}


def test_resource_conditionals_are_warnings_because_the_server_never_checks_them(checker):
    pkg = copy.deepcopy(current_package())
    res = pkg["resources"][0]
    res.update(bcdc_type="geographic", spatial_datatype="", projection_name="", iso_topic_category=[])
    found = {(i.path[-1], i.code, i.severity) for i in checker.check(pkg)}
    assert ("spatial_datatype", "conditional-required", WARNING) in found
    assert ("projection_name", "conditional-required", WARNING) in found
    assert not [i for i in checker.check(pkg) if i.severity == ERROR]


def test_json_schema_is_compiled_from_the_scheming_schema(checker):
    schema = checker.json_schema
    assert schema["properties"]["security_class"]["enum"] == ["PUBLIC", "PROTECTED A", "PROTECTED B", "PROTECTED C"]
    assert "notes" in schema["required"] and schema["x-required"]["notes"] == ERROR
    assert schema["properties"]["resources"]["items"]["properties"]["format"]["x-sev"]["enum"] == ERROR
    assert any(c["then"]["required"] == ["replacement_record"] for c in schema["allOf"])


def test_untouched_export_plans_nothing(branch_export):
    plan = bb.check(branch_export).plan
    assert plan.records == [] and plan.problems == [] and plan.ignored == []
    assert plan_calls(plan) == []


def test_cosmetic_changes_are_not_changes(branch_export, tmp_path):
    book = bb.read(branch_export)
    ws_rows = dict(book.sheets["Datasets"].rows)
    tags = ws_rows[3]["tags"]
    licence = ws_rows[3]["license_id"]
    edited = edit(branch_export, tmp_path / "cosmetic.xlsx", [
        ("Datasets", 3, "tags", tags.replace(", ", ",") + "  "),  # spacing only
        ("Datasets", 3, "license_id", licence.split(" - ")[0]),  # the id without its title
        ("Datasets", 4, "notes", ws_rows[4]["notes"].replace("\r\n", "\n").replace("\n", "\r\n")),  # Windows line ends
    ])
    assert bb.check(edited).plan.records == []


def test_a_users_own_column_is_ignored_with_a_note(branch_export, tmp_path):
    wb = openpyxl.load_workbook(branch_export)
    ws = wb["Datasets"]
    col, row = ws.max_column + 1, row_of(ws, CLEAN)
    ws.cell(1, col).value, ws.cell(2, col).value, ws.cell(row, col).value = "My notes", "checked", "yes"
    purpose = next(c.column for c in ws[2] if c.value == "purpose")
    ws.cell(row, purpose).value = "Own column beside"
    wb.save(tmp_path / "own.xlsx")
    result = run("plan", str(tmp_path / "own.xlsx"))
    assert result.exit_code == 0, result.output
    letter = openpyxl.utils.get_column_letter(col)
    assert f"Ignored: Datasets: column {letter} ('checked') is not one bcdc-bulk wrote: it is your own and is ignored" \
        in result.output
    assert "    Purpose: " in result.output and "'Own column beside'" in result.output


def test_a_number_the_spreadsheet_made_of_an_edit_is_sent_with_a_warning(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "number.xlsx", [("Datasets", CLEAN, "purpose", 100000.0)])
    plan, report = validate_workbook(bb.read(edited))
    assert [c.new for r in plan.records for c in r.changes] == ["100000"]
    [warning] = report.problems
    row = at(edited, "Datasets", CLEAN)
    assert (warning.where, warning.severity, warning.code) == (f"Datasets!P{row}", "warning", "typed-number")
    assert "stored what was typed here as the number 100000" in warning.message and report.valid


def test_whitespace_is_sent_exactly_as_typed(branch_export, tmp_path):
    """Spaces, tabs and a Markdown line break (two spaces before a newline) are edits like any other."""
    book = bb.read(branch_export)
    notes = dict(book.sheets["Datasets"].rows)[4]["notes"]
    edited = edit(branch_export, tmp_path / "spaces.xlsx", [
        ("Datasets", 3, "purpose", "  Indented purpose\t"),
        ("Datasets", 4, "notes", notes + " "),
        ("Datasets", 5, "lineage_statement", "First line  \nsecond line after a Markdown break\n"),
    ])
    plan = bb.check(edited).plan
    sent = {(c.cell.row, c.field): c.new for r in plan.records for c in r.changes}
    assert sent == {(3, "purpose"): "  Indented purpose\t", (4, "notes"): notes.replace("\r\n", "\n") + " ",
                    (5, "lineage_statement"): "First line  \nsecond line after a Markdown break\n"}


def test_only_changed_fields_are_sent_and_lists_only_when_changed(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "e.xlsx", [
        ("Datasets", 3, "purpose", "New purpose"), ("Resources", 3, "format", "xlsx"),
    ])
    plan = bb.check(edited).plan
    [rec] = plan.records
    calls = record_calls(rec, PATCH)
    assert [c.action for c in calls] == ["package_patch", "resource_patch"]
    assert set(calls[0].data) == {"id", "purpose"}  # no tags, contacts or resources: they would be replaced
    assert set(calls[1].data) == {"id", "format"}
    [revise] = record_calls(rec, REVISE)
    assert revise.action == "package_revise"
    assert revise.data["update"] == {"purpose": "New purpose"}
    assert revise.data[f"update__resources__{calls[1].data['id']}"] == {"format": "xlsx"}


def test_a_changed_contact_sends_the_whole_contact_list(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "c.xlsx", [("Contacts", CLEAN, "email", "new@example.invalid")])
    [rec] = bb.check(edited).plan.records
    [call] = record_calls(rec, PATCH)
    assert call.action == "package_patch" and set(call.data) == {"id", "contacts"}
    before = rec.before["contacts"]
    assert call.data["contacts"][0]["email"] == "new@example.invalid"
    assert len(call.data["contacts"]) == len(before)
    assert {k: v for k, v in call.data["contacts"][0].items() if k != "email"} == \
        {k: v for k, v in before[0].items() if k != "email"}


def test_new_rows_are_creations_and_deleted_rows_are_ignored(branch_export, tmp_path):
    wb = openpyxl.load_workbook(branch_export)
    wb["Datasets"].delete_rows(4)
    put_row(wb["Datasets"], dict(NEW_DATASET, name="brand-new-dataset", title="Brand new dataset", owner_org=BRANCH))
    put_row(wb["Resources"], dict(NEW_RESOURCE, package_name="brand-new-dataset", name="Data",
                                  url="https://example.invalid/d.csv"))
    path = tmp_path / "new.xlsx"
    wb.save(path)
    plan, report = validate_workbook(bb.read(path))
    [rec] = plan.records
    assert rec.action == "create" and rec.after["owner_org"] == "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
    assert rec.after["resources"][0]["format"] == "csv" and rec.after["tags"] == [{"name": "new"}]
    [call] = record_calls(rec)
    assert call.action == "package_create" and len(call.data["resources"]) == 1
    assert any("deleted from the workbook" in n.message for n in plan.ignored)
    assert {p.code for p in report.problems} == {"contacts"}  # a warning: no contact rows yet
    assert report.valid


def test_pre_existing_problems_are_told_apart(tmp_path):
    legacy = next(p for p in sample_packages() if p["security_class"] == "LOW-PUBLIC")
    catalogue_file = tmp_path / "cat.jsonl"
    catalogue_file.write_text(json.dumps(legacy) + "\n")
    (tmp_path / "organizations.jsonl").write_text((SAMPLE.parent / "organizations.jsonl").read_text())
    path = tmp_path / "legacy.xlsx"
    export_workbook(FileCatalogue(catalogue_file), path, legacy["owner_org"])
    edited = edit(path, tmp_path / "legacy-edited.xlsx", [("Datasets", 3, "purpose", "Changed purpose")])
    _, report = validate_workbook(bb.read(edited))
    pre = [p for p in report.problems if p.pre_existing]
    assert pre and all(p.severity == ERROR for p in pre)
    assert any(p.field == "security_class" and "already so before your edit" in p.message for p in pre)
    assert not [p for p in report.problems if not p.pre_existing and p.severity == ERROR]


def test_a_new_resource_leaves_its_siblings_stored_problems_pre_existing(tmp_path):
    """A record whose stored resources have problems (a format in capitals) gets a new resource:
    the siblings' problems are still the record's old ones, not the user's."""
    legacy = next(p for p in sample_packages() if any(r["format"] == "KML" for r in p["resources"]))
    catalogue_file = tmp_path / "cat.jsonl"
    catalogue_file.write_text(json.dumps(legacy) + "\n")
    (tmp_path / "organizations.jsonl").write_text((SAMPLE.parent / "organizations.jsonl").read_text())
    path = tmp_path / "legacy.xlsx"
    export_workbook(FileCatalogue(catalogue_file), path, legacy["owner_org"])
    wb = openpyxl.load_workbook(path)
    put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=legacy["name"], name="Added",
                                  url="https://example.invalid/added.csv"))
    wb.save(tmp_path / "added.xlsx")
    _, report = validate_workbook(bb.read(tmp_path / "added.xlsx"))
    formats = [p for p in report.problems if p.field == "format"]
    assert formats and all(p.pre_existing for p in formats), [(p.where, p.pre_existing) for p in formats]


def test_a_deleted_group_row_is_kept_and_said_so_even_when_nothing_else_changed(branch_export, tmp_path):
    wb = openpyxl.load_workbook(branch_export)
    ws = wb["Contacts"]
    name = ws.cell(3, 1).value
    ws.delete_rows(3)
    wb.save(tmp_path / "deleted.xlsx")
    plan = bb.check(tmp_path / "deleted.xlsx").plan
    assert plan.records == []
    assert [(n.sheet, n.record, n.message) for n in plan.ignored] == [
        ("Contacts", name, "entry #1 was deleted from the workbook and is kept in the catalogue; to remove an "
                           "entry, clear its cells instead")]
    result = run("plan", str(tmp_path / "deleted.xlsx"))
    assert result.output == (f"Ignored: Contacts: {name}: entry #1 was deleted from the workbook and is kept in the "
                             "catalogue; to remove an entry, clear its cells instead\nNo changes.\n")


# --- the commands -------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_validate_prints_each_problem_and_exits_3(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "bad.xlsx", [
        ("Datasets", CLEAN, "security_class", "SECRET"), ("Contacts", CLEAN, "email", "reception@office"),
    ])
    result = run("validate", str(edited))
    assert result.exit_code == 3
    contact, dataset = at(edited, "Contacts", CLEAN), at(edited, "Datasets", CLEAN)
    assert result.output == (
        f"{f'Contacts!D{contact}':<17}warning email                  'reception@office' does not look like an e-mail "
        "address (name@example.gov.bc.ca)\n"
        f"{f'Datasets!H{dataset}':<17}error   security_class         Security Classification: 'SECRET' is not one of the "
        "choices: Public, Protected-A, Protected-B, Protected-C\n"
        "1 error and 1 warning in 1 changed record. Nothing was sent to the catalogue.\n"
    )


def test_validate_clean_workbook(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "ok.xlsx", [("Datasets", CLEAN, "purpose", "Fine.")])
    result = run("validate", str(edited))
    assert (result.exit_code, result.output) == (0, "No problems in 1 changed record.\n")


def test_annotate_and_report(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "bad.xlsx", [("Datasets", THIRD, "security_class", "SECRET"),
                                                         ("Contacts", CLEAN, "email", "reception@office")])
    row, contact = at(edited, "Datasets", THIRD), at(edited, "Contacts", CLEAN)
    original = edited.read_bytes()
    annotated, report = tmp_path / "marked.xlsx", tmp_path / "problems.xlsx"
    result = run("validate", str(edited), "--annotate", str(annotated), "--report", str(report))
    assert result.exit_code == 3, result.output
    assert edited.read_bytes() == original
    wb = openpyxl.load_workbook(annotated)
    ws = wb["Datasets"]
    cell = ws[f"H{row}"]
    assert ws["H2"].value == "security_class"
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "'SECRET' is not one of the choices: Public, Protected-A" in cell.comment.text
    problems_col = next(c.column for c in ws[2] if c.value == "_problems")
    assert "Security Classification" in ws.cell(row, problems_col).value
    # the copy opens on its Problems sheet: counts, then a row a problem linked to its cell
    assert wb.sheetnames[0] == "Problems" and wb.active.title == "Problems"
    sheet = wb["Problems"]
    assert sheet["A2"].value.startswith("1 error (the row is not sent until fixed) and 1 warning")
    header = [c.value for c in sheet[4]]
    assert header[:5] == ["Where", "Dataset", "Severity", "Message", "Already so before your edit"]
    assert sheet["A2"].value.endswith("Click a cell under Where to go there (Ctrl+click in LibreOffice).")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5) if row[0].value]
    book = bb.read(edited)
    name = book.snapshot[dict(book.sheets["Datasets"].rows)[row]["id"]]["name"]
    assert [r[:3] for r in rows] == [[f"Contacts!D{contact}", rows[0][1], "warning"], [f"Datasets!H{row}", name, "error"]]
    links = [sheet.cell(r, 1).hyperlink.location for r in (5, 6)]
    assert links == [f"'Contacts'!D{contact}", f"'Datasets'!H{row}"]
    for link in links:  # each link lands on the problem's cell
        target_sheet, target_cell = link.split("!")
        assert wb[target_sheet.strip("'")][target_cell].comment is not None
    assert ws.sheet_properties.tabColor.rgb.endswith("C00000")
    assert wb["Contacts"].sheet_properties.tabColor.rgb.endswith("FFC000")
    assert wb["Resources"].sheet_properties.tabColor is None
    # the annotated copy is still a workbook bcdc-bulk reads, with the same problems
    assert run("validate", str(annotated)).exit_code == 3
    again = tmp_path / "again.xlsx"
    assert run("validate", str(annotated), "--annotate", str(again)).exit_code == 3
    assert openpyxl.load_workbook(again).sheetnames.count("Problems") == 1
    rows = list(csv.DictReader(report.with_suffix(".csv").open(encoding="utf-8-sig")))
    assert list(rows[1])[:4] == ["where", "dataset", "severity", "message"]
    assert [(r["where"], r["dataset"], r["code"]) for r in rows][1] == (f"Datasets!H{row}", name, "choice")
    assert json.loads(report.with_suffix(".jsonl").read_text().splitlines()[1])["field"] == "security_class"
    xlsx = openpyxl.load_workbook(report)
    assert xlsx.sheetnames == ["Summary", "Rows"]
    assert [c.value for c in xlsx["Rows"][1]][:4] == ["Where", "Dataset", "Severity", "Message"]
    link = xlsx["Rows"]["A3"].hyperlink
    assert (xlsx["Rows"]["A3"].value, link.target, link.location) == (f"Datasets!H{row}", "bad.xlsx",
                                                                      f"'Datasets'!H{row}")
    assert run("validate", str(edited), "--annotate", str(edited)).exit_code == 1


def test_plan_shows_the_calls(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "p.xlsx", [("Datasets", CLEAN, "purpose", "New purpose")])
    book, row = bb.read(edited), at(edited, "Datasets", CLEAN)
    pkg_id = dict(book.sheets["Datasets"].rows)[row]["id"]
    name, title = book.snapshot[pkg_id]["name"], book.snapshot[pkg_id]["title"]
    old = book.snapshot[pkg_id]["purpose"]
    result = run("plan", str(edited), "--method", "patch")
    assert result.exit_code == 0
    assert result.output == (f"Update '{title}' ({name}), Datasets row {row}:\n    Purpose: {old!r} -> 'New purpose'\n"
                             "1 call for 1 record. Nothing was sent yet.\n")
    data = json.loads(run("plan", str(edited), "--json").output)
    assert [c["action"] for c in data["calls"]] == ["package_revise"]
    assert data["calls"][0]["changes"] == [{"field": "purpose", "old": old, "new": "New purpose",
                                            "cell": f"Datasets!P{row}"}]


def test_validate_against_another_site_is_refused(branch_export):
    result = run("validate", str(branch_export), "-r", "https://catalogue.data.gov.bc.ca")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: this workbook was exported from {SAMPLE}, not https://catalogue")


def test_names_and_titles_in_use_on_the_server(sandbox):
    cat = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"])
    pkg = current_package()
    assert cat.names_in_use([pkg["name"], "surely-not-a-dataset-name"]) == {pkg["name"]}
    assert cat.titles_in_use([pkg["title"], "Surely not a title"]) == {pkg["title"]: pkg["id"]}
    who = cat.caller()
    assert who.known and who.user == sandbox["CKAN_EDITOR_USER"] and not who.sysadmin
    assert who.role_in("1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d") == "editor"


def _new_org(sandbox: dict) -> dict:
    import uuid

    import ckanapi

    sysadmin = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    org = sysadmin.action.organization_create(name=f"create-{uuid.uuid4().hex[:8]}", title="Creations")
    sysadmin.action.organization_member_create(id=org["id"], username=sandbox["CKAN_EDITOR_USER"], role="editor")
    return org


@pytest.mark.parametrize("state, accepted", [("DRAFT", True), ("PUBLISHED", False)])
def test_new_rows_are_created_on_the_server_as_validate_says(sandbox, tmp_path, state, accepted):
    import uuid

    import ckanapi

    org = _new_org(sandbox)
    path = tmp_path / "empty.xlsx"
    export_workbook(remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"]), path, org["name"])
    name = f"created-{uuid.uuid4().hex[:8]}"
    wb = openpyxl.load_workbook(path)
    put_row(wb["Datasets"], dict(NEW_DATASET, name=name, title=f"Created {name}", owner_org=org["name"],
                                 publish_state=state, tags="created, workbook"))
    put_row(wb["Contacts"], {"package_name": name, "position": "1", "name": "Sam Example",
                             "email": "sam@example.invalid", "org": org["name"], "role": "custodian",
                             "displayed": "displayed"})
    put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=name, name="Table", url="https://example.invalid/t.csv"))
    edited = tmp_path / "new.xlsx"
    wb.save(edited)
    plan, report = validate_workbook(bb.read(edited),
                                     remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"]))
    [rec] = plan.records
    assert rec.action == "create"
    client = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_EDITOR_TOKEN"])
    [call] = record_calls(rec)
    if accepted:  # a new title is no warning on its cell; one note says what validate cannot see
        assert report.problems == [] and report.notes == [TITLES_UNSEEN_NOTE]
        created = client.call_action(call.action, call.data)
        assert created["contacts"][0]["email"] == "sam@example.invalid"
        assert created["contacts"][0]["org"] == org["id"]
        assert [r["format"] for r in created["resources"]] == ["csv"]
    else:
        assert [(p.field, p.code) for p in report.errors] == [("publish_state", "state-transition")]
        with pytest.raises(ckanapi.ValidationError) as err:
            client.call_action(call.action, call.data)
        assert "publish_state" in err.value.error_dict


@pytest.mark.parametrize("exists", [True, False])
def test_a_new_resource_can_name_a_file_to_upload(branch_export, tmp_path, exists):
    book = bb.read(branch_export)
    name = next(p["name"] for p in book.snapshot.values() if p["name"] == CLEAN)
    wb = openpyxl.load_workbook(branch_export)
    row = put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=name, name="Upload", url="files/data.csv"))
    wb.save(tmp_path / "upload.xlsx")
    if exists:
        (tmp_path / "files").mkdir()
        (tmp_path / "files" / "data.csv").write_text("a,b\n1,2\n")
    plan, report = validate_workbook(bb.read(tmp_path / "upload.xlsx"))
    if exists:
        assert report.problems == []
        [call] = plan_calls(plan)
        assert (call.action, call.upload) == ("resource_create", "files/data.csv") and "url" not in call.data
    else:
        [problem] = report.problems
        assert (problem.sheet, problem.row, problem.code) == ("Resources", row, "upload-missing")
        assert "the file to upload, 'files/data.csv', was not found" in problem.message


GOLDEN = Path(__file__).parent / "golden"


def test_problem_report_matches_the_golden_file(branch_export, tmp_path):
    edited = edit(branch_export, tmp_path / "bad.xlsx", [
        ("Datasets", CLEAN, "security_class", "SECRET"), ("Datasets", SECOND, "title", "x"),
        ("Contacts", CLEAN, "email", "reception@office"), ("Resources", (CLEAN, 3), "format", "docx"),
        ("Datasets", FOURTH, "record_publish_date", "2024/01/02"),
    ])
    report = tmp_path / "problems.xlsx"
    result = run("validate", str(edited), "--report", str(report))
    assert result.exit_code == 3
    produced = report.with_suffix(".csv").read_text(encoding="utf-8-sig")
    assert produced == (GOLDEN / "problems.csv").read_text(encoding="utf-8")
