"""Issue 5: a corpus of broken and hostile workbooks, each with the message it must give.

Every case is made from a real export by a small builder, then given to `validate`
and `plan` through the CLI runner: exit 1 (cannot read it) or 3 (rows with errors),
a message naming the sheet, row and column where there is one, and no traceback.
Nothing is sent anywhere: these commands never write to a catalogue.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SAMPLE
from openpyxl.packaging.custom import StringProperty

from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.cli import cli
from bcdc_bulk.export import export_workbook
from bcdc_bulk.workbook_write import PROPERTY_PREFIX, SNAPSHOT_SHEET, checksum

MINISTRY = "ministry-of-sample-services"
BRANCH = "sample-data-branch"


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    books = {"base": folder / "base.xlsx", "other_org": folder / "other.xlsx"}
    export_workbook(FileCatalogue(SAMPLE), books["base"], MINISTRY, include_suborgs=True)
    export_workbook(FileCatalogue(SAMPLE), books["other_org"], "sample-geospatial-unit")
    return books


def cols(ws: Any) -> dict[str, int]:
    return {c.value: c.column for c in ws[2] if c.value}


def first_row(ws: Any, field: str, predicate: Callable[[Any], bool]) -> int:
    col = cols(ws)[field]
    return next(r for r in range(3, ws.max_row + 1) if predicate(ws.cell(r, col).value))


def set_text(ws: Any, row: int, field: str, value: Any) -> None:
    cell = ws.cell(row, cols(ws)[field])
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def with_openpyxl(change: Callable[[Any], None]) -> Callable[[dict[str, Path], Path], None]:
    def build(books: dict[str, Path], out: Path) -> None:
        wb = openpyxl.load_workbook(books["base"])
        change(wb)
        wb.save(out)
    return build


def raw(data: bytes) -> Callable[[dict[str, Path], Path], None]:
    def build(books: dict[str, Path], out: Path) -> None:
        out.write_bytes(data)
    return build


def _ods(books: dict[str, Path], out: Path) -> None:
    """The export as LibreOffice saves it in its own format (then named .xlsx, as people do)."""
    import subprocess

    folder = out.parent / "ods"
    subprocess.run(["soffice", "--headless", "--convert-to", "ods", "--outdir", str(folder), str(books["base"])],
                   check=True, capture_output=True, timeout=180)
    out.write_bytes((folder / "base.ods").read_bytes())


def next_empty(ws: Any, key_field: str = "id") -> int:
    col = cols(ws).get(key_field, 1)
    row = ws.max_row
    while row > 2 and ws.cell(row, col).value in (None, ""):
        row -= 1
    return row + 1


def resign(wb: Any, change: Callable[[dict], None]) -> None:
    """Change the snapshot's provenance and sign it again, as an older bcdc-bulk would have."""
    ws = wb[SNAPSHOT_SHEET]
    for row in ws.iter_rows(min_row=1):
        if row[0].value == "meta":
            meta = json.loads(row[3].value)
            change(meta)
            row[3].value = json.dumps(meta, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    rows = [(str(r[0].value), str(r[1].value), int(r[2].value), str(r[3].value or ""))
            for r in ws.iter_rows(min_row=1) if r[0].value]
    props = wb.custom_doc_props
    props.props = [p for p in props.props if p.name != f"{PROPERTY_PREFIX}checksum"]
    props.append(StringProperty(name=f"{PROPERTY_PREFIX}checksum", value=checksum(rows)))


def _datasets(f: Callable[[Any], None]) -> Callable[[dict[str, Path], Path], None]:
    return with_openpyxl(lambda wb: f(wb["Datasets"]))


def _sheet(name: str, f: Callable[[Any], None]) -> Callable[[dict[str, Path], Path], None]:
    return with_openpyxl(lambda wb: f(wb[name]))


def _cut(books: dict[str, Path], out: Path) -> None:
    data = books["base"].read_bytes()
    out.write_bytes(data[: len(data) // 2])


def _no_snapshot_no_datasets(books: dict[str, Path], out: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "my own spreadsheet"
    wb.save(out)


def _csv(books: dict[str, Path], out: Path) -> None:
    out.write_text("id,name,title\n1,a,b\n", encoding="utf-8")


def _paste_other_org(books: dict[str, Path], out: Path) -> None:
    other = openpyxl.load_workbook(books["other_org"])["Datasets"]
    wb = openpyxl.load_workbook(books["base"])
    ws = wb["Datasets"]
    # a row copied from another organization's export, with an id not in this snapshot
    row = next_empty(ws)
    source_cols, target_cols = cols(other), cols(ws)
    for field, col in source_cols.items():
        if field in target_cols:
            ws.cell(row, target_cols[field]).value = other.cell(3, col).value
    ws.cell(row, target_cols["id"]).value = "00000000-0000-4000-8000-000000000000"
    wb.save(out)


def _delete_dataset_row_keep_contacts(wb: Any) -> None:
    ws = wb["Datasets"]
    name = ws.cell(3, cols(ws)["name"]).value
    ws.delete_rows(3)
    contacts = wb["Contacts"]
    row = first_row(contacts, "package_name", lambda v: v == name)
    set_text(contacts, row, "email", "changed@example.invalid")


def _unknown_resource(wb: Any) -> None:
    ws = wb["BCGW Details"]
    ws.cell(3, cols(ws)["resource_id"]).value = "ffffffff-0000-4000-8000-000000000000"
    set_text(ws, 3, "column_name", "CHANGED")


LONG_NOTE_PREDICATE = "…[CUT"


CASES: list[tuple[str, Callable[[dict[str, Path], Path], None], int, list[str]]] = [
    ("random-bytes", raw(b"\x00\x01 this is not a workbook at all" * 10), 1, ["is not an Excel workbook (.xlsx)"]),
    ("csv-renamed", _csv, 1, ["is not an Excel workbook (.xlsx); was it saved as CSV"]),
    ("password-protected", raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048), 1, ["password-protected"]),
    ("empty-file", raw(b""), 1, ["is empty (0 bytes)"]),
    ("cut-in-half", _cut, 1, ["cannot be read as an Excel workbook"]),
    ("someone-elses-spreadsheet", _no_snapshot_no_datasets, 1, ["was not exported by bcdc-bulk"]),
    ("datasets-sheet-deleted", with_openpyxl(lambda wb: wb.remove(wb["Datasets"])), 1,
     ["sheet 'Datasets': the 'Datasets' sheet is missing"]),
    ("datasets-sheet-renamed", with_openpyxl(lambda wb: setattr(wb["Datasets"], "title", "Data")), 1,
     ["the 'Datasets' sheet is missing"]),
    ("resources-sheet-deleted", with_openpyxl(lambda wb: wb.remove(wb["Resources"])), 1,
     ["the 'Resources' sheet is missing"]),
    ("contacts-sheet-renamed", with_openpyxl(lambda wb: setattr(wb["Contacts"], "title", "People")), 1,
     ["sheet 'Contacts': the 'Contacts' sheet is missing or was renamed (is 'People' the renamed 'Contacts'? "
      "give it back its name)", "the edits made there would be lost"]),
    ("contacts-sheet-deleted", with_openpyxl(lambda wb: wb.remove(wb["Contacts"])), 1,
     ["sheet 'Contacts': the 'Contacts' sheet is missing or was renamed;"]),
    ("saved-as-ods", _ods, 1, ["was saved as an OpenDocument spreadsheet (.ods). Your edits are still in it",
                               "'Excel 2007-365 (.xlsx)'"]),
    ("id-column-deleted", _datasets(lambda ws: ws.delete_cols(cols(ws)["id"])), 1,
     ["sheet 'Datasets', row 2: the column with field name 'id'"]),
    ("resource-dataset-column-deleted", _sheet("Resources", lambda ws: ws.delete_cols(cols(ws)["package_name"])), 1,
     ["sheet 'Resources', row 2: the column with field name 'package_name'"]),
    ("contacts-position-column-deleted", _sheet("Contacts", lambda ws: ws.delete_cols(cols(ws)["position"])), 1,
     ["sheet 'Contacts', row 2: the column with field name 'position'"]),
    ("header-rows-deleted", _datasets(lambda ws: ws.delete_rows(1, 2)), 1, ["sheet 'Datasets'"]),
    ("field-name-renamed", _datasets(lambda ws: setattr(ws.cell(2, cols(ws)["title"]), "value", "Title2")), 1,
     ["sheet 'Datasets', row 2, column B: the field name 'Title2'"]),
    ("field-name-duplicated", _datasets(lambda ws: setattr(ws.cell(2, cols(ws)["notes"]), "value", "title")), 1,
     ["sheet 'Datasets', row 2, column", "the field name 'title' appears twice"]),
    ("two-rows-one-id", _datasets(lambda ws: set_text(ws, 4, "id", ws.cell(3, cols(ws)["id"]).value)), 1,
     ["sheet 'Datasets', row 4, column AI: id", "is on rows 3 and 4"]),
    ("two-resource-rows-one-id", _sheet("Resources", lambda ws: setattr(
        ws.cell(4, cols(ws)["id"]), "value", ws.cell(3, cols(ws)["id"]).value)), 1,
     ["sheet 'Resources', row 4", "is on rows 3 and 4"]),
    ("id-not-in-snapshot", _datasets(lambda ws: set_text(ws, 3, "id", "11111111-2222-4333-8444-555555555555")),
     3, ["Datasets!AI3", "is not a record of this export"]),
    ("resource-id-not-in-snapshot", _sheet("Resources", lambda ws: setattr(
        ws.cell(3, cols(ws)["id"]), "value", "11111111-2222-4333-8444-555555555555")), 3,
     ["is not a resource of this export"]),
    ("row-from-another-organization", _paste_other_org, 3, ["is not a record of this export"]),
    ("snapshot-deleted", with_openpyxl(lambda wb: wb.remove(wb[SNAPSHOT_SHEET])), 1,
     ["the hidden snapshot sheet is missing"]),
    ("snapshot-cell-edited", _sheet(SNAPSHOT_SHEET, lambda ws: setattr(ws.cell(5, 4), "value", '{"id":"x"}')), 1,
     ["sheet '_snapshot': the hidden snapshot was changed or damaged"]),
    ("snapshot-row-deleted", _sheet(SNAPSHOT_SHEET, lambda ws: ws.delete_rows(6)), 1,
     ["the hidden snapshot was changed or damaged"]),
    ("snapshot-chunk-not-a-number", _sheet(SNAPSHOT_SHEET, lambda ws: setattr(ws.cell(4, 3), "value", "two")), 1,
     ["sheet '_snapshot', row 4: the snapshot was edited"]),
    ("checksum-removed", with_openpyxl(lambda wb: setattr(wb.custom_doc_props, "props", [
        p for p in wb.custom_doc_props.props if p.name != f"{PROPERTY_PREFIX}checksum"])), 1,
     ["the hidden snapshot was changed or damaged"]),
    ("older-layout-version", with_openpyxl(lambda wb: resign(wb, lambda m: m.update(layout_version=0))), 1,
     ["this workbook has layout version 0"]),
    ("merged-cells", _datasets(lambda ws: ws.merge_cells("F4:G4")), 1,
     ["sheet 'Datasets', row 4, column F: cells F4:G4 are merged"]),
    ("formula-in-title", _datasets(lambda ws: setattr(ws.cell(5, cols(ws)["title"]), "value", '=B5&" copy"')), 3,
     ["Datasets!B5", 'holds a formula (=B5&" copy")']),
    ("formula-in-resource-format", _sheet("Resources", lambda ws: setattr(ws.cell(6, cols(ws)["format"]), "value",
                                                                          "=LOWER(\"CSV\")")), 3,
     ["Resources!", "holds a formula"]),
    ("date-typed-into-text", _datasets(lambda ws: setattr(ws.cell(6, cols(ws)["purpose"]), "value",
                                                          __import__("datetime").datetime(2005, 3, 4))), 3,
     ["Datasets!P6", "Excel stored what was typed here as a date (read back as 2005-03-04)"]),
    ("number-into-choice", _datasets(lambda ws: setattr(ws.cell(7, cols(ws)["security_class"]), "value", 5)), 3,
     ["Datasets!H7", "Security Classification: '5' is not one of the choices: Public, Protected-A"]),
    ("40000-characters", lambda books, out: _xml_text(books, out, 8, "purpose", b"y" * 40_000), 3,
     ["Datasets!P8", "holds 40,000 characters"]),
    ("control-characters", lambda books, out: _xml_text(books, out, 3, "title", b"ABC_x0007_Title"), 3,
     ["Datasets!B3", "invisible control character (at character 4)"]),
    ("resource-for-missing-dataset", _sheet("Resources", lambda ws: _new_resource(ws, "no-such-dataset")), 3,
     ["Resources!", "no dataset with the URL name 'no-such-dataset'"]),
    ("resource-without-dataset-name", _sheet("Resources", lambda ws: _new_resource(ws, None)), 3,
     ["the dataset URL name is empty"]),
    ("contact-for-deleted-dataset", with_openpyxl(_delete_dataset_row_keep_contacts), 3,
     ["Contacts!", "was deleted from the Datasets sheet"]),
    ("contact-for-unknown-dataset", _sheet("Contacts", lambda ws: set_text(ws, 3, "package_name", "not-a-dataset")), 3,
     ["Contacts!", "no dataset with the URL name 'not-a-dataset'"]),
    ("details-for-unknown-resource", with_openpyxl(_unknown_resource), 3, ["has no resource"]),
    ("position-not-a-number", _sheet("Contacts", lambda ws: set_text(ws, 3, "position", "first")), 3,
     ["Contacts!", "the # column must be a whole number"]),
    ("position-twice", _sheet("Lifecycle Dates", lambda ws: _dup_position(ws)), 3, ["is used twice"]),
    ("resource-moved-to-other-dataset", _sheet("Resources", lambda ws: set_text(
        ws, 3, "package_name", ws.cell(40, cols(ws)["package_name"]).value)), 3,
     ["Resources!A3", "a resource cannot be moved to another dataset"]),
    ("id-cleared-duplicates-name", _datasets(lambda ws: setattr(ws.cell(3, cols(ws)["id"]), "value", None)), 3,
     ["Datasets!A", "is already in this workbook"]),
    ("cut-long-text-edited", _datasets(lambda ws: _edit_cut_note(ws)), 3,
     ["longer than an Excel cell holds", "cannot be written back from the workbook"]),
]


def _xml_text(books: dict[str, Path], out: Path, row: int, field: str, text: bytes) -> None:
    """Text openpyxl would refuse (control characters) or cut (over 32,767 characters),
    put into the sheet's XML directly, as another program could write it."""
    wb = openpyxl.load_workbook(books["base"])
    set_text(wb["Datasets"], row, field, "MARKER-TEXT-HERE")
    wb.save(out)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/") and item.filename.endswith(".xml"):
                data = data.replace(b"MARKER-TEXT-HERE", text)
            dst.writestr(item, data)
    shutil.move(tmp, out)


def _new_resource(ws: Any, dataset: str | None) -> None:
    row = next_empty(ws)
    set_text(ws, row, "package_name", dataset)
    set_text(ws, row, "name", "A new resource")
    set_text(ws, row, "format", "csv")


def _dup_position(ws: Any) -> None:
    name = ws.cell(3, cols(ws)["package_name"]).value
    row = next_empty(ws, "package_name")
    set_text(ws, row, "package_name", name)
    set_text(ws, row, "position", "1")
    set_text(ws, row, "type", "Modified")
    set_text(ws, row, "date", "2024-01-01")


def _edit_cut_note(ws: Any) -> None:
    col = cols(ws)["notes"]
    row = first_row(ws, "notes", lambda v: isinstance(v, str) and LONG_NOTE_PREDICATE in v)
    ws.cell(row, col).value = ws.cell(row, col).value.replace("…[CUT", "[edited] …[CUT")


def test_the_corpus_has_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case_id, build, code, expected", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_bad_workbook_gives_a_clear_message(exports, tmp_path, case_id, build, code, expected, command):
    path = tmp_path / f"{case_id}.xlsx"
    build(exports, path)
    before = path.read_bytes()
    result = CliRunner().invoke(cli, [command, str(path)])
    output = result.output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, output
    for text in expected:
        assert text in output, output
    if code == 1:
        assert output.startswith("Error: ") and output.count("\n") == 1, output
        assert output.rstrip().endswith("Nothing was sent to the catalogue.")
    elif command == "plan":
        assert "Not sent, because of errors" in output and "Nothing was sent yet." in output
    assert path.read_bytes() == before  # the user's file is never touched
