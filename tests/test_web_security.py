"""Issue 19: an editor's workbook cannot make the catalogue's server read one of its own files.

Through the browser, as an editor: new resources whose URLs name files on the server (a path, file:,
~/..., ..\\.., a UNC path) are each a problem in their cell; nothing is uploaded, and the server's
file (made by this test, its access time set in the past) is never opened."""
from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest
from browser import Browser, available
from conftest import NEW_RESOURCE, put_row
from test_apply import Org
from test_security import secret_file, server_paths
from test_web import SHOTS, password, set_cells

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not available(), reason="needs chromium and chromium-driver")]


def test_a_workbook_naming_server_files_is_refused_cell_by_cell_and_no_file_is_read(sandbox, tmp_path):
    org = Org(sandbox, 1)
    pkg = org.packages[0]
    secret = secret_file(tmp_path)
    urls = server_paths(secret)
    exported = org.export(tmp_path / "exported.xlsx")
    wb = openpyxl.load_workbook(exported)
    rows = [put_row(wb["Resources"], dict(NEW_RESOURCE, package_name=pkg["name"], name=f"Attempt {i}", url=url))
            for i, url in enumerate(urls)]
    letter = next(c.column_letter for c in wb["Resources"][2] if c.value == "url")
    hostile = tmp_path / "hostile.xlsx"
    wb.save(hostile)

    editor = Browser(sandbox["CKAN_URL"], tmp_path / "downloads", SHOTS)
    try:
        editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
        editor.go(f"/organization/{org.org['name']}/bulk")
        editor.upload(hostile)
        editor.wait_for(lambda: "must be fixed" in editor.text("#check-summary"), "the check")
        problems = editor.text("#problems-table")
        for row in rows:
            assert f"Resources, row {row}, column {letter}" in problems, problems
        assert problems.count("must be a web address starting with https://") == len(urls)
        assert "is a file path, not a web address" in problems
        assert "points to a file on a computer or network share" in problems
        assert "does not look like a web address" not in problems  # said once, as an error
        assert "changed in the catalogue since" not in editor.text("#plan ~ div")  # new rows: nothing was there
        assert not editor.driver.find_elements("css selector", "#apply-button")  # nothing to send
        editor.shot("server-files-refused")
    finally:
        editor.close()
    assert [r["name"] for r in org.show(0)["resources"]] == ["Layer", "Report"]  # nothing uploaded
    assert os.stat(secret).st_atime == 946684800  # the server never opened the file
    assert not list(Path(sandbox.get("CKAN_STORAGE", "/nonexistent")).glob("**/*secret*"))


def test_html_in_a_filename_or_a_title_is_shown_as_text_never_run(sandbox, tmp_path):
    """A workbook named, and a title typed, as markup: the check page, the history and the report show
    them as the characters typed; no element of theirs reaches the page."""
    from test_web_access import Session, _wait, upload

    org = Org(sandbox, 1)
    title = f'<script>document.title="pwned"</script> Title {org.org["name"]}'  # titles are unique catalogue-wide
    edited = set_cells(org.export(tmp_path / "org.xlsx"), tmp_path / "edited.xlsx", {(3, "title"): title})
    editor = Session(sandbox["CKAN_URL"]).login(sandbox["CKAN_EDITOR_USER"])
    filename = '<img src=x onerror=alert(1)>.xlsx'
    run_id = upload(editor, org.org["name"], edited.read_bytes(), filename)
    base = f"/organization/{org.org['name']}/bulk/{run_id}"
    _wait(editor, base, "checked")
    pages = {"check": editor.send(base)[1], "history": editor.send(f"/organization/{org.org['name']}/bulk")[1]}
    assert editor.send(f"{base}/apply", {})[0] == 302
    _wait(editor, base, "done")
    pages["report"] = editor.send(base)[1]
    for name, page in pages.items():
        assert "<img src=x" not in page and "<script>document.title" not in page, name
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, name  # the filename, as typed
    assert "&lt;script&gt;document.title=" in pages["check"] and "&lt;script&gt;" in pages["report"]
    assert org.show(0)["title"] == title  # stored as typed: it is the catalogue's to escape wherever it shows it
