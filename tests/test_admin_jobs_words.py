"""Issue 20 item 8: an admin's real jobs, each a round trip against the sandbox: a contact who left,
replaced across two organizations from one workbook."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_apply import Org, apply, report

from bcdc_bulk.cli import cli

pytestmark = pytest.mark.sandbox


def test_a_departed_contact_is_replaced_across_two_organizations_in_one_workbook(sandbox, tmp_path):
    first, second = Org(sandbox, 2), Org(sandbox, 1)
    workbook = tmp_path / "two.xlsx"
    env = {"BCDC_API_KEY": sandbox["CKAN_EDITOR_TOKEN"]}
    result = CliRunner().invoke(cli, ["-q", "export", "-r", sandbox["CKAN_URL"], "--org", first.org["name"],
                                      "--org", second.org["title"], "-o", str(workbook)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output == (f"Exported 3 datasets and 6 resources ({first.org['name']}, {second.org['name']}) "
                             f"to {workbook}\n")
    import openpyxl

    wb = openpyxl.load_workbook(workbook)
    contacts = wb["Contacts"]
    cols = {c.value: c.column for c in contacts[2]}
    replaced = 0
    for row in range(3, contacts.max_row + 1):
        if contacts.cell(row, cols["email"]).value == "alex@example.invalid":
            contacts.cell(row, cols["name"]).value = "Robin Successor"
            contacts.cell(row, cols["email"]).value = "robin.successor@example.invalid"
            replaced += 1
    assert replaced == 3
    wb.save(workbook)
    shown = CliRunner().invoke(cli, ["plan", str(workbook)]).output
    assert shown.count("Contacts #1 removed (Alex Sample") == 3 and shown.count("Contacts #1 added (Robin") == 3
    done = apply(workbook, sandbox)
    assert done.exit_code == 0, done.output
    rows = report(workbook)
    assert sorted(r["status"] for r in rows) == ["applied"] * 3
    for org, i in ((first, 0), (first, 1), (second, 0)):
        contact = org.show(i)["contacts"][0]
        assert (contact["name"], contact["email"]) == ("Robin Successor", "robin.successor@example.invalid")
