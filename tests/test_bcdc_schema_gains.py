"""Issue 21: the BC Data Catalogue's schema gains a field. A real CKAN runs the sandbox's BCDC schema
with two fields added by tests/ckan_sandbox/start_other.sh (a free-text note after Description, a
choice after it); nothing of bcdc-bulk knows them. They appear as columns where the schema puts them,
with their labels, help and dropdown, and edits to them land."""
from __future__ import annotations

from typing import Any

import openpyxl
import pytest
from conftest import fresh_organization, row_of
from test_workbook_view import dropdowns

import bcdc_bulk as bb

pytestmark = pytest.mark.sandbox


@pytest.fixture
def world(sandbox: dict[str, str]) -> dict[str, Any]:
    """An organization with one BCDC record that has the new note, and one that has neither field."""
    ckan, org, catalogue = fresh_organization("bcdc-plus", "bcdc-plus", "plus")
    run = org["name"].split("-")[-1]

    def record(i: int, **more: Any) -> dict[str, Any]:
        return ckan.action.package_create(
            type="bcdc_dataset", name=f"plus-{run}-{i}", title=f"Plus record {i} {run}", owner_org=org["id"],
            publish_state="DRAFT", notes="Made by the test suite.", license_id="2", security_class="PUBLIC",
            view_audience="Public", download_audience="Public", metadata_visibility="Public",
            resource_status="onGoing", tags=[{"name": "testing"}],
            contacts=[{"name": "Alex Sample", "email": "alex.sample@example.invalid", "org": org["id"],
                       "role": "pointOfContact", "displayed": ["displayed"]}], **more)
    packages = [record(0, steward_note="Checked in May."), record(1)]
    return {"ckan": ckan, "org": org, "packages": packages,
            "catalogue": catalogue}


def test_fields_the_catalogue_added_are_columns_with_label_help_and_list_and_edits_land(world, tmp_path):
    catalogue, ckan = world["catalogue"], world["ckan"]
    path = tmp_path / "plus.xlsx"
    bb.export(catalogue, path, world["org"]["name"])
    assert bb.check(path, catalogue).calls() == []  # nothing to send
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    names = [c.value for c in ws[2]]
    assert names.index("steward_note") == names.index("notes") + 1  # where the schema puts it
    assert names.index("review_cycle") == names.index("steward_note") + 1
    note, cycle = (ws.cell(1, names.index(n) + 1) for n in ("steward_note", "review_cycle"))
    assert note.value == "Data steward's note"
    assert "What the data steward wants every user of this dataset to know." in note.comment.text
    assert cycle.value == "Review cycle" and "How often the data steward reviews" in cycle.comment.text
    assert dropdowns(wb, ws)["review_cycle"] == ["Every year", "Every quarter"]
    first, second = world["packages"]
    assert ws.cell(row_of(ws, first["name"]), names.index("steward_note") + 1).value == "Checked in May."
    ws.cell(row_of(ws, first["name"]), names.index("steward_note") + 1).value = "Checked again in June."
    ws.cell(row_of(ws, second["name"]), names.index("review_cycle") + 1).value = "Every quarter"
    wb.save(tmp_path / "edited.xlsx")
    result = bb.apply(tmp_path / "edited.xlsx", catalogue, bb.ApplySettings(workers=2))
    assert {str(r.status) for r in result.rows} == {"applied"}, [(r.sheet, r.row, r.message) for r in result.rows]
    assert ckan.action.package_show(id=first["id"])["steward_note"] == "Checked again in June."
    assert ckan.action.package_show(id=second["id"])["review_cycle"] == "quarterly"
    again = tmp_path / "again.xlsx"
    bb.export(catalogue, again, world["org"]["name"])
    assert bb.check(again, catalogue).calls() == []


def test_a_value_not_in_the_added_list_is_a_problem_in_its_cell(world, tmp_path):
    path = tmp_path / "plus.xlsx"
    bb.export(world["catalogue"], path, world["org"]["name"])
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    names = [c.value for c in ws[2]]
    row = row_of(ws, world["packages"][0]["name"])
    ws.cell(row, names.index("review_cycle") + 1).value = "Every decade"
    wb.save(tmp_path / "bad.xlsx")
    report = bb.check(tmp_path / "bad.xlsx", world["catalogue"])
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert (problem.sheet, problem.row, problem.field) == ("Datasets", row, "review_cycle"), problem
    assert "Review cycle" in problem.message and "Every year" in problem.message, problem.message
