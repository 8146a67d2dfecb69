"""Issue 4 (export): every field round-trips; edits are seen; Excel-hostile values stay text."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.export import export_workbook
from bcdc_bulk.planning import build_plan
from bcdc_bulk.tables import MAX_CELL, TRUNCATION_MARK, display_text, load_layout, utf16_len

MINISTRY = "ministry-of-sample-services"


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "sample.xlsx"
    export_workbook(FileCatalogue(SAMPLE), path, MINISTRY, include_suborgs=True)
    return path


def _edit(src: Path, dst: Path, sheet: str, field: str, row: int, value) -> None:
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    col = next(c.column for c in ws[2] if c.value == field)
    ws.cell(row=row, column=col).value = value
    wb.save(dst)


def test_every_package_and_field_is_exported(sample_export):
    packages = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    book = bb.read(sample_export)
    assert set(book.snapshot) == {p["id"] for p in packages}
    datasets = book.sheets["Datasets"]
    hidden = load_layout().hidden
    top_level = {k for p in packages for k in p} - {"resources", "contacts", "more_info", "dates"}
    assert top_level - hidden["dataset"] <= set(datasets.columns), top_level - set(datasets.columns)
    assert not hidden["dataset"] & set(datasets.columns)  # kept whole in the snapshot (checked below) instead
    resources = book.sheets["Resources"]
    res_fields = {k for p in packages for r in p["resources"] for k in r}
    res_fields -= {"temporal_extent", "details", "geographic_extent", "preview_info"}
    assert res_fields - hidden["resource"] <= set(resources.columns), res_fields - set(resources.columns)
    assert not hidden["resource"] & set(resources.columns)
    assert len(resources.rows) == sum(len(p["resources"]) for p in packages)
    assert book.snapshot == {p["id"]: p for p in packages}


def test_unedited_export_has_no_changes(sample_export):
    plan = bb.check(sample_export).plan
    assert plan.records == [] and plan.problems == [] and plan.ignored == []


def test_an_edit_is_found_exactly(sample_export, tmp_path):
    edited = tmp_path / "edited.xlsx"
    _edit(sample_export, edited, "Datasets", "purpose", 5, "A new purpose")
    [record] = bb.check(edited).plan.records
    assert len(record.changes) == 1
    change = record.changes[0]
    assert (change.cell.sheet, change.cell.row, change.field, change.new) == ("Datasets", 5, "purpose", "A new purpose")


def test_read_only_column_edits_are_ignored(sample_export, tmp_path):
    edited = tmp_path / "edited.xlsx"
    _edit(sample_export, edited, "Datasets", "metadata_modified", 3, "2030-01-01T00:00:00")
    assert bb.check(edited).plan.records == []


def test_formula_like_text_stays_text(sample_export):
    wb = openpyxl.load_workbook(sample_export)
    ws = wb["Datasets"]
    title_col = next(c.column for c in ws[2] if c.value == "title")
    titles = [ws.cell(row=r, column=title_col) for r in range(3, ws.max_row + 1)]
    formula = [c for c in titles if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert formula and all(c.data_type == "s" for c in formula)
    assert all(c.number_format == "@" for c in titles if c.value)


def test_dropdowns_on_every_choice_column(sample_export):
    wb = openpyxl.load_workbook(sample_export)
    expected = {
        "Datasets": {"owner_org", "publish_state", "license_id", "security_class", "view_audience",
                     "download_audience", "metadata_visibility", "resource_status"},
        "Resources": {"bcdc_type", "format", "resource_update_cycle", "resource_storage_location",
                      "spatial_datatype", "projection_name", "iso_topic_category", "resource_type",
                      "resource_access_method"},
        "Contacts": {"org", "role", "displayed"},
        "Lifecycle Dates": {"type"},
    }
    for sheet, fields in expected.items():
        ws = wb[sheet]
        letters = {c.column_letter: c.value for c in ws[2]}
        covered = set()
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list" and dv.formula1.startswith("list_")
            for rng in dv.sqref.ranges:
                covered.add(letters[rng.coord.split(":")[0].rstrip("0123456789")])
        assert fields <= covered, (sheet, fields - covered)
    assert wb["Lists"].sheet_state == "hidden" and wb["_snapshot"].sheet_state == "hidden"


def test_long_text_is_cut_marked_and_kept_whole(sample_export):
    packages = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    long_pkg = next(p for p in packages if len(p["notes"]) > MAX_CELL)
    book = bb.read(sample_export)
    assert book.snapshot[long_pkg["id"]]["notes"] == long_pkg["notes"]
    row = next(v for _, v in book.sheets["Datasets"].rows if v["id"] == long_pkg["id"])
    assert row["notes"].endswith(TRUNCATION_MARK.strip()) or row["notes"].endswith(TRUNCATION_MARK)
    assert utf16_len(row["notes"]) <= MAX_CELL


def test_display_text_handles_xml_illegal_and_non_bmp():
    assert display_text("a\x01b\ufffe") == "a\ufffdb\ufffd"
    text = "🐟" * 20000  # 40,000 UTF-16 units
    shown = display_text(text)
    assert utf16_len(shown) <= MAX_CELL and shown.endswith(TRUNCATION_MARK)


def test_snapshot_tampering_is_refused(sample_export, tmp_path):
    edited = tmp_path / "tampered.xlsx"
    wb = openpyxl.load_workbook(sample_export)
    wb["_snapshot"]["D5"] = wb["_snapshot"]["D5"].value.replace("a", "b", 1)
    wb.save(edited)
    with pytest.raises(WorkbookError, match="snapshot was changed"):
        bb.read(edited)


def test_duplicate_ids_are_refused(sample_export, tmp_path):
    wb = openpyxl.load_workbook(sample_export)
    ws = wb["Datasets"]
    ws["AI4"] = ws["AI3"].value
    assert ws["AI2"].value == "id"
    edited = tmp_path / "dup.xlsx"
    wb.save(edited)
    with pytest.raises(WorkbookError, match=r"sheet 'Datasets', row 4, column AI: id .* is on rows 3 and 4"):
        bb.read(edited)


def test_moved_columns_still_read(sample_export, tmp_path):
    wb = openpyxl.load_workbook(sample_export)
    ws = wb["Datasets"]
    ws.move_range("B1:B200", cols=ws.max_column)  # move 'name' to the end
    edited = tmp_path / "moved.xlsx"
    wb.save(edited)
    assert bb.check(edited).plan.records == []


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_save_round_trip(sample_export, tmp_path):
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(sample_export)],
                   check=True, capture_output=True, timeout=180)
    plan = bb.check(out / sample_export.name).plan
    assert plan.records == [] and plan.problems == [] and plan.ignored == []


def test_sandbox_export_round_trip_and_call_count(sandbox, tmp_path):
    catalogue = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_ADMIN_TOKEN"])
    path = tmp_path / "live.xlsx"
    result = export_workbook(catalogue, path, MINISTRY, include_suborgs=True)
    assert result.packages >= 64
    assert catalogue.calls.count("package_search") == 1
    assert "package_show" not in catalogue.calls
    # the constant few: schema, licences, who am I; organizations come 25 a page (CKAN's cap),
    # listed once lightly and, for --include-suborgs, once with their parents
    pages = math.ceil(len(catalogue.organizations()) / 25)
    assert catalogue.calls.count("organization_list") <= 2 * pages + 2, catalogue.calls
    others = [c for c in catalogue.calls if c not in ("package_search", "organization_list")]
    # the site's dataset types (which schema), the schema, the licences, who you are
    assert len(others) <= 4, catalogue.calls
    book = bb.read(path)
    assert build_plan(book).records == []
    org_ids = [org.id for org in catalogue.organizations() if org.name in book.provenance["organizations"]]
    live = {p["id"]: p for p in catalogue.packages_of(org_ids)}
    assert book.snapshot == live


def test_shared_records_round_trip(shared_records, tmp_path):
    packages = []
    for path in sorted(shared_records.rglob("*.json")):
        data = json.loads(path.read_text())
        data = data.get("result", data) if isinstance(data, dict) else data
        if isinstance(data, dict) and "resources" in data and "id" in data:
            data.setdefault("owner_org", "legacy-org")
            data.setdefault("organization", {"id": data["owner_org"], "name": "legacy-org", "title": "Legacy"})
            if not isinstance(data.get("organization"), dict):
                data["organization"] = {"id": data["owner_org"], "name": "legacy-org", "title": "Legacy"}
            packages.append(data)
    packages = list({p["id"]: p for p in packages}.values())
    assert packages
    catalogue_file = tmp_path / "shared.jsonl"
    catalogue_file.write_text("".join(json.dumps(p) + "\n" for p in packages))
    catalogue = FileCatalogue(catalogue_file)
    out = tmp_path / "shared.xlsx"
    for org in catalogue.organizations():
        export_workbook(catalogue, out, org.name)
        book = bb.read(out)
        assert build_plan(book).records == [], org.name
        assert all(book.snapshot[p["id"]] == p for p in packages if p["owner_org"] == org.id)


def test_numbers_and_dates_excel_made_of_untouched_cells_are_not_edits(sample_export, tmp_path):
    """A cell Excel turned into a number or a date (after a format change, a paste, a CSV
    round) that still means what was exported reads back unchanged."""
    import datetime as dt

    wb = openpyxl.load_workbook(sample_export)
    preview = wb["Preview Info"]
    cols = {c.value: c.column for c in preview[2]}
    row = next(r for r in range(3, preview.max_row + 1) if preview.cell(r, cols["preview_zoom_level"]).value == "5")
    preview.cell(row, cols["preview_zoom_level"]).value = 5  # a number now
    preview.cell(row, cols["preview_latitude"]).value = float(preview.cell(row, cols["preview_latitude"]).value)
    datasets = wb["Datasets"]
    dcols = {c.value: c.column for c in datasets[2]}
    drow = next(r for r in range(3, datasets.max_row + 1) if datasets.cell(r, dcols["record_create_date"]).value)
    text = datasets.cell(drow, dcols["record_create_date"]).value
    datasets.cell(drow, dcols["record_create_date"]).value = dt.datetime.fromisoformat(text)  # a date now
    path = tmp_path / "excel-typed.xlsx"
    wb.save(path)
    book = bb.read(path)
    assert isinstance(dict(book.sheets["Datasets"].rows)[drow]["record_create_date"], (dt.date, dt.datetime))
    assert build_plan(book).records == []
