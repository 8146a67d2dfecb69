"""Issue 13 (first step): the Python API: the README's snippet runs as written, help() documents it."""
from __future__ import annotations

import os
import pydoc
import re
import uuid

import ckanapi
from conftest import ROOT
from test_validate_corpus import base_package

import bcdc_bulk


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_round_trip_runs_against_the_sandbox(sandbox, tmp_path, capsys):
    sysadmin = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    run = uuid.uuid4().hex[:8]
    org = sysadmin.action.organization_create(name=f"api-{run}", title=f"API {run}")
    sysadmin.action.organization_member_create(id=org["id"], username=sandbox["CKAN_EDITOR_USER"], role="editor")
    pkg = sysadmin.action.package_create(**base_package(org["id"], "api", run))
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(readme_snippet(), {"site": sandbox["CKAN_URL"], "key": sandbox["CKAN_EDITOR_TOKEN"],
                                "org": org["name"]})
    finally:
        os.chdir(here)
    assert "{'applied': 1," in capsys.readouterr().out
    assert sysadmin.action.package_show(id=pkg["id"])["purpose"] == "Edited from Python"


def test_help_lists_the_api_with_docstrings():
    text = pydoc.render_doc(bcdc_bulk, renderer=pydoc.plaintext)
    for name in ("connect", "export", "template", "read", "check", "apply", "inventory", "annotate"):
        assert name in bcdc_bulk.__all__
        func = getattr(bcdc_bulk, name)
        assert func.__doc__ and func.__doc__.split("\n")[0] in text, name
    assert "bb.apply(" in text  # the package docstring shows the round trip
