"""Issue 18: an undo puts back to the character what a run replaced, and invisible differences are said.

Values that hold Windows and old Mac line endings, spaces at the ends, tabs, non-breaking spaces,
characters outside the BMP, and a value longer than a cell holds: edited, applied, the run's undo
applied, and the catalogue's record is the original byte for byte; the export then plans nothing.
Run on the in-memory catalogue and on the sandbox's CKAN alike.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
from conftest import NEW_RESOURCE, columns, export_open, put_row
from test_catalogue_contract import SETTINGS, make_world  # noqa: F401  (the fixture)

import bcdc_bulk as bb

NBSP = "\u00a0"
ODD = {  # field -> a value a cell cannot carry exactly, or only just
    "notes": "Line one\r\nLine two\r\n\r\n  indented\tand tabbed 😀 𝔘nicode\r\n",
    "purpose": "Old Mac\rline endings" + NBSP + "with a non-breaking space ",
    "lineage_statement": " leading and trailing spaces\t ",
    "data_quality": "long " + "x" * 40_000,  # longer than a cell holds: the workbook shows it cut
}
EDITS = {"notes": "Plain notes", "purpose": "Plain purpose", "lineage_statement": "Plain lineage"}
CONTACT_NAME = " Alex" + NBSP + "Sample\r\n"
LINK_TEXT = "Program\r\nline two"
REPORT_TEXT = "Report\r\n\ttabbed 𝔘"


def _plant(world: Any, pid: str) -> dict[str, Any]:
    """The odd values stored in the record; the record as it is then."""
    pkg = world.show(pid)
    for field, value in ODD.items():
        world.edit_as_someone_else(pid, field, value)
    contacts = copy.deepcopy(pkg["contacts"])
    contacts[0]["name"] = CONTACT_NAME
    world.edit_as_someone_else(pid, "contacts", contacts)
    links = copy.deepcopy(pkg["more_info"])
    links[0]["description"] = LINK_TEXT
    world.edit_as_someone_else(pid, "more_info", links)
    resources = copy.deepcopy(world.show(pid)["resources"])
    resources[1]["description"] = REPORT_TEXT
    world.edit_as_someone_else(pid, "resources", resources)
    return world.show(pid)


def _set(ws: Any, key_field: str, key: str, field: str, value: Any) -> None:
    cols = columns(ws)
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, cols[key_field]).value == key)
    ws.cell(row, cols[field]).value = value


def _edit(export: Path, out: Path, pkg: dict[str, Any]) -> Path:
    wb = openpyxl.load_workbook(export)
    for field, value in EDITS.items():
        _set(wb["Datasets"], "id", pkg["id"], field, value)
    _set(wb["Contacts"], "package_name", pkg["name"], "name", "Jordan Plain")
    _set(wb["Related Links"], "package_name", pkg["name"], "description", "Plain link")
    _set(wb["Resources"], "id", pkg["resources"][1]["id"], "description", "Plain report")
    wb.save(out)
    return out


def _without_clock(pkg: dict[str, Any]) -> dict[str, Any]:
    pkg = copy.deepcopy(pkg)
    for holder in [pkg] + list(pkg.get("resources") or []):
        for key in ("metadata_modified", "revision_id", "position"):
            holder.pop(key, None)
    return pkg


def test_an_undo_puts_back_every_invisible_character(make_world, tmp_path):  # noqa: F811
    world = make_world(1)
    pid = world.packages[0]["id"]
    original = _plant(world, pid)
    assert original["notes"] == ODD["notes"] and original["contacts"][0]["name"] == CONTACT_NAME
    export = tmp_path / "org.xlsx"
    bb.export(world.catalogue, export, world.org)
    edited = _edit(export, tmp_path / "edited.xlsx", original)

    result = bb.apply(edited, world.catalogue, SETTINGS)
    assert {r.status for r in result.rows} == {"applied"}, [(r.sheet, r.message) for r in result.rows]
    assert world.show(pid)["notes"] == "Plain notes"

    undone = bb.apply(result.undo, world.catalogue, SETTINGS)
    assert {r.status for r in undone.rows} == {"applied"}, [(r.sheet, r.message) for r in undone.rows]
    after = world.show(pid)
    for field, value in ODD.items():
        assert after[field] == value, field  # byte for byte: \r\n, \r, spaces, tabs, NBSP, 𝔘, 40,000 characters
    assert after["contacts"][0]["name"] == CONTACT_NAME
    assert after["more_info"][0]["description"] == LINK_TEXT
    assert after["resources"][1]["description"] == REPORT_TEXT
    assert _without_clock(after) == _without_clock(original)

    again = bb.check(export, world.catalogue)  # the export, checked again: nothing to send, no conflict
    assert again.calls() == [] and not again.problems
    rerun = bb.check(edited, world.catalogue)  # the edits are pending again, as they were before the run
    assert len(rerun.calls()) == 1 and not [p for p in rerun.problems if p.severity == "error"]


def test_a_difference_only_in_line_endings_is_said_in_words(make_world, tmp_path):  # noqa: F811
    world = make_world(1)
    pkg = world.packages[0]
    world.edit_as_someone_else(pkg["id"], "notes", "Line one\nLine two")
    export = tmp_path / "org.xlsx"
    bb.export(world.catalogue, export, world.org)
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(export)
    _set(wb["Datasets"], "id", pkg["id"], "notes", "Mine")
    wb.save(edited)
    world.edit_as_someone_else(pkg["id"], "notes", "Line one\r\nLine two")  # someone saved it from Windows
    result = bb.apply(edited, world.catalogue, SETTINGS)
    row = result.rows[0]
    assert row.status == "conflict"
    assert "they differ only in line endings (Windows \\r\\n, old Mac \\r or Unix \\n)" in row.message
    assert world.show(pkg["id"])["notes"] == "Line one\r\nLine two"


def test_an_undo_removes_the_resource_a_run_added_and_puts_back_one_it_removed(make_world, tmp_path):  # noqa: F811
    world = make_world(1)
    pkg = world.packages[0]
    export = tmp_path / "org.xlsx"
    wb = export_open(world, export)
    _set(wb["Resources"], "id", pkg["resources"][1]["id"], "remove", "remove")
    put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=pkg["name"], name="Added", url="https://example.invalid/a"))
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    result = bb.apply(edited, world.catalogue, SETTINGS)
    assert sorted(str(r.status) for r in result.rows) == ["applied", "removed"], [r.message for r in result.rows]
    added = next(r for r in world.show(pkg["id"])["resources"] if r["name"] == "Added")
    assert next(r for r in result.rows if r.status == "applied").message == \
        f"added as a new resource with id {added['id']}"

    book = openpyxl.load_workbook(result.undo)  # what a person reads in the undo workbook
    said = " ".join(str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value)
    assert "Resources and entries the run added are listed with 'remove' in their Remove? column" in said
    sheet = book["Resources"]
    cols = {c.value: c.column for c in sheet[2]}
    marks = {sheet.cell(r, cols["name"]).value: sheet.cell(r, cols["remove"]).value for r in range(3, sheet.max_row + 1)}
    assert marks == {"Layer": None, "Report": None, "Added": "remove"}
    undone = bb.apply(result.undo, world.catalogue, SETTINGS)
    assert sorted(str(r.status) for r in undone.rows) == ["applied", "removed"], [r.message for r in undone.rows]
    now = world.show(pkg["id"])["resources"]
    assert [r["name"] for r in now] == ["Layer", "Report"]  # 'Added' removed, 'Report' back
    report = next(r for r in now if r["name"] == "Report")
    assert report["id"] != pkg["resources"][1]["id"]  # put back as a new resource, and the report says its id
    assert next(r for r in undone.rows if r.status == "applied").message == \
        f"added as a new resource with id {report['id']}"
    assert {k: report.get(k) for k in NEW_RESOURCE} == {k: pkg["resources"][1].get(k) for k in NEW_RESOURCE}
