"""Issue 11: removing a resource, a list entry or a dataset, only by an explicit mark in the
Remove? column, end to end against the sandbox: plan, apply, report, undo, rerun."""
from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner
from test_apply import Org, apply, edit, report

import bcdc_bulk as bb
from bcdc_bulk.calls import plan_calls
from bcdc_bulk.cli import cli
from bcdc_bulk.wording import Wording


def _delete_row(path: Path, sheet: str, key: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    col = next(c.column for c in ws[2] if c.value == "id")
    ws.delete_rows(next(r for r in range(3, ws.max_row + 1) if ws.cell(r, col).value == key))
    wb.save(path)


def test_removal_by_mark_end_to_end(sandbox, tmp_path):
    org = Org(sandbox, 5)
    p0, p1, p2, p3, p4 = org.packages
    for state in ("PENDING PUBLISH", "PUBLISHED"):  # p3 is published: an editor may not remove it
        org.sysadmin.action.package_patch(id=p3["id"], publish_state=state)
    report_id = p0["resources"][1]["id"]
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "marked.xlsx", [
        ("Resources", report_id, "remove", "remove"),
        ("Related Links", f"{p1['name']}|1", "remove", "remove"),
        ("Datasets", p2["id"], "remove", "remove"),
        ("Datasets", p3["id"], "remove", "remove"),
    ])
    _delete_row(edited, "Resources", p4["resources"][0]["id"])  # a deleted row, no mark: nothing is removed

    plan = bb.check(edited).plan
    words = Wording(plan.converters, "", plan.labels)
    said = {r.name: [words.describe(c, r) for c in r.changes] for r in plan.records}
    assert said[p0["name"]] == ["Resource 'Report' removed"]
    assert len(said[p1["name"]]) == 1
    assert said[p1["name"]][0].startswith(f"Related Links #1 removed ({p1['more_info'][0]['url']}")
    assert said[p2["name"]] == said[p3["name"]] == ["The dataset removed"]
    assert sorted(c.action for c in plan_calls(plan)) == ["package_delete", "package_delete", "package_revise",
                                                          "resource_delete"]
    assert any(n.record.startswith(p4["name"]) and "deleted from the workbook" in n.message for n in plan.ignored)
    shown = CliRunner().invoke(cli, ["plan", str(edited)]).output
    assert f"Remove a resource of '{p0['title']}' ({p0['name']}), Resources row" in shown
    assert "\n    Resource 'Report' removed\n" in shown

    result = apply(edited, sandbox)
    assert result.exit_code == 3, result.output  # p3 cannot be removed by an editor
    rows = {(r["sheet"], r["dataset"]): r for r in report(edited)}

    assert {k: (r["action"], r["status"]) for k, r in rows.items()} == {
        ("Resources", p0["name"]): ("remove", "removed"), ("Related Links", p1["name"]): ("update", "applied"),
        ("Datasets", p2["name"]): ("remove", "removed"), ("Datasets", p3["name"]): ("remove", "invalid")}
    assert "an editor may remove Drafts only" in rows[("Datasets", p3["name"])]["message"]
    assert [r["name"] for r in org.show(0)["resources"]] == ["Layer"]
    assert org.show(1).get("more_info") in (None, [], "")
    assert (org.show(1)["title"], org.show(1)["contacts"]) == (p1["title"], p1["contacts"])  # the rest kept
    assert org.show(2)["state"] == "deleted"
    assert org.show(3)["state"] == "active" and len(org.show(4)["resources"]) == 2

    again = apply(edited, sandbox)  # a rerun writes nothing
    assert {r["status"] for r in report(edited) if r["dataset"] != p3["name"]} == {"unchanged"}, again.output

    undo = next(tmp_path.glob("marked.undo-*.xlsx"))
    restored = apply(undo, sandbox)
    assert restored.exit_code == 0, restored.output
    assert [r["name"] for r in org.show(0)["resources"]] == ["Layer", "Report"]
    assert org.show(1)["more_info"] == p1["more_info"]
