"""Issue 14: the web extension in the catalogue's own pages, driven through a real browser (Debian's
headless Chromium) against the sandbox with the plugin enabled and a job worker running.

Screenshots of every step land in tests/look/out/web/ (looked at, and the README's pictures)."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from browser import Browser, available, keep
from conftest import columns
from test_apply import Org

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not available(), reason="needs chromium and chromium-driver")]
SHOTS = Path(__file__).parent / "look" / "out" / "web"


def password(user: str) -> str:
    return f"Sandbox-{user}-pw1"


@pytest.fixture(scope="module")
def org(sandbox: dict[str, str]) -> Org:
    found = Org(sandbox, 3)
    found.sysadmin.action.organization_member_create(id=found.org["id"], username=sandbox["CKAN_ADMIN_USER"],
                                                     role="admin")
    return found


@pytest.fixture
def browser(sandbox: dict[str, str], tmp_path: Path):
    opened: list[Browser] = []

    def make(shots: bool = True) -> Browser:
        b = Browser(sandbox["CKAN_URL"], tmp_path / f"downloads-{len(opened)}", SHOTS if shots else None)
        opened.append(b)
        return b
    yield make
    for b in opened:
        b.close()


def set_cells(path: Path, out: Path, edits: dict[tuple[int, str], Any]) -> Path:
    """Type values into the Datasets sheet: (row, field name) -> value, as a person does in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    cols = columns(ws)
    for (row, field), value in edits.items():
        ws.cell(row, cols[field]).value = value
    wb.save(out)
    return out


def test_an_editor_downloads_edits_uploads_fixes_applies_and_an_admin_undoes(org, browser, sandbox, tmp_path):
    editor = browser()
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{org.org['name']}")
    editor.click_link("Bulk edit")
    assert "Download for bulk editing" in editor.text() and "Upload edited workbook" in editor.text()
    editor.shot("org-page")

    exported = keep(editor.download("#download-button"), tmp_path / "exported.xlsx")
    purpose = f"Edited in the browser {uuid.uuid4().hex[:6]}"
    broken = set_cells(exported, tmp_path / "edited.xlsx", {(3, "purpose"): purpose, (4, "security_class"): "Secret"})
    editor.upload(broken)
    editor.wait_for(lambda: "must be fixed" in editor.text("#check-summary"), "the check")
    problems = editor.text("#problems-table")
    assert "Datasets, row 4" in problems and "Secret" in problems, problems
    assert "not sent" in editor.text(".plan-dataset.panel-danger")
    # the error is said once, in the table above; the dataset points to it
    assert ("Not sent: the error listed above (Datasets row 4) stops this dataset; nothing of it is sent until it "
            "is fixed") in editor.text(".plan-dataset.panel-danger")
    assert "is not one of the choices" not in editor.text(".plan-dataset.panel-danger")
    # values read as in the workbook (the form's words), not as the catalogue stores them
    assert "Public" in editor.text(".plan-dataset.panel-danger") and "PUBLIC" not in editor.text("#plan ~ div")
    annotated = keep(editor.download("#annotated-link"), tmp_path / "annotated.xlsx")
    assert "Problems" in openpyxl.load_workbook(annotated).sheetnames
    editor.shot("upload-with-a-problem")

    fixed = set_cells(broken, tmp_path / "fixed.xlsx", {(4, "security_class"): "Public"})
    editor.go(f"/organization/{org.org['name']}/bulk")
    editor.upload(fixed)
    editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check")
    plan = editor.text(".plan-dataset")
    assert "Purpose" in plan and purpose in plan
    editor.shot("plan")

    editor.click("#apply-button")
    editor.wait_for(lambda: editor.driver.find_elements("css selector", "#progress, #report-summary"), "progress")
    editor.shot("progress")
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the apply", timeout=120)
    assert "1 applied" in editor.text("#report-summary")
    assert "applied" in editor.text("#report-table .status")
    editor.shot("report")
    report = keep(editor.download("#report-link"), tmp_path / "report.xlsx")
    assert "Results" in " ".join(openpyxl.load_workbook(report).sheetnames) or report.stat().st_size > 0
    assert org.sysadmin.action.package_show(id=_id_at(exported, 3))["purpose"] == purpose

    editor.go(f"/organization/{org.org['name']}/bulk")
    editor.upload(fixed)  # the same workbook again: nothing left to write
    editor.wait_for(lambda: "No changes" in editor.text("#check-summary"), "the rerun's check")
    assert not editor.driver.find_elements("css selector", "#apply-button")
    editor.shot("rerun-no-changes")

    admin = browser()
    admin.login(sandbox["CKAN_ADMIN_USER"], password(sandbox["CKAN_ADMIN_USER"]))
    admin.go(f"/organization/{org.org['name']}/bulk")
    history = admin.text("#bulk-history")
    assert sandbox["CKAN_EDITOR_USER"] in history and "fixed.xlsx" in history and "1 applied" in history
    admin.shot("history")
    admin.click(".undo-button")
    admin.wait_for(lambda: "undoes an earlier run" in admin.text() and admin.text("#check-summary"), "the undo's check")
    assert purpose in admin.text(".plan-dataset")
    admin.click("#apply-button")
    admin.wait_for(lambda: "Done" in admin.text("#report-summary"), "the undo", timeout=120)
    admin.shot("undone")
    assert org.sysadmin.action.package_show(id=_id_at(exported, 3))["purpose"] != purpose


def _id_at(path: Path, row: int) -> str:
    ws = openpyxl.load_workbook(path)["Datasets"]
    cols = columns(ws)
    return ws.cell(row, cols["id"]).value


def test_an_editor_of_another_organization_gets_403_and_sees_no_tab(org, browser, sandbox):
    other = org.sysadmin.action.organization_create(name=f"web-other-{uuid.uuid4().hex[:6]}", title="Other")
    editor = browser()
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{other['name']}/bulk")
    assert "403" in editor.text() or "Forbidden" in editor.text()
    assert "Only editors and admins" in editor.text()
    editor.shot("another-organization-403")
    editor.go(f"/organization/{other['name']}")
    assert "Bulk edit" not in editor.text(".nav-tabs")


def test_a_signed_out_person_is_sent_to_login(org, browser):
    visitor = browser()
    visitor.go(f"/organization/{org.org['name']}/bulk")
    assert "/user/login" in visitor.driver.current_url
    visitor.shot("signed-out-login")


def test_a_forged_form_without_its_csrf_token_is_refused(org, browser, sandbox, tmp_path):
    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{org.org['name']}/bulk")
    editor.driver.execute_script(
        "document.querySelectorAll('#bulk-upload input[type=hidden]').forEach(function (e) { e.remove(); })")
    exported = keep(editor.download("#download-button"), tmp_path / "exported.xlsx")
    editor.upload(exported)
    editor.wait_for(lambda: "400" in editor.text() or "CSRF" in editor.text(), "the refusal")
    assert "CSRF" in editor.text() and "Bad Request" in editor.text()
    editor.go(f"/organization/{org.org['name']}/bulk")
    assert "exported.xlsx" not in editor.text("#bulk-history")  # nothing was taken


STATE = Path(__file__).parent / "ckan_sandbox" / ".state"


def test_an_apply_survives_its_worker_being_killed_and_writes_each_change_once(browser, sandbox, tmp_path):
    import signal
    import subprocess

    big = Org(sandbox, 60)
    exported = big.export(tmp_path / "big.xlsx")
    edits = {(row, "purpose"): f"Purpose {row} {uuid.uuid4().hex[:4]}" for row in range(3, 63)}
    edited = set_cells(exported, tmp_path / "sixty.xlsx", edits)
    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{big.org['name']}/bulk")
    editor.upload(edited)
    editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check")
    status_url = editor.driver.current_url.rstrip("/") + "/status"
    editor.click("#apply-button")

    def written() -> int:
        return applied_so_far(editor, status_url)
    editor.wait_for(lambda: written() >= 5, "the first writes", timeout=120)
    worker = int((STATE / "worker.pid").read_text())
    horses = subprocess.run(["pgrep", "-P", str(worker)], capture_output=True, text=True).stdout.split()
    assert horses, "the job runs in a work horse the worker forked"
    for pid in [worker, *map(int, horses)]:  # as a machine going down: the worker and the apply in it
        os.kill(pid, signal.SIGKILL)
    killed_at = written()
    time.sleep(1)  # watching for a write that must not come: there is no event to wait for
    assert written() == killed_at  # nothing is writing any more
    subprocess.run(["bash", str(STATE.parent / "start.sh")], check=True, capture_output=True)  # a new worker
    editor.wait_for(lambda: status_of(editor, status_url)["stale"], "the page to see the worker stopped", timeout=60)
    editor.driver.refresh()  # looking starts nothing: the page offers Resume, a POST
    assert "The worker doing this stopped" in editor.text("#stale-note")
    editor.click("#resume-button")
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the resumed apply", timeout=180)
    assert killed_at < 60
    for row, purpose in edits.items():
        assert big.sysadmin.action.package_show(id=_id_at(exported, row[0]))["purpose"] == purpose
    changed = {}  # written once: never two changes in a dataset's activity
    for pkg in big.packages:
        changed[pkg["name"]] = len([a for a in big.sysadmin.action.package_activity_list(id=pkg["id"])
                                    if a["activity_type"] == "changed package"])
    assert max(changed.values()) == 1, changed
    # (a write that committed as the worker died may have lost its activity line, never its change)
    assert sum(changed.values()) >= 60 - 4, changed


def status_of(browser: Any, url: str) -> dict[str, Any]:
    """A run's status as the page polls it, fetched with the browser's own session."""
    import json
    import urllib.request

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.driver.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookies}), timeout=10) as answer:
        return json.loads(answer.read())


def applied_so_far(browser: Any, status_url: str) -> int:
    """How many records a run's apply has done, as its page's progress bar says."""
    status = status_of(browser, status_url)
    return int(status["progress"].get("done", 0)) if status["progress"].get("label") == "Applying" else 0


def ordered_org(sandbox: dict[str, str], n: int) -> Org:
    """An organization whose datasets export in the order they were made (ids chosen in order), so two
    such organizations have the same rows in the same places."""
    from test_validate_corpus import base_package

    org = Org(sandbox, 0)
    run = org.org["name"].rsplit("-", 1)[-1]
    org.packages = [org.sysadmin.action.package_create(id=f"{i:08x}-{str(uuid.uuid4())[9:]}",
                                                       **base_package(org.org["id"], f"p{i}", run)) for i in range(n)]
    return org


def _same_edits(org: Org, tmp_path: Path, name: str) -> Path:
    exported = org.export(tmp_path / f"{name}-exported.xlsx")
    return set_cells(exported, tmp_path / f"{name}.xlsx", {(3, "purpose"): "Same edit", (4, "security_class"): "Secret",
                                                           (5, "purpose"): "Another same edit"})


def _normal(text: str, org: Org) -> str:
    """A report or plan with this organization's run token and ids taken out, to compare two organizations."""
    text = text.replace(org.org["name"].rsplit("-", 1)[-1], "RUN")
    for pkg in org.packages:
        text = text.replace(pkg["id"], "ID")
        for res in pkg.get("resources") or []:
            text = text.replace(res["id"], "RID")
    return text


def test_the_command_line_and_the_extension_give_the_same_plan_and_report(browser, sandbox, tmp_path):

    from click.testing import CliRunner

    from bcdc_bulk.cli import cli

    web_org, cli_org = ordered_org(sandbox, 3), ordered_org(sandbox, 3)
    web_book, cli_book = _same_edits(web_org, tmp_path, "web"), _same_edits(cli_org, tmp_path, "cli")
    env = {"BCDC_API_KEY": sandbox["CKAN_EDITOR_TOKEN"]}
    cli_plan = CliRunner().invoke(cli, ["plan", str(cli_book), "-r", sandbox["CKAN_URL"]], env=env)
    assert cli_plan.exit_code == 3, cli_plan.output  # one row has an error

    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{web_org.org['name']}/bulk")
    editor.upload(web_book)
    editor.wait_for(lambda: "must be fixed" in editor.text("#check-summary"), "the check")
    web_plan = editor.download("a[href$='/plan']").read_text(encoding="utf-8")
    assert _normal(web_plan, web_org) == _normal(cli_plan.output, cli_org)

    editor.click("#apply-button")
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the apply", timeout=120)
    web_report = editor.download("#report-link")
    cli_apply = CliRunner().invoke(cli, ["apply", str(cli_book), "-r", sandbox["CKAN_URL"], "--report",
                                         str(tmp_path / "cli-report.xlsx")], env=env)
    assert cli_apply.exit_code == 3, cli_apply.output
    keys = ("where", "dataset", "resource", "status", "message", "changes", "action", "sheet", "row")

    def rows(path: Path, org: Org) -> list[dict]:
        sheet = openpyxl.load_workbook(path)["Rows"]
        header = [c.value for c in sheet[1]]
        return [{h: _normal(str(v), org) for h, v in zip(header, [c.value for c in row], strict=True) if h in keys}
                for row in sheet.iter_rows(min_row=2)]

    keys = ("Where", "Dataset", "Resource", "Status", "Message", "Changes")
    web_rows, cli_rows = rows(web_report, web_org), rows(tmp_path / "cli-report.xlsx", cli_org)
    assert web_rows == cli_rows and {r["Status"] for r in web_rows} == {"applied", "invalid"}


def test_the_inventory_is_for_admins_of_the_organization_and_the_whole_catalogue_for_sysadmins(org, browser, sandbox):
    admin = browser()
    admin.login(sandbox["CKAN_ADMIN_USER"], password(sandbox["CKAN_ADMIN_USER"]))
    admin.go(f"/organization/{org.org['name']}/bulk")
    assert "Inventory of the whole catalogue" not in admin.text()
    admin.click("#inventory-button")  # prepared by a job: the page follows it, then offers the file
    admin.wait_for(lambda: "Ready" in admin.text("#report-summary"), "the inventory", timeout=120)
    inventory = openpyxl.load_workbook(admin.download("#result-link"))
    assert {"Summary", "Findings", "Datasets"} <= set(inventory.sheetnames)
    names = {c.value for c in inventory["Datasets"]["A"]} | {c.value for c in inventory["Datasets"]["B"]}
    assert all(p["name"] in names for p in org.packages)
    admin.go("/ckan-admin/bulk/inventory")
    assert "Only sysadmins" in admin.text()

    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    editor.go(f"/organization/{org.org['name']}/bulk")
    assert not editor.driver.find_elements("css selector", "#inventory-button")
    editor.go(f"/organization/{org.org['name']}/bulk/inventory")
    assert "Only admins of this organization" in editor.text()

    sysadmin = browser(shots=False)
    sysadmin.login("sandbox_sysadmin", password("sandbox_sysadmin"))
    sysadmin.go(f"/organization/{org.org['name']}/bulk")
    sysadmin.click("#site-inventory-link")
    sysadmin.click("#prepare-button")  # the whole catalogue, in a job: the request returns at once
    sysadmin.wait_for(lambda: (sysadmin.driver.refresh() or True) and sysadmin.driver.find_elements(
        "css selector", ".inventory-link"), "the catalogue's inventory", timeout=240)
    whole = openpyxl.load_workbook(sysadmin.download(".inventory-link"), read_only=True)
    assert {"Summary", "Findings", "Datasets"} <= set(whole.sheetnames)


def test_a_second_apply_to_the_same_organization_waits_for_the_first(browser, sandbox, tmp_path):
    busy = Org(sandbox, 30)
    exported = busy.export(tmp_path / "busy.xlsx")
    first = set_cells(exported, tmp_path / "first.xlsx", {(r, "purpose"): f"First {r}" for r in range(3, 33)})
    second = set_cells(exported, tmp_path / "second.xlsx", {(3, "purpose"): "Second"})
    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    pages = []
    for book in (first, second):
        editor.go(f"/organization/{busy.org['name']}/bulk")
        editor.upload(book)
        editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check")
        pages.append(editor.driver.current_url)
    import signal
    import subprocess

    # the job worker paused, so that the first apply is surely still under way when the second is asked
    # for (thirty datasets apply in a second or two on a fresh sandbox)
    os.kill(int((STATE / "worker.pid").read_text()), signal.SIGSTOP)
    try:
        editor.driver.get(pages[0])
        editor.click("#apply-button")  # the first: waiting for the worker ...
        editor.driver.get(pages[1])
        editor.click("#apply-button")  # ... when the second workbook is applied too, in another tab
        editor.wait_for(lambda: "Not applied" in editor.text(), "the refusal")
    finally:
        os.kill(int((STATE / "worker.pid").read_text()), signal.SIGCONT)
    text = editor.text()
    assert "Not applied" in text and "is applying 'first.xlsx'" in text and "wait until it has finished" in text
    editor.shot("second-apply-refused")
    subprocess.run(["bash", str(STATE.parent / "start.sh")], check=True, capture_output=True)  # a worker, if need be
    editor.driver.get(pages[0])
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the first apply", timeout=180)
    editor.driver.get(pages[1])
    editor.click("#apply-button")  # now it may go
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the second apply", timeout=120)
    # the dataset both workbooks changed is a conflict, not overwritten
    assert "1 conflict" in editor.text("#report-summary")
    assert busy.sysadmin.action.package_show(id=_id_at(exported, 3))["purpose"] == "First 3"



def test_an_upload_that_is_not_a_workbook_of_this_organization_is_refused_in_words(org, browser, sandbox, tmp_path):
    editor = browser(shots=False)
    editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
    ods = tmp_path / "edited.ods"
    ods.write_bytes(b"PK\x03\x04 an OpenDocument spreadsheet")
    editor.go(f"/organization/{org.org['name']}/bulk")
    editor.upload(ods)
    editor.wait_for(lambda: "was not taken" in editor.text(), "the refusal")
    assert "Save As" in editor.text() and "Excel 2007-365 (.xlsx)" in editor.text()
    other = Org(sandbox, 1)
    elsewhere = other.export(tmp_path / "other.xlsx")
    editor.go(f"/organization/{org.org['name']}/bulk")
    editor.upload(elsewhere)
    editor.wait_for(lambda: "was not taken" in editor.text(), "the refusal")
    assert f"exported for {other.org['name']}, not {org.org['name']}" in editor.text()
    editor.shot("upload-refused")


def test_my_drafts_are_prepared_across_organizations_and_applied_back(browser, sandbox, tmp_path):
    """Issue 20: an editor cannot find the drafts they worked on. 'Prepare my drafts' (a POST; a job
    writes it) gives every draft the user may edit, in any organization, in one workbook that is
    uploaded and applied back on the Bulk edit page like any export."""
    first, second = Org(sandbox, 1), Org(sandbox, 2)
    user = f"drafts-{uuid.uuid4().hex[:8]}"
    admin = first.sysadmin
    admin.action.user_create(name=user, email=f"{user}@example.invalid", password=password(user))
    for found in (first, second):
        admin.action.organization_member_create(id=found.org["id"], username=user, role="editor")
    published = second.packages[1]
    for state in ("PENDING PUBLISH", "PUBLISHED"):
        admin.action.package_patch(id=published["id"], publish_state=state)
    editor = browser()
    editor.login(user, password(user))
    editor.go(f"/organization/{first.org['name']}/bulk")
    assert "every draft you may edit, in this and your other organizations" in editor.text("#drafts-help")
    editor.shot("org-page-my-drafts")
    editor.click("#drafts-button")
    editor.wait_for(lambda: "Ready" in editor.text("#report-summary"), "my drafts", timeout=120)
    editor.shot("my-drafts-ready")
    drafts = keep(editor.download("#result-link"), tmp_path / "drafts.xlsx")
    ws = openpyxl.load_workbook(drafts)["Datasets"]
    names = {r[0] for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    assert names == {first.packages[0]["name"], second.packages[0]["name"]}
    cols = columns(ws)
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == second.packages[0]["name"])
    edited = set_cells(drafts, tmp_path / "drafts-edited.xlsx", {(row, "purpose"): "Found among my drafts."})
    assert cols["purpose"]
    editor.go(f"/organization/{first.org['name']}/bulk")
    editor.upload(edited)  # uploaded on one organization's page, it changes a record of the other
    editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check")
    editor.click("#apply-button")
    editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the apply", timeout=120)
    assert "1 applied" in editor.text("#report-summary")
    assert admin.action.package_show(id=second.packages[0]["id"])["purpose"] == "Found among my drafts."
