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


def test_export_mine_gathers_what_i_may_edit_across_organizations(sandbox, tmp_path):
    """An editor's drafts, wherever they are: `export --mine [--state draft]` writes the records of every
    organization where the user is an editor or admin, and the workbook applies back as any export."""
    import uuid

    import ckanapi
    import openpyxl

    first, second, other = Org(sandbox, 2), Org(sandbox, 1), Org(sandbox, 1)
    name = f"mine-{uuid.uuid4().hex[:8]}"
    admin = first.sysadmin
    admin.action.user_create(name=name, email=f"{name}@example.invalid", password=f"Pw-{name}-1234567")
    token = admin.action.api_token_create(user=name, name="test")["token"]
    admin.action.organization_member_create(id=first.org["id"], username=name, role="editor")
    admin.action.organization_member_create(id=second.org["id"], username=name, role="admin")
    for state in ("PENDING PUBLISH", "PUBLISHED"):
        admin.action.package_patch(id=second.packages[0]["id"], publish_state=state)
    env = {"BCDC_API_KEY": token}
    runner = CliRunner()
    mine = tmp_path / "mine.xlsx"
    result = runner.invoke(cli, ["-q", "export", "-r", sandbox["CKAN_URL"], "--mine", "-o", str(mine)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Exported 3 datasets and 6 resources (")
    names = {r[0] for r in openpyxl.load_workbook(mine)["Datasets"].iter_rows(min_row=3, values_only=True)}
    assert names == {p["name"] for p in first.packages + second.packages}
    assert not names & {p["name"] for p in other.packages}
    drafts = tmp_path / "drafts.xlsx"
    result = runner.invoke(cli, ["-q", "export", "-r", sandbox["CKAN_URL"], "--mine", "--state", "draft",
                                 "-o", str(drafts)], env=env)
    assert result.exit_code == 0, result.output
    names = {r[0] for r in openpyxl.load_workbook(drafts)["Datasets"].iter_rows(min_row=3, values_only=True)}
    assert names == {p["name"] for p in first.packages}
    wb = openpyxl.load_workbook(drafts)
    ws = wb["Datasets"]
    col = next(c.column for c in ws[2] if c.value == "purpose")
    ws.cell(3, col).value = "Edited from my drafts"
    wb.save(drafts)
    done = runner.invoke(cli, ["-q", "apply", str(drafts), "-r", sandbox["CKAN_URL"]], env=env)
    assert done.exit_code == 0, done.output
    edited = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=token).action.package_show(id=ws.cell(3, 1).value)
    assert edited["purpose"] == "Edited from my drafts"
    wrong = runner.invoke(cli, ["export", "-r", sandbox["CKAN_URL"], "--mine", "--state", "finished",
                                "-o", str(tmp_path / "x.xlsx")], env=env)
    assert wrong.exit_code == 1 and "--state 'finished' is not a state of this catalogue; use one of: Draft" \
        in wrong.output
    neither = runner.invoke(cli, ["export", "-r", sandbox["CKAN_URL"], "-o", str(tmp_path / "y.xlsx")], env=env)
    assert neither.exit_code == 2 and "give --org (one or more), or --mine" in neither.output


def test_two_state_moves_in_one_workbook_follow_what_the_catalogue_holds_now(sandbox, tmp_path):
    """Draft -> Pending Publish applied, then Pending Publish -> Published in the same workbook: the
    second step is judged against the catalogue now (the journal knows the workbook wrote the first),
    not against the export; a record someone else wrote since keeps the export as its baseline, so
    their change is a conflict and is not overwritten."""
    from test_apply import edit

    org = Org(sandbox, 2)
    org.sysadmin.action.organization_member_create(id=org.org["id"], username=sandbox["CKAN_ADMIN_USER"],
                                                   role="admin")
    mine, theirs = org.packages
    workbook = org.export(tmp_path / "states.xlsx")
    edit(workbook, workbook, [("Datasets", p["id"], "publish_state", "Pending Publish") for p in (mine, theirs)])
    done = apply(workbook, sandbox, role="ADMIN")
    assert done.exit_code == 0, done.output
    assert {org.show(i)["publish_state"] for i in (0, 1)} == {"PENDING PUBLISH"}
    org.sysadmin.action.package_patch(id=theirs["id"], purpose="A colleague's purpose.")  # someone else, since
    edit(workbook, workbook, [("Datasets", p["id"], "publish_state", "Published") for p in (mine, theirs)])
    runner, env = CliRunner(), {"BCDC_API_KEY": sandbox["CKAN_ADMIN_TOKEN"]}
    offline = runner.invoke(cli, ["validate", str(workbook)])
    assert "Note: This workbook was applied before (its journal is beside it)" in offline.output
    checked = runner.invoke(cli, ["validate", str(workbook), "-r", sandbox["CKAN_URL"]], env=env)
    assert ("Note: This workbook was applied before: the record it changed then is compared with what the "
            "catalogue holds now, so you can go on editing it here.") in checked.output
    assert (f"Note: Someone else has changed records this workbook changed when it was applied, so they are still "
            f"compared with the export and their new values show as conflicts: {theirs['name']}.") in checked.output
    # the followed record moves on; the other is still judged from the export (Draft)
    assert checked.output.count("State: a record cannot move from DRAFT to PUBLISHED") == 1, checked.output
    done = apply(workbook, sandbox, role="ADMIN")
    assert done.exit_code == 3, done.output
    assert org.show(0)["publish_state"] == "PUBLISHED"
    stored = org.show(1)
    assert (stored["publish_state"], stored["purpose"]) == ("PENDING PUBLISH", "A colleague's purpose.")
    statuses = {r["dataset"]: r["status"] for r in report(workbook) if r.get("dataset")}
    assert statuses[mine["name"]] == "applied" and statuses[theirs["name"]] == "invalid"


def test_fix_applied_then_undone_keeps_the_values_the_catalogue_no_longer_takes(sandbox, tmp_path):
    """`fix` against the catalogue: the certain fixes typed in, reviewed and applied beside an edit;
    then the undo workbook: it notes on their cells the older values it would put back, puts back the
    edit, and reports those values as kept (not as invalid rows, and not half-undone silently)."""
    import json
    import random
    import subprocess
    import uuid

    import openpyxl
    from conftest import SANDBOX
    from generate import make_package
    from test_apply import edit

    org = Org(sandbox, 0)
    org.sysadmin.action.organization_member_create(id=org.org["id"], username=sandbox["CKAN_ADMIN_USER"],
                                                   role="admin")
    pkg = make_package(random.Random(uuid.uuid4().int), 3, org.org, publish_state="DRAFT")
    pkg.update(name=f"older-{uuid.uuid4().hex[:8]}", security_class="LOW-PUBLIC", organization=org.org)
    pkg["resources"] = pkg["resources"][:1]
    pkg["resources"][0]["format"] = "CSV"
    seed = tmp_path / "older.jsonl"
    seed.write_text(json.dumps(pkg) + "\n")
    subprocess.run(["python3", str(SANDBOX / "seed.py"), str(seed)], check=True, env={
        "CKAN_URL": sandbox["CKAN_URL"], "CKAN_SYSADMIN_TOKEN": sandbox["CKAN_SYSADMIN_TOKEN"], "PATH": "/usr/bin:/bin"})
    runner, env = CliRunner(), {"BCDC_API_KEY": sandbox["CKAN_ADMIN_TOKEN"]}
    exported = tmp_path / "older.xlsx"
    assert runner.invoke(cli, ["-q", "export", "-r", sandbox["CKAN_URL"], "--org", org.org["name"], "-o",
                               str(exported)], env=env).exit_code == 0
    fixed = tmp_path / "fixed.xlsx"
    shown = runner.invoke(cli, ["fix", str(exported), "-o", str(fixed)])
    assert shown.exit_code == 0, shown.output
    assert "Security Classification: 'LOW-PUBLIC' -> 'Public'" in shown.output
    assert "Resource Storage Format: 'CSV' -> 'csv'" in shown.output
    edit(fixed, fixed, [("Datasets", pkg["id"], "purpose", "Purpose set beside the fixes.")])
    done = apply(fixed, sandbox, role="ADMIN")
    assert done.exit_code == 0, done.output
    now = org.sysadmin.action.package_show(id=pkg["id"])
    assert (now["security_class"], now["resources"][0]["format"], now["purpose"]) == (
        "PUBLIC", "csv", "Purpose set beside the fixes.")
    [undo] = tmp_path.glob("fixed.undo-*.xlsx")
    wb = openpyxl.load_workbook(undo)
    ds = wb["Datasets"]
    cols = {c.value: c.column for c in ds[2]}
    cell = ds.cell(3, cols["security_class"])
    assert cell.value == "LOW-PUBLIC" and "older form that it no longer takes" in cell.comment.text
    planned = runner.invoke(cli, ["plan", str(undo)]).output
    assert "Kept: Datasets row 3: " in planned and "not put back: Security Classification: 'LOW-PUBLIC'" in planned
    undone = apply(undo, sandbox, role="ADMIN")
    assert undone.exit_code == 3, undone.output  # not all of it could be put back: said, not hidden
    now = org.sysadmin.action.package_show(id=pkg["id"])
    assert (now["security_class"], now["resources"][0]["format"], now["purpose"]) == (
        "PUBLIC", "csv", pkg["purpose"])
    rows = report(undo)
    assert sorted(r["status"] for r in rows) == ["applied", "kept", "kept"]
    kept = {r["sheet"]: r["message"] for r in rows if r["status"] == "kept"}
    assert kept["Datasets"].startswith("not put back: Security Classification: 'LOW-PUBLIC' is a value of the "
                                       "catalogue's older form that it no longer takes")
    assert kept["Datasets"].endswith("the catalogue keeps 'Public'")
    assert kept["Resources"].startswith("not put back: Resource Storage Format: 'CSV' should be written 'csv'")
