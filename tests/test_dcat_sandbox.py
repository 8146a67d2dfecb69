"""Issue 21 against a real CKAN running another catalogue's schema: ckanext-dcat's DCAT-AP
(dcat_ap_full.yaml, from PyPI), served beside the sandbox by tests/ckan_sandbox/start_other.sh.
Records made to fit are exported with no change to send, survive LibreOffice, and edits of each
kind of field (a repeating-field row added and one removed, a date, a choice) land and read back;
a value the catalogue refuses is reported on its row."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import SANDBOX, columns, fresh_organization, other_catalogue
from test_libreoffice_edits import _uno_ready, office  # noqa: F401  (office: a fixture used below)
from test_libreoffice_edits import edit as lo_edit

import bcdc_bulk as bb

pytestmark = pytest.mark.sandbox
COMPLETED, DEPRECATED = "http://purl.org/adms/status/Completed", "http://purl.org/adms/status/Deprecated"


@pytest.fixture
def world(sandbox: dict[str, str]) -> dict[str, Any]:
    """A fresh organization of three DCAT-AP records, each field kind filled in."""
    ckan, org, catalogue = fresh_organization("full", "dcat-full", "dcat")
    run = org["name"].split("-")[-1]
    packages = [ckan.action.package_create(
        name=f"dcat-{run}-{i}", title=f"Air quality {i} ({run})", notes="Hourly readings.", owner_org=org["id"],
        issued=f"2024-01-0{i + 1}", theme=["http://publications.europa.eu/resource/authority/data-theme/ENVI"],
        contact=[{"name": "Ann Example", "email": "ann@example.invalid"},
                 {"name": "Bo Example", "email": "bo@example.invalid"}],
        temporal_coverage=[{"start": "2020-01-01", "end": "2020-12-31"}],
        resources=[{"url": f"https://example.invalid/{i}.csv", "name": "Readings", "format": "CSV",
                    "status": COMPLETED}])
        for i in range(3)]
    return {"ckan": ckan, "org": org, "packages": packages,
            "catalogue": catalogue}


def row_of(ws: Any, name: str, column: str = "name", nth: int = 1) -> int:
    cols = columns(ws)
    return [r for r in range(3, ws.max_row + 1) if ws.cell(r, cols[column]).value == name][nth - 1]


def put(ws: Any, row: int, values: dict[str, Any]) -> None:
    cols = columns(ws)
    for field, value in values.items():
        ws.cell(row, cols[field]).value = value


def test_a_dcat_ap_catalogue_round_trips_and_takes_edits_of_every_kind(world, tmp_path):
    catalogue, ckan = world["catalogue"], world["ckan"]
    assert catalogue.schema().dataset_type == "dataset"  # the site's only scheming type
    path = tmp_path / "dcat.xlsx"
    bb.export(catalogue, path, world["org"]["name"])
    wb = openpyxl.load_workbook(path)
    assert {"Datasets", "Resources", "Contact points", "Temporal coverage"} <= set(wb.sheetnames)
    assert bb.check(path, catalogue).calls() == []  # exported and not edited: nothing to send
    first, second, third = world["packages"]
    put(wb["Datasets"], row_of(wb["Datasets"], first["name"]), {"issued": "2025-06-30"})  # a date
    res = wb["Resources"]
    put(res, row_of(res, first["name"], "package_name"), {"status": "Deprecated"})  # a choice, by its label
    temporal = wb["Temporal coverage"]
    new = temporal.max_row + 1
    put(temporal, new, {"package_name": second["name"], "position": "2", "start": "2021-01-01", "end": "2021-12-31"})
    contacts = wb["Contact points"]
    put(contacts, row_of(contacts, third["name"], "package_name", 2), {"remove": "remove"})  # an entry removed
    wb.save(tmp_path / "edited.xlsx")
    result = bb.apply(tmp_path / "edited.xlsx", catalogue, bb.ApplySettings(workers=2))
    assert {str(r.status) for r in result.rows} == {"applied"}, [(r.sheet, r.row, r.message) for r in result.rows]
    now = {p["name"]: ckan.action.package_show(id=p["id"]) for p in world["packages"]}
    assert now[first["name"]]["issued"].startswith("2025-06-30")
    assert now[first["name"]]["resources"][0]["status"] == DEPRECATED
    assert now[second["name"]]["temporal_coverage"] == [{"start": "2020-01-01", "end": "2020-12-31"},
                                                        {"start": "2021-01-01", "end": "2021-12-31"}]
    assert [c["name"] for c in now[third["name"]]["contact"]] == ["Ann Example"]
    again = tmp_path / "again.xlsx"  # and what landed reads back as exported: nothing to send
    bb.export(catalogue, again, world["org"]["name"])
    assert bb.check(again, catalogue).calls() == []


def test_a_value_the_dcat_ap_catalogue_refuses_is_reported_on_its_row(world, tmp_path):
    catalogue = world["catalogue"]
    path = tmp_path / "dcat.xlsx"
    bb.export(catalogue, path, world["org"]["name"])
    wb = openpyxl.load_workbook(path)
    first = world["packages"][0]
    row = row_of(wb["Datasets"], first["name"])
    put(wb["Datasets"], row, {"issued": "not a date"})
    wb.save(tmp_path / "bad.xlsx")
    result = bb.apply(tmp_path / "bad.xlsx", catalogue, bb.ApplySettings(workers=1))
    [refused] = result.rows
    assert (refused.sheet, refused.row, str(refused.status)) == ("Datasets", row, "failed")
    assert "issued" in refused.message.lower() or "date" in refused.message.lower(), refused.message
    assert world["ckan"].action.package_show(id=first["id"])["issued"].startswith("2024-01-01")


@pytest.mark.skipif(not _uno_ready(), reason="needs LibreOffice with python3-uno")
def test_a_dcat_ap_workbook_saved_by_libreoffice_sends_nothing(world, office, tmp_path):  # noqa: F811
    path = tmp_path / "dcat.xlsx"
    bb.export(world["catalogue"], path, world["org"]["name"])
    saved = lo_edit(office, path, tmp_path / "saved.xlsx", [])
    assert bb.check(saved, world["catalogue"]).calls() == []


def test_the_multilingual_dcat_ap_schema_works_offline_with_its_presets(sandbox, tmp_path):
    """dcat_ap_multilingual.yaml (ckanext-dcat, as installed for the sandbox) with ckanext-fluent's
    presets (../shared): a column a language, read back with no change, one language edited."""
    import json

    from schema_records import records_for

    from bcdc_bulk.catalogue import FileCatalogue
    from bcdc_bulk.schema import schema_from_files

    fluent = SANDBOX.parents[2] / "shared" / "ckan-schemas" / "ckanext-fluent" / "ckanext" / "fluent" / "presets.json"
    if not fluent.exists():
        pytest.skip("../shared/ckan-schemas is not present")
    other_catalogue("full", "dcat-full")  # ckanext-dcat installed in the sandbox's virtualenv
    venv = Path((SANDBOX / ".state" / "venv").read_text().strip())
    [schemas] = venv.glob("lib/python3*/site-packages/ckanext/dcat/schemas")
    schema = schema_from_files(schemas / "dcat_ap_multilingual.yaml", [schemas / "presets.yaml", fluent])
    org = {"id": "org-1", "name": "org-one", "title": "Org One"}
    (tmp_path / "cat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records_for(schema, org)))
    (tmp_path / "organizations.jsonl").write_text(json.dumps(org) + "\n")
    path = tmp_path / "ml.xlsx"
    bb.export(FileCatalogue(tmp_path / "cat.jsonl", given_schema=schema), path, org["name"])
    assert bb.check(path).plan.records == []
    wb = openpyxl.load_workbook(path)
    names = [c.value for c in wb["Datasets"][2]]
    assert {"title_translated-en", "title_translated-ca", "title_translated-es"} <= set(names)
    put(wb["Datasets"], 3, {"title_translated-es": "Calidad del aire"})
    wb.save(tmp_path / "edited.xlsx")
    [rec] = bb.check(tmp_path / "edited.xlsx").plan.records
    [change] = rec.changes
    assert change.new == dict(change.old, es="Calidad del aire")


@pytest.fixture
def ml_world(sandbox: dict[str, str]) -> dict[str, Any]:
    """A fresh organization of two records of dcat_ap_multilingual.yaml, in English, Catalan and Spanish."""
    ckan, org, catalogue = fresh_organization("multilingual", "dcat-multilingual", "ml")
    run = org["name"].split("-")[-1]
    packages = [ckan.action.package_create(
        name=f"ml-{run}-{i}", owner_org=org["id"],
        title_translated={"en": f"Air quality {i}", "ca": f"Qualitat de l'aire {i}", "es": f"Calidad del aire {i}"},
        notes_translated={"en": "Hourly readings.", "ca": "Lectures horàries.", "es": "Lecturas horarias."},
        tags_translated={"en": ["air"], "ca": ["aire"], "es": ["aire"]},
        contact=[{"name": "Ann", "email": "ann@example.invalid",
                  "name_translated": {"en": "Ann", "ca": "Anna", "es": "Ana"}}],
        resources=[{"url": f"https://example.invalid/{i}.csv", "format": "CSV",
                    "name_translated": {"en": "Readings", "ca": "Lectures", "es": "Lecturas"}}])
        for i in range(2)]
    return {"ckan": ckan, "org": org, "packages": packages,
            "catalogue": catalogue}


def test_a_multilingual_catalogue_round_trips_and_takes_each_languages_edits(ml_world, tmp_path):
    """A real CKAN with ckanext-fluent: a column a language, on every sheet (a contact's name too);
    exported, nothing to send; a title, keywords, a resource name and a contact's name edited in one
    language each land with the other languages kept; a contact added in three languages lands."""
    catalogue, ckan = ml_world["catalogue"], ml_world["ckan"]
    path = tmp_path / "ml.xlsx"
    bb.export(catalogue, path, ml_world["org"]["name"])
    assert bb.check(path, catalogue).calls() == []
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["Datasets"][1]][:4] == ["URL name", "Title (en) *", "Title (ca) *", "Title (es) *"]
    first, second = ml_world["packages"]
    put(wb["Datasets"], row_of(wb["Datasets"], first["name"]),
        {"title_translated-es": "Calidad del aire, cada hora", "tags_translated-ca": "aire, qualitat"})
    res = wb["Resources"]
    put(res, row_of(res, first["name"], "package_name"), {"name_translated-ca": "Lectures horàries"})
    contacts = wb["Contact points"]
    assert contacts.cell(row_of(contacts, first["name"], "package_name"), 1).value == first["name"]
    put(contacts, row_of(contacts, first["name"], "package_name"), {"name_translated-es": "Ana María"})
    new = contacts.max_row + 1
    put(contacts, new, {"package_name": second["name"], "position": "2", "name": "Bo", "email": "bo@example.invalid",
                        "name_translated-en": "Bo", "name_translated-ca": "Bo", "name_translated-es": "Bo"})
    wb.save(tmp_path / "edited.xlsx")
    result = bb.apply(tmp_path / "edited.xlsx", catalogue, bb.ApplySettings(workers=2))
    assert {str(r.status) for r in result.rows} == {"applied"}, [(r.sheet, r.row, r.message) for r in result.rows]
    one, two = (ckan.action.package_show(id=p["id"]) for p in (first, second))
    assert one["title_translated"] == {"en": "Air quality 0", "ca": "Qualitat de l'aire 0",
                                       "es": "Calidad del aire, cada hora"}
    assert one["tags_translated"] == {"en": ["air"], "ca": ["aire", "qualitat"], "es": ["aire"]}
    assert one["resources"][0]["name_translated"] == {"en": "Readings", "ca": "Lectures horàries", "es": "Lecturas"}
    assert one["contact"][0]["name_translated"] == {"en": "Ann", "ca": "Anna", "es": "Ana María"}
    assert [c["name_translated"] for c in two["contact"]] == [{"en": "Ann", "ca": "Anna", "es": "Ana"},
                                                              {"en": "Bo", "ca": "Bo", "es": "Bo"}]
    again = tmp_path / "again.xlsx"
    bb.export(catalogue, again, ml_world["org"]["name"])
    assert bb.check(again, catalogue).calls() == []


def test_a_required_language_left_empty_is_a_problem_in_its_cell(ml_world, tmp_path):
    path = tmp_path / "ml.xlsx"
    bb.export(ml_world["catalogue"], path, ml_world["org"]["name"])
    wb = openpyxl.load_workbook(path)
    row = row_of(wb["Datasets"], ml_world["packages"][0]["name"])
    put(wb["Datasets"], row, {"title_translated-ca": None})
    wb.save(tmp_path / "bad.xlsx")
    report = bb.check(tmp_path / "bad.xlsx", ml_world["catalogue"])
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert (problem.sheet, problem.row, problem.column) == ("Datasets", row, "C"), problem  # Title (ca)
    assert problem.field == "title_translated-ca" and problem.message.startswith("Title (ca)"), problem
    assert report.calls() == []


@pytest.mark.skipif(not _uno_ready(), reason="needs LibreOffice with python3-uno")
def test_a_multilingual_workbook_saved_by_libreoffice_sends_nothing(ml_world, office, tmp_path):  # noqa: F811
    path = tmp_path / "ml.xlsx"
    bb.export(ml_world["catalogue"], path, ml_world["org"]["name"])
    saved = lo_edit(office, path, tmp_path / "saved.xlsx", [])
    assert bb.check(saved, ml_world["catalogue"]).calls() == []
