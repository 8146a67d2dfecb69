"""Issue 20 items 3, 8 and 9: a value that is not a choice is explained in a sentence a person can act
on (the nearest few, by spelling and words; a stored value in other capitals named as such; a
retired value named as one), problems the records already had come after the editor's own, and
`bcdc-bulk fix` types in the fixes that are certain, and only those."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import columns

import bcdc_bulk as bb
from bcdc_bulk.cli import cli
from bcdc_bulk.schema import shipped_licenses, shipped_schema
from bcdc_bulk.suggesting import certain_fix, nearest
from bcdc_bulk.validation import choice_message

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "catalogue.jsonl"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fix") / "org.xlsx"
    result = CliRunner().invoke(cli, ["-q", "export", "-r", str(SAMPLE), "--org", "ministry-of-sample-services",
                                      "--include-suborgs", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_suggestions_weigh_words_and_offer_the_few_nearest():
    titles = [lic["title"] for lic in shipped_licenses()]
    assert nearest("Open Government Licence BC", titles) == ["Open Government Licence - British Columbia"]
    assert nearest("Open Govt Licence Canada", titles) == ["Open Government Licence - Canada"]
    assert nearest("nothing like it at all", titles) == []
    assert nearest("Protected", ["Protected-A", "Protected-B", "Protected-C", "Public"]) == [
        "Protected-A", "Protected-B", "Protected-C"]


def test_a_choice_message_is_short_and_says_what_to_do():
    schema = shipped_schema()
    fmt = schema.resource_field("format")
    security = schema.dataset_field("security_class")
    said = choice_message("Resource Storage Format", "OTHER", fmt)
    assert said == "Resource Storage Format: 'OTHER' should be written 'other', as the list has it"
    assert choice_message("Resource Storage Format", "spreadsheet", fmt) == (
        f"Resource Storage Format: 'spreadsheet' is not one of the {len(fmt.choices)} choices; choose one from the "
        "dropdown")
    assert choice_message("Security Classification", "Protectd-A", security) == (
        "Security Classification: 'Protectd-A' is not one of the choices; did you mean 'Protected-A'?")
    assert choice_message("Security Classification", "HIGH-CABINET", security) == (
        "Security Classification: 'HIGH-CABINET' is a value of the catalogue's older form that it no longer "
        "takes; choose one of: Public, Protected-A, Protected-B, Protected-C")
    assert choice_message("Security Classification", "LOW-PUBLIC", security).endswith("; today's is 'Public'")


def test_only_certain_fixes_are_offered():
    schema = shipped_schema()
    fmt, security = schema.resource_field("format"), schema.dataset_field("security_class")
    assert certain_fix("CSV", fmt) == "csv" and certain_fix("Openapi-JSON", fmt) == "openapi-json"
    assert certain_fix("csv", fmt) is None  # already right
    assert certain_fix("LOW-PUBLIC", security) == "PUBLIC"
    assert certain_fix("HIGH-CABINET", security) is None  # a person chooses
    assert certain_fix("spreadsheet", fmt) is None


def _set(src: Path, dst: Path, sheet: str, row: int, field: str, value: str) -> Path:
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    col = next(c.column for c in ws[2] if c.value == field)
    ws.cell(row, col).value = value
    wb.save(dst)
    return dst


def test_a_typed_licence_is_matched_by_its_words(exported, tmp_path):
    edited = _set(exported, tmp_path / "lic.xlsx", "Datasets", 3, "license_id", "Open Government Licence BC")
    out = CliRunner().invoke(cli, ["validate", str(edited)]).output
    assert "did you mean '2 - Open Government Licence - British Columbia'?" in out


def test_the_editors_own_problems_come_first_then_those_already_there(exported, tmp_path):
    wb = openpyxl.load_workbook(exported)
    ws = wb["Datasets"]
    cols = columns(ws)
    rows = range(3, ws.max_row + 1)
    legacy = next(r for r in rows if ws.cell(r, cols["security_class"]).value == "HIGH-CABINET")
    ws.cell(legacy, cols["purpose"]).value = "Edited"  # a record that already had a problem
    ws.cell(legacy, cols["license_id"]).value = "no such licence"
    wb.save(tmp_path / "mixed.xlsx")
    out = CliRunner().invoke(cli, ["validate", str(tmp_path / "mixed.xlsx")]).output.splitlines()
    heading = next(i for i, line in enumerate(out) if line.startswith("Already so before your edit"))
    assert "no such licence" in "\n".join(out[:heading])
    assert any("HIGH-CABINET" in line for line in out[heading:])
    assert not any("HIGH-CABINET" in line for line in out[:heading])
    assert "already in the records before your edit" in out[-1]
    for line in out:
        assert "arcgis_rest, atom" not in line  # no list of every format in a message


def test_fix_types_in_the_certain_fixes_in_a_copy(exported, tmp_path):
    target = tmp_path / "fixed.xlsx"
    before = exported.read_bytes()
    result = CliRunner().invoke(cli, ["fix", str(exported), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert exported.read_bytes() == before  # the workbook itself is never changed
    lines = result.output.splitlines()
    assert any(line.endswith("Security Classification: 'LOW-PUBLIC' -> 'Public'") for line in lines)
    assert any("Resource Storage Format: 'CSV' -> 'csv'" in line for line in lines)
    assert not any("HIGH-CABINET" in line for line in lines)
    assert lines[-1].startswith(f"{len(lines) - 1} values fixed in {target}.")
    fixed = openpyxl.load_workbook(target)
    first = lines[0].split()[0]  # e.g. Resources!E54
    sheet, cell = first.split("!")
    assert fixed[sheet][cell].value == lines[0].rsplit("-> ", 1)[1].strip("'")
    checked = bb.check(target)
    assert not [p for p in checked.problems if p.field == "format"]  # every format fixed
    assert {p.value for p in checked.problems if p.field == "security_class"} <= {"HIGH-CABINET", "MEDIUM-PERSONAL",
                                                                                  "HIGH-SENSITIVITY", "LOW-SENSITIVITY",
                                                                                  "MEDIUM-SENSITIVITY", "HIGH-CLASSIFIED"}
    fixes = bb.fix(target, tmp_path / "again.xlsx")
    assert fixes == []  # nothing left that is certain


def test_a_value_stored_as_its_label_says_what_to_type_and_typing_it_stores_the_value(tmp_path):
    """Item 8: 'BC Geographic Warehouse' stored where the list's value is 'bc geographic warehouse': the
    cell looks right, so its note names both and says what to type; fix types it, and that is a change
    to the listed value. A state stored as its label ('Published') is not for a workbook to fix: the
    catalogue cannot move a record from a state it does not know, so the note says whom to ask."""
    import json

    from bcdc_bulk.catalogue import FileCatalogue

    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    pkg = next(p for p in records if p["publish_state"] == "PUBLISHED" and p["security_class"] == "PUBLIC"
               and isinstance(p["contacts"], list) and all(r["format"].islower() for r in p["resources"]))
    pkg["publish_state"] = "Published"
    pkg["resources"] = pkg["resources"][:1]
    pkg["resources"][0]["resource_storage_location"] = "BC Geographic Warehouse"
    (tmp_path / "cat.jsonl").write_text(json.dumps(pkg) + "\n")
    (tmp_path / "organizations.jsonl").write_text((SAMPLE.parent / "organizations.jsonl").read_text())
    path = tmp_path / "one.xlsx"
    bb.export(FileCatalogue(tmp_path / "cat.jsonl"), path, pkg["owner_org"])
    wb = openpyxl.load_workbook(path)

    def cell(sheet: str, name: str) -> Any:
        ws = wb[sheet]
        return ws.cell(3, next(c.column for c in ws[2] if c.value == name))
    state, where = cell("Datasets", "publish_state"), cell("Resources", "resource_storage_location")
    assert (state.value, where.value) == ("Published", "BC Geographic Warehouse")
    assert where.comment.text.startswith(
        "Resource Storage Location: stored as 'BC Geographic Warehouse', the form's label, where the list's value "
        "is 'bc geographic warehouse'; type bc geographic warehouse here (or pick another entry)")
    assert state.comment.text.startswith(
        "State: stored as 'Published', where the list's value is 'PUBLISHED'; the catalogue cannot move a record "
        "on from a state its list does not hold, so ask its administrators to correct the stored state")
    fixes = bb.fix(path, tmp_path / "fixed.xlsx")
    assert [(f.label, f.old, f.new) for f in fixes] == [
        ("Resource Storage Location", "BC Geographic Warehouse", "bc geographic warehouse")]
    checked = bb.check(tmp_path / "fixed.xlsx")
    [rec] = checked.plan.records
    assert [(c.field, c.old, c.new) for c in rec.changes] == [
        ("resource_storage_location", "BC Geographic Warehouse", "bc geographic warehouse")]
    assert not [p for p in checked.problems if p.field == "resource_storage_location"]
