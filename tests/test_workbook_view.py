"""Issue 10: the workbook as people see it. Every test reads back what a person reads in
Excel or LibreOffice (labels, help comments, dropdown lists, frozen panes, Instructions),
from the files the tool writes and from the same files after LibreOffice saved them."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE, columns

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.export import export_workbook
from bcdc_bulk.inventory import build_inventory
from bcdc_bulk.planning import build_plan
from bcdc_bulk.schema import shipped_licenses, shipped_schema
from bcdc_bulk.tables import load_layout

MINISTRY = "ministry-of-sample-services"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RECORD_SHEETS = [s["name"] for s in load_layout().sheets]
NAMING_FIELDS = {"name", "title", "package_name", "resource_name", "position"}  # what may be frozen


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    """An export, a template and an inventory of the sample catalogue."""
    folder = tmp_path_factory.mktemp("view")
    catalogue = FileCatalogue(SAMPLE)
    out = {"export": folder / "export.xlsx", "template": folder / "template.xlsx",
           "inventory": folder / "inventory.xlsx"}
    export_workbook(catalogue, out["export"], MINISTRY, include_suborgs=True)
    export_workbook(catalogue, out["template"], None)
    build_inventory(catalogue, out["inventory"])
    return out


@pytest.fixture(scope="module")
def lo_export(books, tmp_path_factory) -> Path:
    """The export after LibreOffice opened and saved it (what LibreOffice itself read)."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    out = tmp_path_factory.mktemp("lo")
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(books["export"])],
                   check=True, capture_output=True, timeout=180)
    return out / books["export"].name


def schema_fields(sheet: dict) -> dict:
    """The schema's fields (name -> Field) a layout sheet shows."""
    schema = shipped_schema()
    if sheet["kind"] == "dataset":
        return {f.name: f for f in schema.dataset_fields}
    if sheet["kind"] == "resource":
        return {f.name: f for f in schema.resource_fields}
    owner = schema.dataset_field if sheet["owner"] == "dataset" else schema.resource_field
    return {f.name: f for f in owner(sheet["group"]).subfields}


def dropdowns(wb, ws) -> dict[str, list[str]]:
    """Field name -> the entries its dropdown offers, resolved through the defined name to the Lists sheet."""
    fields = {c.column_letter: c.value for c in ws[2]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list":
            continue
        name = dv.formula1.lstrip("=")
        target = wb.defined_names[name].attr_text if name in wb.defined_names else name
        sheet, ref = target.split("!")
        values = [c.value for row in wb[sheet.strip("'")][ref.replace("$", "")] for c in row]
        for rng in dv.sqref.ranges:
            out[fields[rng.coord.split(":")[0].rstrip("0123456789")]] = [v for v in values if v is not None]
    return out


@pytest.mark.parametrize("kind", ["export", "template", "inventory"])
def test_every_column_has_its_label_and_help(books, kind):
    wb = openpyxl.load_workbook(books[kind])
    for sheet in load_layout().sheets:
        ws = wb[sheet["name"]]
        fields = schema_fields(sheet)
        overrides = {c["field"] for c in sheet.get("columns", []) if c.get("label")}
        labels, names = [c.value for c in ws[1]], [c.value for c in ws[2]]
        assert len(labels) == len(names) > 2
        for c, (label, name) in enumerate(zip(labels, names, strict=True), 1):
            assert label and name and label != name, (sheet["name"], c, label, name)
            fld = fields.get(name)
            if fld is not None and fld.label and name not in overrides:
                assert label.rstrip(" *") == fld.label, (sheet["name"], name, label)
            if fld is not None and fld.required:
                assert label.endswith(" *"), (sheet["name"], name, label)
            comment = ws.cell(1, c).comment
            if fld is not None and fld.help_text:
                assert comment is not None and fld.help_text in comment.text, (sheet["name"], name)
        if sheet["kind"] != "group":
            assert ws.cell(1, names.index("id") + 1).comment is not None


def test_labels_are_the_forms(books):
    """Spot checks, as a person reads them."""
    ws = openpyxl.load_workbook(books["export"])["Datasets"]
    labels = {c.value: ws.cell(1, c.column).value for c in ws[2]}
    assert labels["security_class"] == "Security Classification *"
    assert labels["name"] == "URL name *" and labels["title"] == "Title *" and labels["tags"] == "Keywords *"
    assert labels["purpose"] == "Purpose" and labels["id"] == "ID"
    assert "classification of information" in ws.cell(1, list(labels).index("security_class") + 1).comment.text


@pytest.mark.parametrize("kind", ["export", "template"])
def test_each_dropdown_holds_every_choice_in_the_schemas_order(books, kind):
    wb = openpyxl.load_workbook(books[kind])
    licences = [f"{x['id']} - {x['title']}" for x in shipped_licenses()]
    seen = 0
    for sheet in load_layout().sheets:
        ws = wb[sheet["name"]]
        lists = dropdowns(wb, ws)
        for name, fld in schema_fields(sheet).items():
            if name not in lists:
                continue
            seen += 1
            if fld.choices and not (sheet.get("group") == "contacts" and name == "displayed"):
                assert lists[name] == [c.label for c in fld.choices], (sheet["name"], name)
        if sheet["kind"] == "dataset":
            assert lists["license_id"] == licences
            assert "2 - Open Government Licence - British Columbia" in lists["license_id"]
            assert lists["security_class"] == ["Public", "Protected-A", "Protected-B", "Protected-C"]
    assert seen >= 21


def test_choice_cells_say_what_to_pick_and_never_refuse_a_typed_code(books):
    wb = openpyxl.load_workbook(books["export"])
    ws = wb["Datasets"]
    fields = {c.column_letter: c.value for c in ws[2]}
    for dv in ws.data_validations.dataValidation:
        field = fields[str(dv.sqref).split(":")[0].rstrip("0123456789")]
        expected = "Pick 'remove' to remove this row's record" if field == "remove" else "Pick one from the list"
        assert dv.showInputMessage and expected in dv.prompt, field
        assert not dv.showErrorMessage, field  # 'PROTECTED A' typed by hand is accepted


def test_the_cells_show_labels_and_untouched_export_plans_nothing(books):
    wb = openpyxl.load_workbook(books["export"])
    ws = wb["Datasets"]
    col = columns(ws)
    shown = {ws.cell(r, col["security_class"]).value for r in range(3, ws.max_row + 1)}
    assert "Public" in shown and "PUBLIC" not in shown
    book = bb.read(books["export"])
    assert build_plan(book).records == []


@pytest.mark.parametrize("kind", ["export", "template", "inventory"])
def test_no_id_is_frozen_and_names_lead(books, kind):
    wb = openpyxl.load_workbook(books[kind])
    for name in RECORD_SHEETS:
        ws = wb[name]
        frozen = openpyxl.utils.cell.coordinate_from_string(ws.freeze_panes)
        columns = openpyxl.utils.column_index_from_string(frozen[0]) - 1
        fields = [c.value for c in ws[2]]
        assert frozen[1] == 3 and 1 <= columns <= 3, (name, ws.freeze_panes)
        assert set(fields[:columns]) <= NAMING_FIELDS, (name, fields[:columns])
        for r in range(3, min(ws.max_row, 40) + 1):
            for c in range(1, columns + 1):
                assert not UUID.match(str(ws.cell(r, c).value or "")), (name, r, c)
        assert fields[-1] in ("id", "resource_id", "position", "url", "date", "link_to_imap", "west_bound_longitude",
                              "column_comments", "end_date", "displayed") or name not in ("Datasets", "Resources")
    assert [c.value for c in wb["Datasets"][2]][:2] == ["name", "title"]
    assert [c.value for c in wb["Datasets"][2]][-1] == "id"
    assert [c.value for c in wb["Resources"][2]][-1] == "id"


def test_every_record_sheet_has_a_remove_column_that_says_what_it_does(books):
    wb = openpyxl.load_workbook(books["export"])
    for name in RECORD_SHEETS:
        ws = wb[name]
        col = next(c.column for c in ws[2] if c.value == "remove")
        assert ws.cell(1, col).value == "Remove?"
        assert "Deleting the row itself removes nothing" in ws.cell(1, col).comment.text
        assert dropdowns(wb, ws)["remove"] == ["remove"]
        assert all(ws.cell(r, col).value is None for r in range(3, ws.max_row + 1))


def test_no_second_copies_and_nothing_to_unprotect(books):
    wb = openpyxl.load_workbook(books["export"])
    datasets = {c.value for c in wb["Datasets"][2]}
    assert not datasets & {"tag_string", "contacts", "dates", "more_info", "organization", "license_title",
                           "private", "type", "groups", "extras"}
    assert {c.value for c in wb["Contacts"][2]} == {"package_name", "position", "name", "email", "org", "role",
                                                      "displayed", "remove"}
    for name in RECORD_SHEETS:
        assert not wb[name].protection.sheet, name  # sort, filter, delete and insert rows as is


def test_instructions_speak_to_each_purpose(books):
    texts = {}
    for kind, path in books.items():
        ws = openpyxl.load_workbook(path)["Instructions"]
        texts[kind] = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
        for row in ws.iter_rows(min_row=3):
            value = row[1].value
            if value and len(value) > 90:  # long text: its row is high enough to read it whole
                assert ws.row_dimensions[row[1].row].height >= 15 * (len(value) // 90 + 1)
    assert "Catalogue records to edit" in texts["export"]
    assert "An empty workbook" in texts["template"] and "Catalogue records to edit" not in texts["template"]
    assert "An inventory of catalogue records" in texts["inventory"] and "Add a record" not in texts["inventory"]


def test_libreoffice_reads_the_labels_comments_and_lists(books, lo_export):
    """The same file after LibreOffice saved it: what LibreOffice showed the user."""
    ours, theirs = openpyxl.load_workbook(books["export"]), openpyxl.load_workbook(lo_export)
    for name in RECORD_SHEETS:
        assert [c.value for c in theirs[name][1]] == [c.value for c in ours[name][1]], name
        ours_comments = [c.comment.text if c.comment else None for c in ours[name][1]]
        theirs_comments = [c.comment.text if c.comment else None for c in theirs[name][1]]
        assert [t is not None for t in theirs_comments] == [o is not None for o in ours_comments], name
        assert dropdowns(theirs, theirs[name]) == dropdowns(ours, ours[name]), name
    assert bb.check(lo_export).plan.records == []


def test_shared_records_through_libreoffice_plan_nothing(shared_records, tmp_path):
    """Every era of real records: exported, saved by LibreOffice, read back: no changes."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    packages = {}
    for path in sorted(shared_records.rglob("*.json")):
        data = json.loads(path.read_text())
        data = data.get("result", data) if isinstance(data, dict) else data
        if isinstance(data, dict) and "resources" in data and "id" in data:
            data.setdefault("owner_org", "legacy-org")
            if not isinstance(data.get("organization"), dict):
                data["organization"] = {"id": data["owner_org"], "name": "legacy-org", "title": "Legacy"}
            packages[data["id"]] = data
    catalogue_file = tmp_path / "shared.jsonl"
    catalogue_file.write_text("".join(json.dumps(p) + "\n" for p in packages.values()))
    catalogue = FileCatalogue(catalogue_file)
    exported = []
    for i, org in enumerate(catalogue.organizations()):
        exported.append(tmp_path / f"org{i}.xlsx")
        export_workbook(catalogue, exported[-1], org.name)
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), *map(str, exported)],
                   check=True, capture_output=True, timeout=600)
    for path in exported:
        plan = bb.check(out / path.name).plan
        assert plan.records == [] and plan.problems == [], path.name
