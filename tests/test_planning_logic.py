"""Issue 13: planning in two parts, each tested alone with in-memory sheets (no file, no server):
the cell diff (which cells changed) and the after-state (what the records become)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bcdc_bulk.diffing import CellDiff
from bcdc_bulk.planning import build_plan
from bcdc_bulk.problems import WARNING, Code
from bcdc_bulk.schema import shipped_schema
from bcdc_bulk.tables import PARENT_NAME, TRUNCATION_MARK, Renderer, load_layout
from bcdc_bulk.workbook_read import ReadWorkbook, SheetRows

SCHEMA = shipped_schema()
ORGS = {"org-1": "bc-wildfire", "org-2": "geobc"}
LICENCES = {"2": "Open Government Licence - British Columbia", "22": "Access Only"}
PKG = {"id": "p1", "name": "fire-perimeters", "title": "Fire perimeters", "owner_org": "org-1", "license_id": "2",
       "notes": "About fires", "state": "active", "security_class": "PUBLIC",
       "contacts": [{"name": "Ann", "email": "ann@gov.bc.ca", "org": "org-1", "role": "pointOfContact",
                     "displayed": ["displayed"]}],
       "resources": [{"id": "r1", "name": "Data", "format": "csv", "url": "https://x/y.csv"}]}
RENDERER = Renderer(SCHEMA, load_layout(), ORGS, LICENCES)
SPECS = {s.kind if s.kind != "group" else s.group: s for s in RENDERER.sheet_specs([PKG])}


def sheet_of(key: str, rows: list[dict[str, Any]], formulas: dict[int, dict[str, str]] | None = None) -> SheetRows:
    spec = SPECS[key]
    return SheetRows(spec.name, {c.field: i for i, c in enumerate(spec.columns)},
                     [(3 + i, row) for i, row in enumerate(rows)], formulas or {})


def dataset_row(**edits: Any) -> dict[str, Any]:
    return {**RENDERER.dataset_row(PKG), **edits}


def diff_of(key: str = "dataset") -> CellDiff:
    spec = SPECS[key]
    fields = {f.name: f for f in (SCHEMA.dataset_fields if key == "dataset" else SCHEMA.resource_fields)}
    return CellDiff(spec, sheet_of(key, []), fields)


# --- the cell diff, alone ------------------------------------------------------------------

def test_an_untouched_row_changes_nothing_and_an_edit_is_the_cell_text_as_typed():
    diff = diff_of()
    exported = RENDERER.dataset_row(PKG)
    assert diff.row(3, dataset_row(), exported).changed == {}
    assert diff.row(3, dataset_row(title="Fire perimeters  "), exported).changed == {"title": "Fire perimeters  "}


def test_cells_that_cannot_be_taken_are_issues_not_changes():
    spec = SPECS["dataset"]
    fields = {f.name: f for f in SCHEMA.dataset_fields}
    title_letter = sheet_of("dataset", []).letter("title")
    diff = CellDiff(spec, sheet_of("dataset", [], {3: {title_letter: "=UPPER(B3)"}}), fields)
    result = diff.row(3, dataset_row(title="FIRE PERIMETERS", notes="a\x07b"), RENDERER.dataset_row(PKG))
    assert result.changed == {}
    assert {(i.field, i.code) for i in result.issues} == {("title", Code.FORMULA), ("notes", Code.CONTROL_CHARACTER)}
    # each issue is on its row and keeps what was typed, so the message can quote it
    assert {(i.row, i.field, i.value) for i in result.issues} == {(3, "title", "=UPPER(B3)"), (3, "notes", "a\x07b")}


def test_a_number_the_spreadsheet_made_is_sent_as_text_with_a_warning():
    result = diff_of().row(3, dataset_row(notes=1e5), RENDERER.dataset_row(PKG))
    assert result.changed == {"notes": "100000"}
    assert [(i.code, i.severity) for i in result.issues] == [(Code.TYPED_NUMBER, WARNING)]


def test_a_cut_value_that_was_edited_is_refused_and_grey_cells_are_flagged():
    exported = dict(RENDERER.dataset_row(PKG), notes="x" * 40_000)
    shown = diff_of().row(3, dataset_row(notes="x" * 100 + TRUNCATION_MARK), exported)
    assert [i.code for i in shown.issues] == [Code.CUT_VALUE_EDITED] and shown.changed == {}
    read_only = [c.field for c in SPECS["dataset"].columns if c.read_only and not c.key][0]
    assert diff_of().row(3, dataset_row(**{read_only: "edited"}), RENDERER.dataset_row(PKG)).read_only_edited


def test_a_new_row_takes_every_filled_cell():
    result = diff_of().new_row(9, {"name": "new-one", "title": "New", "notes": ""})
    assert result.changed == {"name": "new-one", "title": "New"}


# --- the after-state, alone ----------------------------------------------------------------

def book_of(sheets: dict[str, SheetRows]) -> ReadWorkbook:
    return ReadWorkbook(Path("in-memory.xlsx"), {}, SCHEMA.raw,
                        {"organizations": ORGS, "licences": LICENCES}, {PKG["id"]: PKG}, sheets)


def test_edited_cells_become_the_records_after_state_in_catalogue_values():
    contact = {**RENDERER.group_rows(PKG, SPECS["contacts"])[0], "org": "geobc"}
    plan = build_plan(book_of({
        SPECS["dataset"].name: sheet_of("dataset", [dataset_row(license_id="Access Only",
                                                                 security_class="Protected-A")]),
        SPECS["contacts"].name: sheet_of("contacts", [contact]),
        SPECS["resource"].name: sheet_of("resource", RENDERER.resource_rows(PKG)),
    }))
    assert plan.problems == []
    [rec] = plan.records
    assert (rec.after["license_id"], rec.after["security_class"]) == ("22", "PROTECTED A")
    assert rec.after["contacts"][0]["org"] == "org-2"
    assert rec.before["license_id"] == "2" and PKG["license_id"] == "2"  # the snapshot is not touched
    assert sorted(c.label for c in rec.changes) == ["contacts", "license_id", "security_class"]


def test_rows_of_a_deleted_dataset_are_told_whichever_sheet_comes_first():
    edited = [dict(r, format="xlsx") for r in RENDERER.resource_rows(PKG)]
    sheets = {SPECS["resource"].name: sheet_of("resource", edited),
              SPECS["dataset"].name: sheet_of("dataset", [])}  # the dataset row deleted
    plan = build_plan(book_of(sheets))
    assert plan.records == []
    assert [p.code for p in plan.problems] == [Code.DELETED_PACKAGE]
    assert plan.problems[0].column == sheet_of("resource", []).letter(PARENT_NAME)
    assert any("deleted from the workbook" in n.message for n in plan.ignored)
    # the deleted dataset's resource rows are not planned as changes of some other record
    assert all(p.sheet == SPECS["resource"].name for p in plan.problems)
