"""Issue 20 item 9: the check page as a new editor reads it: a warning shows as one (not a green 'No
problems'), and removals and list changes are said in words (who is removed, which resource), not
as ids or JSON."""
from __future__ import annotations

import html
import re

import pytest
from browser import available
from test_apply import Org, edit
from test_web import browser, password  # noqa: F401  (the browser fixture)
from test_web_access import AXE, Session, _wait, serious, upload

pytestmark = pytest.mark.sandbox


def _text(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, element_id
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def test_a_warning_is_visible_and_changes_are_said_in_words(sandbox, tmp_path, browser):  # noqa: F811
    org = Org(sandbox, 2)
    p0, p1 = org.packages
    report = p0["resources"][1]
    edited = edit(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", [
        ("Contacts", f"{p1['name']}|1", "email", "jordan.example@gov"),
        ("Resources", report["id"], "remove", "remove"),
    ])
    editor = Session(sandbox["CKAN_URL"]).login(sandbox["CKAN_EDITOR_USER"])
    run_id = upload(editor, org.org["name"], edited.read_bytes(), "edited.xlsx")
    base = f"/organization/{org.org['name']}/bulk/{run_id}"
    _wait(editor, base, "checked")
    page = editor.send(base)[1]
    box = re.search(r'id="check-summary" class="alert ([\w-]+)"', page).group(1)
    assert box == "alert-warning"
    assert _text(page, "check-summary").startswith("Nothing stops these changes, but look at the warnings below first")
    start = page.index('id="plan"')
    assert "Nothing here stops the changes; where a warning is not what you meant" in page
    plan = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[start:page.find("<form", start)])).split())
    assert f"Resource '{report['name']}' removed" in plan
    assert "Contacts #1 Email alex@example.invalid jordan.example@gov" in plan
    assert "resources[" not in plan and '{"' not in plan
    if available():  # and as a person sees it, screenshot kept with the other steps
        seen = browser()
        seen.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
        seen.go(base)
        assert "look at the warnings below first" in seen.text("#check-summary")
        seen.shot("check-with-a-warning-and-a-removal")
        if AXE.exists():
            assert serious(seen) == []  # the warning's colours too
