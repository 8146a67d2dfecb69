"""Issue 20 item 5: the help a person reads in the workbook, as they read it: every input message fits
Excel's 255 characters and names no command (web users have no terminal); columns the schema gives no
help for say how to write their value; the header colours are explained; Resource ID on a resource's
entry sheet says one thing."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from bcdc_bulk.cli import cli

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "catalogue.jsonl"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("help") / "org.xlsx"
    result = CliRunner().invoke(cli, ["-q", "export", "-r", str(SAMPLE), "--org", "sample-data-branch", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path)


def _notes(ws) -> dict[str, str]:
    return {c.value: (c.comment.text if c.comment else "") for c in ws[1]}


def test_input_messages_fit_and_name_no_command(book):
    seen = 0
    for ws in book.worksheets:
        for dv in ws.data_validations.dataValidation:
            if dv.prompt:
                seen += 1
                assert len(dv.prompt) <= 255, (ws.title, dv.prompt)
                assert "bcdc-bulk" not in dv.prompt and "validate" not in dv.prompt, (ws.title, dv.prompt)
    assert seen > 20


def test_columns_without_schema_help_say_how_to_write_their_value(book):
    datasets = _notes(book["Datasets"])
    assert datasets["URL name *"].startswith("The last part of the record's web address")
    assert datasets["Title *"].startswith("The record's title")
    assert datasets["Keywords *"].startswith("Keywords separated by commas")
    assert datasets["Description *"].startswith("Text; Markdown works")
    assert datasets["Record Publish Date"] == "A date, written YYYY-MM-DD, e.g. 2024-03-31."
    contacts = _notes(book["Contacts"])
    assert contacts["Email *"].startswith("An e-mail address")
    for sheet in ("Datasets", "Resources", "Contacts", "Lifecycle Dates"):
        for label, note in _notes(book[sheet]).items():
            assert note.strip() != "Required.", (sheet, label)  # a required column says what goes in it


def test_the_colours_are_explained_and_resource_id_says_one_thing(book):
    rows = {r[0].value: r[1].value for r in book["Instructions"].iter_rows(min_row=2) if r[0].value}
    assert rows["Colours"].startswith("Row 1: orange labels are required (marked *), blue ones optional, grey ones")
    assert "Bulk edit tab" in rows["Then"]
    note = _notes(book["Preview Info"])["Resource ID"]
    assert note.startswith("Which resource this entry belongs to") and "Read-only" not in note


def test_remove_comes_right_after_the_columns_a_person_edits(book):
    for ws in book.worksheets:
        labels = [c.value for c in ws[1]]
        if "Remove?" not in labels:
            continue
        before = list(ws[1][:labels.index("Remove?")])
        is_grey = [bool(c.fill.fgColor.rgb and c.fill.fgColor.rgb.endswith("D9D9D9")) for c in before]
        last_white = max(i for i, g in enumerate(is_grey) if not g)
        # grey columns that name the row (a resource's name) may lead; none sits between the edits and Remove?
        assert not [c.value for c, g in zip(before, is_grey, strict=True) if g and before.index(c) > 3], ws.title
        assert last_white == len(before) - 1, ws.title
