"""Issue 21: any CKAN catalogue, any scheming schema. Offline with --schema: other catalogues' real
schemas (../shared/ckan-schemas, skipped without it) export records made to fit them, read back with
no change, and validate; a multilingual field is a column a language; a schema with no hand-made
layout is laid out from the schema; CKAN without scheming has its core fields and extras; a field
the BC Data Catalogue's schema gains gets a column where the schema puts it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT, columns
from schema_records import records_for

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.cli import cli
from bcdc_bulk.schema import Schema, core_schema, schema_from_dict, schema_from_files, shipped_schema

SCHEMAS = ROOT.parent / "shared" / "ckan-schemas"
FLUENT = SCHEMAS / "ckanext-fluent" / "ckanext" / "fluent" / "presets.json"
CANADA = (SCHEMAS / "canada" / "ckanext" / "canada" / "schemas" / "dataset.yaml",
          [SCHEMAS / "canada" / "ckanext" / "canada" / "schemas" / "presets.yaml", FLUENT])
SWISS = (SCHEMAS / "switzerland" / "ckanext" / "switzerland" / "dcat-ap-switzerland_scheming.json",
         [SCHEMAS / "switzerland" / "ckanext" / "switzerland" / "presets.json"])
ORG = {"id": "org-1", "name": "org-one", "title": "Org One"}
needs_shared = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/ckan-schemas is not present")


def catalogue_of(schema: Schema, folder: Path, count: int = 3) -> tuple[Path, FileCatalogue]:
    path = folder / "catalogue.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records_for(schema, ORG, count)))
    (folder / "organizations.jsonl").write_text(json.dumps(ORG) + "\n")
    return path, FileCatalogue(path, given_schema=schema)


def exported(schema: Schema, folder: Path) -> Path:
    _, catalogue = catalogue_of(schema, folder)
    out = folder / "export.xlsx"
    bb.export(catalogue, out, ORG["name"])
    return out


def typed(path: Path, out: Path, sheet: str, row: int, values: dict[str, Any]) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    cols = columns(ws)
    for name, value in values.items():
        ws.cell(row, cols[name]).value = value
    wb.save(out)
    return out


@needs_shared
def test_canadas_schema_round_trips_with_a_column_a_language(tmp_path):
    schema = schema_from_files(*CANADA)
    path = exported(schema, tmp_path)
    assert bb.check(path).plan.records == []  # nothing edited: nothing to send
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    labels = [c.value for c in ws[1]]
    assert "Title (en) *" in labels and "Title (fr) *" in labels
    names = [c.value for c in ws[2]]
    assert names.index("title_translated-fr") == names.index("title_translated-en") + 1
    # a repeating field of the schema is a sheet, named by its label
    assert {"Datasets", "Resources", "Credit"} <= set(wb.sheetnames)
    edited = typed(path, tmp_path / "edited.xlsx", "Datasets", 3,
                   {"title_translated-fr": "Titre modifié", "keywords-fr": "un, deux", "collection": "Nope"})
    typed(edited, edited, "Datasets", 4, {"title_translated-en": None})
    checked = bb.check(edited)
    changes = {(r.name, c.field): c for r in checked.plan.records for c in r.changes}
    title = changes[("record-0", "title_translated")]
    assert title.new == dict(title.old, fr="Titre modifié")  # the other language as it was
    assert changes[("record-0", "keywords")].new["fr"] == ["un", "deux"]
    found = {(p.where, p.code): p.message for p in checked.problems}
    col = openpyxl.utils.get_column_letter(names.index("title_translated-en") + 1)
    assert found[(f"Datasets!{col}4", "required")] == "Title (en) is required"
    assert any(code == "choice" and "Collection Type: 'Nope' is not one of the 17 choices" in message
               for (_, code), message in found.items())


@needs_shared
def test_swiss_schema_exports_and_reads_back_and_validates_a_choice(tmp_path):
    schema = schema_from_files(*SWISS)
    path = exported(schema, tmp_path)
    assert bb.check(path).plan.records == []
    ws = openpyxl.load_workbook(path)["Datasets"]
    names = [c.value for c in ws[2]]
    assert {"title-de", "title-fr", "title-it", "title-en"} <= set(names)
    language = next(c for c in ws[1] if c.value and c.value.startswith("Languages"))
    edited = typed(path, tmp_path / "edited.xlsx", "Datasets", 3, {ws.cell(2, language.column).value: "Klingon"})
    problems = bb.check(edited).problems
    assert [p.code for p in problems] == ["choice"], [p.message for p in problems]
    # what the tool cannot check is named, so nobody thinks it was checked
    wb = openpyxl.load_workbook(path)
    said = {r[0]: r[1] for r in wb["Instructions"].iter_rows(values_only=True)}
    assert said["Checked by the catalogue"].startswith("These fields have rules that only the catalogue checks, "
                                                       "when you apply")
    assert "Keywords" in said["Checked by the catalogue"]
    interval = next(c for c in wb["Datasets"][1] if c.value == "Update interval")  # a choices_helper list
    assert "offers a list here that only the catalogue knows" in interval.comment.text


@needs_shared
def test_the_command_line_takes_a_schema_file_with_its_presets(tmp_path):
    schema = schema_from_files(*SWISS)
    path, _ = catalogue_of(schema, tmp_path)
    out = tmp_path / "cli.xlsx"
    args = ["-q", "--schema", str(SWISS[0]), "--presets", str(SWISS[1][0]), "export", "-r", str(path),
            "--org", ORG["name"], "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["plan", str(out)]).output == "No changes.\n"
    missing = CliRunner().invoke(cli, ["--schema", str(SWISS[0]), "export", "-r", str(path), "--org", ORG["name"],
                                       "-o", str(tmp_path / "x.xlsx")])
    assert missing.exit_code == 1
    assert "the schema's preset 'multilingual_text_full' is in none of the presets files given: add the presets " \
        "file it comes with" in missing.output
    # without the schema, another catalogue's records are not laid out as the BC Data Catalogue's
    wrong = CliRunner().invoke(cli, ["export", "-r", str(path), "--org", ORG["name"], "-o", str(tmp_path / "y.xlsx")])
    assert wrong.exit_code == 1 and "hold none of the fields of the bcdc_dataset schema" in wrong.output
    assert not (tmp_path / "y.xlsx").exists()


def test_ckan_without_scheming_has_its_core_fields_and_extras_as_rows(tmp_path):
    path = exported(core_schema(), tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["Instructions", "Datasets", "Resources", "Extras"]
    names = [c.value for c in wb["Datasets"][2]]
    assert names[:3] == ["name", "title", "notes"] and "maintainer_email" in names
    assert bb.check(path).plan.records == []
    extras = wb["Extras"]
    cols = {c.value: c.column for c in extras[2]}
    extras.cell(3, cols["value"]).value = "changed"
    wb.save(tmp_path / "edited.xlsx")
    [rec] = bb.check(tmp_path / "edited.xlsx").plan.records
    [change] = rec.changes
    assert change.field == "extras" and change.new[0]["value"] == "changed"


def test_a_field_the_bcdc_schema_gains_gets_a_column_where_the_schema_puts_it(tmp_path):
    raw = json.loads(json.dumps(shipped_schema().raw))
    at = next(i for i, f in enumerate(raw["dataset_fields"]) if f["field_name"] == "purpose")
    raw["dataset_fields"].insert(at + 1, {"field_name": "review_cycle", "label": "Review cycle",
                                          "help_text": "How often the record is reviewed.",
                                          "choices": [{"value": "yearly", "label": "Yearly"},
                                                      {"value": "never", "label": "Never"}]})
    schema = schema_from_dict(raw)
    records = [json.loads(line) for line in (ROOT / "sample_data" / "catalogue.jsonl").read_text().splitlines()]
    pkg = next(p for p in records if p["security_class"] == "PUBLIC" and isinstance(p["contacts"], list)
               and all(r["format"].islower() for r in p["resources"]))
    pkg["review_cycle"] = "yearly"
    (tmp_path / "cat.jsonl").write_text(json.dumps(pkg) + "\n")
    (tmp_path / "organizations.jsonl").write_text((ROOT / "sample_data" / "organizations.jsonl").read_text())
    out = tmp_path / "gained.xlsx"
    bb.export(FileCatalogue(tmp_path / "cat.jsonl", given_schema=schema), out, pkg["owner_org"])
    ws = openpyxl.load_workbook(out)["Datasets"]
    names = [c.value for c in ws[2]]
    assert names.index("review_cycle") == names.index("purpose") + 1
    header = ws.cell(1, names.index("review_cycle") + 1)
    assert header.value == "Review cycle" and "How often the record is reviewed." in header.comment.text
    assert ws.cell(3, names.index("review_cycle") + 1).value == "Yearly"
    edited = typed(out, tmp_path / "edited.xlsx", "Datasets", 3, {"review_cycle": "Never"})
    [rec] = bb.check(edited).plan.records
    assert [(c.field, c.old, c.new) for c in rec.changes] == [("review_cycle", "yearly", "never")]


@needs_shared
def test_a_swiss_editors_plan_reads_in_their_words(tmp_path):
    """From a new user's try: a title edited in German is one line 'Title (de)', not JSON; the
    languages (checkboxes in the form) take several, comma separated."""
    schema = schema_from_files(*SWISS)
    path = exported(schema, tmp_path)
    edited = typed(path, tmp_path / "edited.xlsx", "Datasets", 3, {"title-de": "Neuer Titel",
                                                                    "language": "English, German"})
    result = CliRunner().invoke(cli, ["plan", str(edited)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Update 'Title 0 (en)' (record-0), Datasets row 3")
    assert "    Title (de): 'Title 0 (de)' -> 'Neuer Titel'" in lines
    assert "    Languages: 'English' -> 'English, German'" in lines
    # two fields the schema labels alike are told apart; a language's keywords say how to write them
    wb = openpyxl.load_workbook(path)
    assert {"Format (media_type)", "Format (format)"} <= {c.value for c in wb["Resources"][1]}
    keywords = next(c for c in wb["Datasets"][1] if c.value == "Keywords (de)")
    assert "In de. Keywords separated by commas." in keywords.comment.text
