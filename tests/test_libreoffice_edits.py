"""Issue 11: edits made in real LibreOffice Calc, driven through its UNO API as a person makes
them (sort, delete and insert rows, fill handle, paste, rename and delete sheets, typing,
save as .ods, an own column, an edit under a filter). Each comes back exactly as the edit,
or as a clear message naming the sheet, row and column; nothing is changed or dropped silently."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.export import export_workbook
from bcdc_bulk.plan import Plan
from bcdc_bulk.validation import validate_workbook

DRIVER = Path(__file__).with_name("uno_edit.py")
UNO_PYTHON = "/usr/bin/python3"
BRANCH = "sample-data-branch"


def _uno_ready() -> bool:
    if shutil.which("soffice") is None or not Path(UNO_PYTHON).exists():
        return False
    return subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _uno_ready(), reason="LibreOffice with python3-uno is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def office():
    """A headless LibreOffice listening for UNO, with its own profile; stopped at the end."""
    port = _free_port()
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                             "--nologo", "--nodefault", f"--accept=socket,host=127.0.0.1,port={port};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.3)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lo-edits") / "branch.xlsx"
    export_workbook(FileCatalogue(SAMPLE), path, BRANCH)
    return path


@pytest.fixture(scope="module")
def letters(exported) -> dict[str, dict[str, str]]:
    """Sheet -> field -> column letter, as exported."""
    wb = openpyxl.load_workbook(exported)
    return {ws.title: {c.value: c.column_letter for c in ws[2] if c.value} for ws in wb.worksheets}


def edit(office: int, source: Path, target: Path, steps: list[dict]) -> Path:
    """The workbook after LibreOffice carried out the steps and saved it as ``target`` (tried twice: the
    UNO bridge of the client now and then crashes on its own)."""
    command = [UNO_PYTHON, str(DRIVER), str(office), str(source), str(target), json.dumps(steps)]
    for _ in (1, 2):
        done = subprocess.run(command, capture_output=True, timeout=180)
        if done.returncode == 0:
            return target
        target.unlink(missing_ok=True)
    raise AssertionError(f"LibreOffice could not make the edit: {done.stderr.decode()[-500:]}")


def changes(plan: Plan) -> dict[tuple[str, int, str], object]:
    """(sheet, row, field) -> new value, for every change the plan makes."""
    return {(c.cell.sheet, c.cell.row, c.field): c.new for r in plan.records for c in r.changes if c.cell}


def rows_of(book, sheet: str) -> dict[int, dict]:
    return dict(book.sheets[sheet].rows)


def test_sorting_every_sheet_changes_nothing(office, exported, letters, tmp_path):
    out = edit(office, exported, tmp_path / "sorted.xlsx", [
        {"op": "sort", "sheet": "Datasets", "column": letters["Datasets"]["title"], "descending": True},
        {"op": "sort", "sheet": "Resources", "column": letters["Resources"]["format"]},
        {"op": "sort", "sheet": "Contacts", "column": letters["Contacts"]["email"], "descending": True},
    ])
    plan = bb.check(out).plan
    assert plan.records == [] and plan.problems == [] and plan.ignored == []


def test_inserted_blank_rows_and_a_filter_change_nothing(office, exported, letters, tmp_path):
    out = edit(office, exported, tmp_path / "inserted.xlsx", [
        {"op": "insert_rows", "sheet": "Datasets", "row": 5, "count": 3},
        {"op": "insert_rows", "sheet": "Resources", "row": 4, "count": 1},
        {"op": "filter", "sheet": "Datasets", "column": letters["Datasets"]["publish_state"], "equals": "Archived"},
    ])
    plan = bb.check(out).plan
    assert plan.records == [] and plan.problems == [] and plan.ignored == []


def test_a_deleted_dataset_row_deletes_nothing_and_is_said(office, exported, tmp_path):
    name = rows_of(bb.read(exported), "Datasets")[4]["name"]
    out = edit(office, exported, tmp_path / "deleted.xlsx", [{"op": "delete_rows", "sheet": "Datasets", "row": 4}])
    plan = bb.check(out).plan
    assert plan.records == []
    assert [(n.sheet, n.record) for n in plan.ignored if "deleted" in n.message][0] == ("Datasets", name)


def test_fill_handle_on_a_licence_is_refused_naming_the_nearest(office, exported, letters, tmp_path):
    col = letters["Datasets"]["license_id"]
    out = edit(office, exported, tmp_path / "filled.xlsx", [
        {"op": "type", "sheet": "Datasets", "cell": f"{col}3", "text": "21 - Statistics Canada Open Licence"},
        {"op": "fill_down", "sheet": "Datasets", "range": f"{col}3:{col}5"},
    ])
    book = bb.read(out)
    assert rows_of(book, "Datasets")[4]["license_id"] == "22 - Statistics Canada Open Licence"  # LibreOffice counted up
    plan, report = validate_workbook(book)
    assert changes(plan)[("Datasets", 3, "license_id")] == "21"
    errors = {(p.where, p.code): p.message for p in report.errors}
    for row, number in ((4, 22), (5, 23)):
        message = errors[(f"Datasets!{col}{row}", "licence")]
        assert f"'{number} - Statistics Canada Open Licence' is not a licence" in message
        assert "did you mean '21 - Statistics Canada Open Licence'?" in message
    # the filled rows, and no other, are stopped by what the fill typed (row 3's record may hold older problems)
    assert {p.record for p in report.errors if not p.pre_existing} == \
        {r.key for r in plan.records if r.rows_at[()][1] in (4, 5)}


def test_a_label_pasted_over_ten_rows_sends_the_value_ten_times(office, exported, letters, tmp_path):
    col = letters["Datasets"]["security_class"]
    out = edit(office, exported, tmp_path / "pasted.xlsx", [
        {"op": "type", "sheet": "Datasets", "cell": f"{col}3", "text": "Protected-A"},
        {"op": "paste", "sheet": "Datasets", "from": f"{col}3", "to": f"{col}4"},
        {"op": "paste", "sheet": "Datasets", "from": f"{col}3:{col}4", "to": f"{col}5"},
        {"op": "paste", "sheet": "Datasets", "from": f"{col}3:{col}6", "to": f"{col}7"},
        {"op": "paste", "sheet": "Datasets", "from": f"{col}3:{col}4", "to": f"{col}11"},
    ])
    book = bb.read(out)
    before = {r: v["security_class"] for r, v in rows_of(bb.read(exported), "Datasets").items()}
    plan, report = validate_workbook(book)
    sent = {row: new for (sheet, row, field), new in changes(plan).items() if field == "security_class"}
    assert sent == {r: "PROTECTED A" for r in range(3, 13) if before[r] != "PROTECTED A"}
    assert not [p for p in report.errors if p.field == "security_class" and not p.pre_existing]


def test_typing_keeps_text_exactly(office, exported, letters, tmp_path):
    """Dates, numbers and spaces typed into text cells are sent as typed."""
    cols = letters["Datasets"]
    out = edit(office, exported, tmp_path / "typed.xlsx", [
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['purpose']}3", "text": "03/04/05"},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['purpose']}4", "text": "0123"},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['purpose']}5", "text": "1E5"},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['lineage_statement']}3", "text": "  padded  "},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['record_publish_date']}4", "text": "2024-03-31"},
    ])
    got = changes(bb.check(out).plan)
    assert got == {("Datasets", 3, "purpose"): "03/04/05", ("Datasets", 4, "purpose"): "0123",
                   ("Datasets", 5, "purpose"): "1E5", ("Datasets", 3, "lineage_statement"): "  padded  ",
                   ("Datasets", 4, "record_publish_date"): "2024-03-31"}


def test_an_edit_under_a_filter_is_that_edit(office, exported, letters, tmp_path):
    rows = rows_of(bb.read(exported), "Datasets")
    row = next(r for r, v in rows.items() if v["publish_state"] == "Archived")
    cols = letters["Datasets"]
    out = edit(office, exported, tmp_path / "filtered.xlsx", [
        {"op": "filter", "sheet": "Datasets", "column": cols["publish_state"], "equals": "Archived"},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['purpose']}{row}", "text": "Edited under a filter"},
    ])
    assert changes(bb.check(out).plan) == {("Datasets", row, "purpose"): "Edited under a filter"}


def test_a_renamed_or_deleted_sheet_is_refused(office, exported, tmp_path):
    renamed = edit(office, exported, tmp_path / "renamed.xlsx",
                   [{"op": "rename_sheet", "sheet": "Contacts", "to": "People"}])
    with pytest.raises(WorkbookError, match=r"the 'Contacts' sheet is missing or was renamed \(is 'People' the "):
        bb.read(renamed)
    deleted = edit(office, exported, tmp_path / "deleted.xlsx", [{"op": "remove_sheet", "sheet": "Lifecycle Dates"}])
    with pytest.raises(WorkbookError, match=r"sheet 'Lifecycle Dates': the 'Lifecycle Dates' sheet is missing"):
        bb.read(deleted)


def test_an_own_column_is_ignored_with_a_note(office, exported, letters, tmp_path):
    cols = letters["Datasets"]
    spare = openpyxl.utils.get_column_letter(len(cols) + 2)
    out = edit(office, exported, tmp_path / "own.xlsx", [
        {"op": "type", "sheet": "Datasets", "cell": f"{spare}1", "text": "Checked by"},
        {"op": "type", "sheet": "Datasets", "cell": f"{spare}2", "text": "checked_by"},
        {"op": "type", "sheet": "Datasets", "cell": f"{spare}3", "text": "Sam"},
        {"op": "type", "sheet": "Datasets", "cell": f"{cols['purpose']}3", "text": "Checked"},
    ])
    plan = bb.check(out).plan
    assert changes(plan) == {("Datasets", 3, "purpose"): "Checked"}
    assert [n.message for n in plan.ignored] == [
        f"column {spare} ('checked_by') is not one bcdc-bulk wrote: it is your own and is ignored"]


def test_saved_as_ods_says_how_to_save_it_back_and_back_as_xlsx_keeps_the_edit(office, exported, letters, tmp_path):
    col = letters["Datasets"]["purpose"]
    ods = edit(office, exported, tmp_path / "edited.ods",
               [{"op": "type", "sheet": "Datasets", "cell": f"{col}3", "text": "Kept through .ods"}])
    with pytest.raises(WorkbookError, match=r"saved as an OpenDocument spreadsheet \(.ods\). Your edits are still"):
        bb.read(ods)
    back = edit(office, ods, tmp_path / "back.xlsx", [])
    assert changes(bb.check(back).plan) == {("Datasets", 3, "purpose"): "Kept through .ods"}


def test_another_catalogues_workbook_survives_libreoffice_and_takes_a_french_title(office, tmp_path):
    """Issue 21: a workbook laid out from open.canada.ca's schema (a column a language), opened and
    saved by LibreOffice: nothing changes; a French title typed there changes that language only."""
    from test_other_schemas import CANADA, SCHEMAS
    from test_other_schemas import exported as other_export

    if not SCHEMAS.is_dir():
        pytest.skip("../shared/ckan-schemas is not present")
    from bcdc_bulk.schema import schema_from_files

    path = other_export(schema_from_files(*CANADA), tmp_path)
    same = edit(office, path, tmp_path / "saved.xlsx", [])
    assert bb.check(same).plan.records == []
    ws = openpyxl.load_workbook(path)["Datasets"]
    column = next(c.column_letter for c in ws[2] if c.value == "title_translated-fr")
    typed = edit(office, path, tmp_path / "typed.xlsx",
                 [{"op": "type", "sheet": "Datasets", "cell": f"{column}3", "text": "Titre saisi dans LibreOffice"}])
    [rec] = bb.check(typed).plan.records
    [change] = rec.changes
    assert change.field == "title_translated"
    assert change.new == dict(change.old, fr="Titre saisi dans LibreOffice")
