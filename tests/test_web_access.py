"""Issue 19: who may do what, as a matrix (every route x signed out, member of another organization,
member, editor, admin, sysadmin); another organization's runs are not found; no POST without CSRF;
every page of the extension has no serious or critical accessibility violation (axe-core in
Chromium); and the round trip can be walked with the keyboard alone."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, available, keep
from test_apply import Org
from test_web import SHOTS, password, set_cells

pytestmark = [pytest.mark.sandbox]
AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
ROLES = ("anonymous", "outsider", "member", "editor", "admin", "sysadmin")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:  # a redirect is an answer to look at, not to follow
        return None


class Session:
    """One person's cookies, over plain HTTP: what the server answers them, redirects not followed.
    (CKAN sends its session cookie with an empty Domain=, which Python's cookiejar drops; browsers keep it.)"""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def open(self, request: urllib.request.Request) -> tuple[int, str, Any]:
        """(status, body, headers) of a request sent with this person's cookies."""
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with self.opener.open(request, timeout=60) as answer:
                status, body, headers = answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as exc:
            status, body, headers = exc.code, exc.read(), exc.headers
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, body.decode("utf-8", "replace"), headers

    def send(self, path: str, data: dict[str, str] | None = None, csrf: bool = True) -> tuple[int, str]:
        """(status, body) of a GET, or of a POST of ``data`` (with the CSRF token unless ``csrf`` is off)."""
        body = None
        if data is not None:
            fields = dict(data, _csrf_token=self.token()) if csrf else dict(data)
            body = urllib.parse.urlencode(fields).encode()
        status, text, _ = self.open(urllib.request.Request(self.base + path, data=body))
        return status, text

    def token(self) -> str:
        _, page = self.send("/dataset")
        return re.search(r'<meta name="_csrf_token" content="([^"]+)"', page).group(1)

    def login(self, user: str) -> Session:
        status, _ = self.send("/user/login", {"login": user, "password": password(user)})
        assert status in (302, 303), f"{user} could not sign in ({status})"
        return self


@pytest.fixture(scope="module")
def world(sandbox: dict[str, str]) -> dict[str, Any]:
    """An organization with a done run (a report and an undo workbook), and a person in every role."""
    org = Org(sandbox, 2)
    other = Org(sandbox, 1)
    run = uuid.uuid4().hex[:6]
    users = {"editor": sandbox["CKAN_EDITOR_USER"], "admin": sandbox["CKAN_ADMIN_USER"],
             "sysadmin": "sandbox_sysadmin", "member": f"member-{run}", "outsider": f"outsider-{run}"}
    for role in ("member", "outsider"):
        org.sysadmin.action.user_create(name=users[role], email=f"{users[role]}@example.invalid",
                                        password=password(users[role]))
    org.sysadmin.action.organization_member_create(id=org.org["id"], username=users["member"], role="member")
    org.sysadmin.action.organization_member_create(id=org.org["id"], username=users["admin"], role="admin")
    org.sysadmin.action.organization_member_create(id=other.org["id"], username=users["outsider"], role="editor")
    return {"org": org, "other": other, "users": users, "url": sandbox["CKAN_URL"]}


def _done_run(world: dict[str, Any], tmp_path: Path, org: Org) -> str:
    """A run of ``org`` applied by its editor, through the pages; its id."""
    editor = Session(world["url"]).login(world["users"]["editor"])
    exported = org.export(tmp_path / f"{org.org['name']}.xlsx")
    edited = set_cells(exported, tmp_path / f"{org.org['name']}-edited.xlsx",
                       {(3, "purpose"): f"Matrix {uuid.uuid4().hex[:6]}"})
    run_id = upload(editor, org.org["name"], edited.read_bytes(), "edited.xlsx")
    base = f"/organization/{org.org['name']}/bulk/{run_id}"
    _wait(editor, base, "checked")
    assert editor.send(f"{base}/apply", {})[0] == 302
    _wait(editor, base, "done")
    return run_id


def upload(session: Session, org_name: str, data: bytes, filename: str) -> str:
    """Upload a workbook through the form's POST (a filename of one's choosing); the new run's id."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n{session.token()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"workbook\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{session.base}/organization/{org_name}/bulk/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    status, text, headers = session.open(request)
    location = headers.get("Location") or f"{status} {text[:300]}"
    assert "/bulk/" in location, location
    return location.rstrip("/").rsplit("/", 1)[-1]


def _wait(session: Session, base: str, state: str) -> None:
    import time

    for _ in range(240):
        if json.loads(session.send(f"{base}/status")[1])["state"] == state:
            return
        time.sleep(0.5)
    raise AssertionError(f"{base} never reached {state}")


# route -> (method, path template, who may: the lowest role that gets the page)
ROUTES = {
    "bulk page": ("GET", "/organization/{org}/bulk", "editor"),
    "download": ("GET", "/organization/{org}/bulk/download", "editor"),
    "run page": ("GET", "/organization/{org}/bulk/{run}", "editor"),
    "run status": ("GET", "/organization/{org}/bulk/{run}/status", "editor"),
    "report": ("GET", "/organization/{org}/bulk/{run}/report", "editor"),
    "undo workbook": ("GET", "/organization/{org}/bulk/{run}/undo", "editor"),
    "plan": ("GET", "/organization/{org}/bulk/{run}/plan", "editor"),
    "apply again": ("POST", "/organization/{org}/bulk/{run}/apply", "editor"),
    "resume": ("POST", "/organization/{org}/bulk/{run}/resume", "editor"),
    "inventory page": ("GET", "/organization/{org}/bulk/inventory", "admin"),
    "prepare inventory": ("POST", "/organization/{org}/bulk/prepare?what=inventory", "admin"),
    "site inventory": ("GET", "/ckan-admin/bulk/inventory", "sysadmin"),
}
RANK = {role: i for i, role in enumerate(ROLES)}


def _expected(role: str, lowest: str) -> set[int]:
    if role == "anonymous":
        return {302}  # to the login page
    if RANK[role] >= RANK[lowest]:
        return {200, 302}  # the page, or (a POST) back to the run's page
    return {403}


def test_every_route_answers_every_role_as_it_should(world, tmp_path):
    org = world["org"]
    run_id = _done_run(world, tmp_path, org)
    sessions = {role: Session(world["url"]) if role == "anonymous" else Session(world["url"]).login(world["users"][role])
                for role in ROLES}
    got, wanted = {}, {}
    for name, (method, template, lowest) in ROUTES.items():
        path = template.format(org=org.org["name"], run=run_id)
        for role, session in sessions.items():
            data = ({"what": "inventory"} if "prepare" in name else {}) if method == "POST" else None
            status, _ = session.send(path.split("?")[0], data)
            got[(name, role)] = status
            wanted[(name, role)] = _expected(role, lowest)
    wrong = {k: (got[k], sorted(wanted[k])) for k in got if got[k] not in wanted[k]}
    assert wrong == {}, wrong
    # an undo is for admins: an editor is refused, an admin gets its check
    path = f"/organization/{org.org['name']}/bulk/{run_id}/undo"
    assert sessions["editor"].send(path, {})[0] == 403
    assert sessions["admin"].send(path, {})[0] == 302


def test_another_organizations_runs_and_files_are_not_found_and_no_post_goes_without_csrf(world, tmp_path):
    org, other = world["org"], world["other"]
    theirs = _done_run(world, tmp_path, other)
    admin = Session(world["url"]).login(world["users"]["admin"])  # an admin of org, not of other
    for suffix in ("", "/status", "/report", "/undo", "/plan", "/workbook"):
        status, _ = admin.send(f"/organization/{org.org['name']}/bulk/{theirs}{suffix}")
        assert status == 404, (suffix, status)  # asked under their own organization: no such run
    for suffix in ("/apply", "/resume", "/undo"):
        assert admin.send(f"/organization/{org.org['name']}/bulk/{theirs}{suffix}", {})[0] == 404
    editor = Session(world["url"]).login(world["users"]["editor"])
    for path in (f"/organization/{org.org['name']}/bulk/upload", f"/organization/{org.org['name']}/bulk/prepare",
                 f"/organization/{org.org['name']}/bulk/{theirs}/apply", "/ckan-admin/bulk/inventory"):
        assert editor.send(path, {"what": "export"}, csrf=False)[0] == 400, path


# --- accessibility ------------------------------------------------------------------------------

def serious(browser: Browser) -> list[str]:
    """axe-core's serious and critical violations of WCAG 2.1 A/AA on the page, as 'rule: element'."""
    browser.driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))));")
    return [f"{v['id']}: {n}" for v in result if v["impact"] in ("serious", "critical") for n in v["nodes"]]


@pytest.mark.skipif(not available() or not AXE.exists(), reason="needs chromium and axe-core (tests/run.sh installs them)")
def test_every_page_of_the_extension_has_no_serious_accessibility_violation(world, sandbox, tmp_path):
    org = world["org"]
    run_id = _done_run(world, tmp_path, org)
    admin = Browser(sandbox["CKAN_URL"], tmp_path / "admin", None)
    found: dict[str, list[str]] = {}
    try:
        admin.login(world["users"]["admin"], password(world["users"]["admin"]))
        baseline = "/organization/" + org.org["name"]  # CKAN's own page, for comparison
        pages = {"CKAN's organization page": baseline, "bulk page": f"{baseline}/bulk",
                 "report": f"/organization/{org.org['name']}/bulk/{run_id}",
                 "inventory page": f"{baseline}/bulk/inventory"}
        for name, path in pages.items():
            admin.go(path)
            found[name] = serious(admin)
        admin.driver.execute_script("document.body.insertAdjacentHTML('beforeend', '<input type=file id=unlabelled>')")
        assert any(v.startswith("label: #unlabelled") for v in serious(admin))  # the check sees what it should
        exported = org.export(tmp_path / "a11y.xlsx")
        broken = set_cells(exported, tmp_path / "broken.xlsx", {(3, "security_class"): "Secret"})
        admin.go(f"{baseline}/bulk")
        admin.upload(broken)
        found["checking"] = serious(admin)
        admin.wait_for(lambda: admin.text("#check-summary"), "the check", timeout=120)
        found["check with a problem"] = serious(admin)
        admin.go(f"{baseline}/bulk")
        admin.click("#inventory-button")
        found["preparing"] = serious(admin)
        admin.wait_for(lambda: "Ready" in admin.text("#report-summary"), "the inventory", timeout=120)
        found["inventory ready"] = serious(admin)
        admin.go(f"{baseline}/bulk/download?suborgs=on")  # a workbook prepared by a job: its page
        found["prepare a workbook"] = serious(admin)
        other = world["other"].export(tmp_path / "other.xlsx")
        admin.go(f"{baseline}/bulk")
        admin.upload(other)  # another organization's workbook: refused, and said why
        admin.wait_for(lambda: "Not taken" in admin.text("#check-summary"), "the refusal", timeout=120)
        found["refused upload"] = serious(admin)
    finally:
        admin.close()
    sysadmin = Browser(sandbox["CKAN_URL"], tmp_path / "sysadmin", None)
    try:
        sysadmin.login("sandbox_sysadmin", password("sandbox_sysadmin"))
        sysadmin.go("/ckan-admin/bulk/inventory")
        found["catalogue inventory"] = serious(sysadmin)
    finally:
        sysadmin.close()
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.skipif(not available(), reason="needs chromium and chromium-driver")
def test_the_round_trip_can_be_walked_with_the_keyboard_alone(world, sandbox, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    org = world["org"]
    editor = Browser(sandbox["CKAN_URL"], tmp_path / "keys", SHOTS / "keyboard")
    try:
        editor.login(world["users"]["editor"], password(world["users"]["editor"]))
        editor.go(f"/organization/{org.org['name']}/bulk")

        def tab_to(element_id: str, limit: int = 80) -> None:
            for _ in range(limit):
                if editor.driver.execute_script("return document.activeElement && document.activeElement.id") \
                        == element_id:
                    return
                ActionChains(editor.driver).send_keys(Keys.TAB).perform()
            raise AssertionError(f"#{element_id} cannot be reached with Tab")

        tab_to("download-button")
        before = set(editor.downloads.iterdir())
        ActionChains(editor.driver).send_keys(Keys.ENTER).perform()
        editor.wait_for(lambda: [p for p in set(editor.downloads.iterdir()) - before
                                 if p.suffix == ".xlsx"], "the download")
        exported = keep(next(p for p in editor.downloads.iterdir() if p.suffix == ".xlsx"), tmp_path / "k.xlsx")
        edited = set_cells(exported, tmp_path / "keyboard.xlsx", {(3, "purpose"): f"Keys {uuid.uuid4().hex[:6]}"})
        tab_to("workbook")  # the file chooser, focused by Tab: the path typed, as a screen reader user does
        editor.driver.switch_to.active_element.send_keys(str(edited))
        tab_to("upload-button")
        ActionChains(editor.driver).send_keys(Keys.ENTER).perform()
        editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check", timeout=120)
        tab_to("apply-button")
        ActionChains(editor.driver).send_keys(Keys.ENTER).perform()
        editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the apply", timeout=120)
        tab_to("report-link")
        before = set(editor.downloads.iterdir())
        ActionChains(editor.driver).send_keys(Keys.ENTER).perform()
        editor.wait_for(lambda: [p for p in set(editor.downloads.iterdir()) - before
                                 if p.name.endswith(".report.xlsx")], "the report download")
        editor.shot("walked-with-the-keyboard")
    finally:
        editor.close()
