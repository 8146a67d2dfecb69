"""Issue 20 item 6: the small things a new editor trips on, read back as they see them: an emptied
Title is 'required', spaces pasted around a one-line value are named, a new contact row with its #
left empty goes after the others."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import columns, row_of

import bcdc_bulk as bb
from bcdc_bulk.cli import cli
from bcdc_bulk.wording import Wording

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "catalogue.jsonl"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "org.xlsx"
    result = CliRunner().invoke(cli, ["-q", "export", "-r", str(SAMPLE), "--org", "sample-data-branch", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _book(exported: Path) -> tuple[openpyxl.Workbook, dict[str, dict[str, int]]]:
    wb = openpyxl.load_workbook(exported)
    return wb, {ws.title: columns(ws) for ws in wb.worksheets if ws.max_row > 1}


def test_an_emptied_title_is_required_and_pasted_spaces_are_named(exported, tmp_path):
    wb, cols = _book(exported)
    ds = wb["Datasets"]
    ds.cell(3, cols["Datasets"]["title"]).value = None
    ds.cell(4, cols["Datasets"]["title"]).value = "  Pasted title\n"
    wb.save(tmp_path / "edited.xlsx")
    problems = {(p.row, p.code): p.message for p in bb.check(tmp_path / "edited.xlsx").problems
                if p.sheet == "Datasets" and p.field == "title"}
    assert problems[(3, "required")] == "Title is required"
    assert problems[(4, "edge-space")] == (
        "'Pasted title' has spaces at its start and a line break at its end, invisible in the cell; it would be "
        "sent as typed: delete them unless you mean them")


def test_a_new_contact_row_with_no_number_goes_after_the_others(exported, tmp_path):
    wb, cols = _book(exported)
    contacts, c = wb["Contacts"], cols["Contacts"]
    name = "heritage-sites-skeena-0009"  # a record whose contacts are all current
    first = row_of(contacts, name)
    count = sum(1 for r in range(3, contacts.max_row + 1) if contacts.cell(r, c["package_name"]).value == name)
    row = contacts.max_row + 1
    for field, value in (("package_name", name), ("name", "Robin New"), ("email", "robin.new@example.invalid"),
                         ("org", contacts.cell(first, c["org"]).value), ("role", "Custodian")):
        contacts.cell(row, c[field]).value = value
    wb.save(tmp_path / "contact.xlsx")
    checked = bb.check(tmp_path / "contact.xlsx")
    assert not [p for p in checked.problems if p.sheet == "Contacts"], checked.problems
    rec = next(r for r in checked.plan.records if r.name == name)
    words = Wording(checked.plan.converters, "", checked.plan.labels)
    assert [words.describe(ch, rec) for ch in rec.changes] == [
        f"Contacts #{count + 1} added (Robin New, robin.new@example.invalid)"]
    assert rec.after["contacts"][-1]["name"] == "Robin New"


def test_published_by_shows_and_offers_organization_titles(exported, tmp_path):
    """Item 2: cells and the dropdown say 'Sample Data Branch' as the form does; the URL name or the title in
    other capitals is still understood, and a typo names the nearest organization."""
    from test_workbook_view import dropdowns

    wb, cols = _book(exported)
    ds, col = wb["Datasets"], cols["Datasets"]["owner_org"]
    assert {ds.cell(r, col).value for r in range(3, ds.max_row + 1)} == {"Sample Data Branch"}
    offered = dropdowns(wb, ds)["owner_org"]
    assert "Ministry of Sample Services" in offered and "Sample Geospatial Unit" in offered
    assert not [o for o in offered if "-" in o and " " not in o]  # no URL names
    ds.cell(3, col).value = "sample-geospatial-unit"  # a URL name typed by someone who knows it
    ds.cell(4, col).value = "ministry of sample services"
    ds.cell(5, col).value = "Sample Geospatal Unit"
    wb.save(tmp_path / "moved.xlsx")
    checked = bb.check(tmp_path / "moved.xlsx")
    problems = [p for p in checked.problems if p.field == "owner_org"]
    assert [(p.row, p.message) for p in problems] == [
        (5, "Published By: 'Sample Geospatal Unit' is not an organization of this catalogue; did you mean "
            "'Sample Geospatial Unit'?")]
    words = Wording(checked.plan.converters, "", checked.plan.labels)
    said = sorted(words.describe(c, r) for r in checked.plan.records for c in r.changes if c.field == "owner_org")
    assert said == ["Published By: 'Sample Data Branch' -> 'Ministry of Sample Services'",
                    "Published By: 'Sample Data Branch' -> 'Sample Geospatal Unit'",
                    "Published By: 'Sample Data Branch' -> 'Sample Geospatial Unit'"]


def test_datasets_are_written_by_title(exported):
    """Item 6: records come in the order a person looks for them, not in id order."""
    wb, cols = _book(exported)
    ds = wb["Datasets"]
    titles = [ds.cell(r, cols["Datasets"]["title"]).value for r in range(3, ds.max_row + 1)]
    assert len(titles) > 10 and titles == sorted(titles, key=str.casefold)
    # each child sheet follows the same order, so a dataset's rows are found in the same place
    names = [ds.cell(r, cols["Datasets"]["name"]).value for r in range(3, ds.max_row + 1)]
    res = wb["Resources"]
    seen = list(dict.fromkeys(res.cell(r, cols["Resources"]["package_name"]).value for r in range(3, res.max_row + 1)))
    assert seen == [n for n in names if n in seen]


def test_stored_values_the_form_no_longer_takes_are_noted_on_their_cells(exported):
    """Item 3: before any validate, the exported workbook shows which stored values the catalogue
    will refuse, on the cell, with what to write instead; a current value has no note."""
    wb, cols = _book(exported)
    ds, res = wb["Datasets"], wb["Resources"]
    security = cols["Datasets"]["security_class"]
    notes = {ds.cell(r, security).value: ds.cell(r, security).comment for r in range(3, ds.max_row + 1)}
    assert notes["Public"] is None
    assert notes["HIGH-CABINET"].text.startswith(
        "Security Classification: 'HIGH-CABINET' is a value of the catalogue's older form that it no longer takes; "
        "choose one of: Public, Protected-A, Protected-B, Protected-C.\n\nThe catalogue holds it so from before;")
    fmt = cols["Resources"]["format"]
    formats = {res.cell(r, fmt).value: res.cell(r, fmt).comment for r in range(3, res.max_row + 1)}
    assert formats["csv"] is None
    assert formats["WMS"].text.startswith("Resource Storage Format: 'WMS' should be written 'wms', as the list has it.")
    instructions = {r[0]: r[1] for r in wb["Instructions"].iter_rows(values_only=True)}
    assert "A cell with a note (a red corner; hover over it)" in instructions["Notes on cells"]


def test_a_url_name_capitalised_by_autocorrect_says_so(exported, tmp_path):
    """Item 9: LibreOffice's autocorrect makes 'school-locations' 'School-locations'; the message
    names the likely cause and how to turn it off, not only the rule."""
    wb, cols = _book(exported)
    ds = wb["Datasets"]
    name = ds.cell(3, cols["Datasets"]["name"]).value
    ds.cell(3, cols["Datasets"]["name"]).value = name[0].upper() + name[1:]
    wb.save(tmp_path / "capital.xlsx")
    [problem] = [p for p in bb.check(tmp_path / "capital.xlsx").problems if p.field == "name"]
    assert problem.message.startswith(f"URL name: '{name[0].upper() + name[1:]}' may only contain lowercase")
    assert f"Only its first letter is a capital, which a spreadsheet's autocorrect often makes: type '{name}' " \
        "again (in LibreOffice, Tools > AutoCorrect Options > Options: untick" in problem.message
    ds.cell(3, cols["Datasets"]["name"]).value = "Two Words"
    wb.save(tmp_path / "spaces.xlsx")
    [problem] = [p for p in bb.check(tmp_path / "spaces.xlsx").problems if p.field == "name"]
    assert "autocorrect" not in problem.message


def test_an_email_with_no_at_sign_is_an_error_not_a_quiet_warning(exported, tmp_path):
    """Item 9: 'jordan.example(at)gov.bc.ca' is no address at all (nobody could write to it), so it
    stops its row; an address that only looks odd ('name@office') stays a warning."""
    wb, cols = _book(exported)
    contacts, c = wb["Contacts"], cols["Contacts"]
    first = row_of(contacts, "heritage-sites-skeena-0009")
    contacts.cell(first, c["email"]).value = "jordan.example(at)gov.bc.ca"
    contacts.cell(first + 1, c["email"]).value = "reception@office"
    wb.save(tmp_path / "emails.xlsx")
    found = {p.value: p for p in bb.check(tmp_path / "emails.xlsx").problems if p.field == "email"}
    assert (found["jordan.example(at)gov.bc.ca"].severity, found["jordan.example(at)gov.bc.ca"].message) == (
        "error", "'jordan.example(at)gov.bc.ca' is not an e-mail address at all (it has no @); write the address, "
                 "e.g. name@example.gov.bc.ca")
    assert found["reception@office"].severity == "warning"
