"""The offline catalogue and the organization hierarchy; packaging."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, SAMPLE

from bcdc_bulk.catalogue import FileCatalogue, resolve_org, with_suborgs
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.errors import CatalogueError, NotFound


def test_suborgs_found_through_groups():
    cat = FileCatalogue(SAMPLE)
    root = resolve_org(cat, "ministry-of-sample-services")
    assert [o.name for o in with_suborgs(cat, root)] == [
        "ministry-of-sample-services", "sample-data-branch", "sample-geospatial-unit"]
    assert [o.name for o in with_suborgs(cat, resolve_org(cat, "Sample Data Branch"))] == ["sample-data-branch"]


def test_packages_of_an_org_in_id_order():
    cat = FileCatalogue(SAMPLE)
    org = resolve_org(cat, "sample-data-branch")
    ids = [p["id"] for p in cat.packages_of([org.id])]
    assert len(ids) == 16 and ids == sorted(ids)


def test_broken_catalogue_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(CatalogueError, match="line 2 is not JSON"):
        list(FileCatalogue(bad).packages_of(["x"]))


def test_unknown_org():
    with pytest.raises(NotFound):
        resolve_org(FileCatalogue(SAMPLE), "no-such-org")


def test_remote_suborgs_and_errors(sandbox):
    cat = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"])
    root = resolve_org(cat, "ministry-of-sample-services")
    assert {o.name for o in with_suborgs(cat, root)} == {
        "ministry-of-sample-services", "sample-geospatial-unit", "sample-data-branch"}
    assert cat.user_name() == "sandbox_editor"
    with pytest.raises(NotFound):
        cat.call("package_show", id="no-such-package")
    assert "token" not in repr(cat).lower() and sandbox["CKAN_EDITOR_TOKEN"] not in repr(cat)


def test_remote_lists_organizations_past_the_server_cap(sandbox):
    """CKAN answers organization_list with all_fields 25 at a time, whatever limit is asked."""
    import ckanapi

    sysadmin = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    names = set(sysadmin.action.organization_list(limit=1000))
    for i in range(max(0, 30 - len(names))):
        sysadmin.action.organization_create(name=f"cap-test-org-{i:02d}", title=f"Cap test {i:02d}")
    names = set(sysadmin.action.organization_list(limit=1000))
    assert len(names) >= 30
    cat = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"])
    assert {o.name for o in cat.organizations()} == names
    assert cat.calls.count("organization_list") > 1
    last = sorted(names)[-1]
    assert resolve_org(cat, last).name == last


def test_wheel_ships_templates(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("bcdc_bulk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bcdc_bulk/templates/layout.json" in names
    assert "bcdc_bulk/data/bcdc_dataset.json" in names
