"""Issue 20 item 4: the plan, the report's Changes and the check page say what changes in the words
the editor saw in the workbook (column headers, choice labels, licence titles, entries by name,
resources by name), not field names, codes, ids or JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import columns

import bcdc_bulk as bb
from bcdc_bulk.cli import cli
from bcdc_bulk.wording import Wording

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "catalogue.jsonl"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wording") / "org.xlsx"
    result = CliRunner().invoke(cli, ["-q", "export", "-r", str(SAMPLE), "--org", "ministry-of-sample-services",
                                      "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _columns(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return columns(ws)


def _edited(exported: Path, out: Path) -> tuple[Path, dict[str, str]]:
    wb = openpyxl.load_workbook(exported)
    ds = wb["Datasets"]
    cols = _columns(ds)
    contacts, res = wb["Contacts"], wb["Resources"]
    ccols, rcols = _columns(contacts), _columns(res)

    def count(ws: Any, key: int, name: str) -> int:
        return sum(ws.cell(r, key).value == name for r in range(3, ws.max_row + 1))
    # the first record (by title, as exported) with a contact and two resources
    at = next(r for r in range(3, ds.max_row + 1) if count(res, rcols["package_name"], ds.cell(r, cols["name"]).value)
              >= 2 and count(contacts, ccols["package_name"], ds.cell(r, cols["name"]).value))
    seen = {"name": ds.cell(at, cols["name"]).value, "title": ds.cell(at, cols["title"]).value, "row": at}
    ds.cell(at, cols["license_id"]).value = "24 - Open Government Licence - Canada"
    ds.cell(at, cols["security_class"]).value = "Protected-A"
    ds.cell(at, cols["name"]).value = seen["name"] + "-renamed"
    row = next(r for r in range(3, contacts.max_row + 1) if contacts.cell(r, ccols["package_name"]).value == seen["name"])
    seen["contact"] = contacts.cell(row, ccols["name"]).value
    contacts.cell(row, ccols["role"]).value = "Custodian" if contacts.cell(row, ccols["role"]).value != "Custodian" \
        else "Data Steward"
    seen["role"] = contacts.cell(row, ccols["role"]).value
    rows = [r for r in range(3, res.max_row + 1) if res.cell(r, rcols["package_name"]).value == seen["name"]]
    seen["resource"], seen["removed"] = res.cell(rows[0], rcols["name"]).value, res.cell(rows[1], rcols["name"]).value
    res.cell(rows[0], rcols["format"]).value = "csv" if res.cell(rows[0], rcols["format"]).value != "csv" else "xlsx"
    seen["format"] = res.cell(rows[0], rcols["format"]).value
    res.cell(rows[1], rcols["remove"]).value = "remove"
    out_path = out / "edited.xlsx"
    wb.save(out_path)
    return out_path, seen


def test_the_plan_says_each_change_in_the_workbooks_words(exported, tmp_path):
    edited, seen = _edited(exported, tmp_path)
    shown = CliRunner().invoke(cli, ["plan", str(edited)]).output
    assert f"Update '{seen['title']}' ({seen['name']}-renamed), Datasets row {seen['row']}, " in shown
    assert "    Licence: '" in shown and "-> '24 - Open Government Licence - Canada'" in shown
    assert "    Security Classification: 'Public' -> 'Protected-A'" in shown
    assert (f"    URL name: '{seen['name']}' -> '{seen['name']}-renamed' (the record's web address changes to "
            f"/dataset/{seen['name']}-renamed; links to the old address stop working)") in shown
    assert "    Contacts #1 Role: " in shown and f"-> '{seen['role']}'" in shown
    assert f"    Resource '{seen['resource']}': Resource Storage Format: " in shown
    assert f"    Resource '{seen['removed']}' removed" in shown
    for code in ("license_id", "security_class", "PROTECTED", "resources[", "package_revise", "owner_org"):
        assert code not in shown, code


def test_list_entries_are_named_when_added_or_removed(exported, tmp_path):
    wb = openpyxl.load_workbook(exported)
    contacts = wb["Contacts"]
    cols = _columns(contacts)
    name = contacts.cell(3, cols["package_name"]).value
    first = contacts.cell(3, cols["name"]).value
    for col in ("name", "email", "org", "role", "displayed"):
        contacts.cell(3, cols[col]).value = None  # cleared cells remove the entry
    last = contacts.max_row + 1
    for col, value in (("package_name", name), ("position", "9"), ("name", "Robin New"),
                       ("email", "robin.new@example.invalid"), ("role", "Custodian")):
        contacts.cell(last, cols[col]).value = value
    wb.save(tmp_path / "lists.xlsx")
    plan = bb.check(tmp_path / "lists.xlsx").plan
    words = Wording(plan.converters, "https://catalogue.example", plan.labels)
    rec = next(r for r in plan.records if r.name == name)
    said = [line for c in rec.changes for line in words.lines(c, rec)]
    assert any(line.startswith(f"Contacts #1 removed ({first}") for line in said), said
    assert any(line == "Contacts #1 added (Robin New, robin.new@example.invalid)" for line in said), said
