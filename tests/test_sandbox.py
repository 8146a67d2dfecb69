"""Issue 3: the sandbox is a real CKAN that enforces the BCDC schema like the catalogue."""
from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid

import ckanapi
import pytest
from conftest import SANDBOX  # tests/ is on sys.path (rootdir conftest)

import bcdc_bulk as bb
from bcdc_bulk.ckan_catalogue import remote_catalogue

ORG = "sample-data-branch"
ORG_ID = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"


def new_dataset(**overrides):
    suffix = uuid.uuid4().hex[:10]
    data = {
        "type": "bcdc_dataset", "name": f"test-{suffix}", "title": f"Test dataset {suffix}",
        "owner_org": ORG_ID, "publish_state": "DRAFT", "notes": "Made by the test suite.",
        "license_id": "2", "security_class": "PUBLIC", "view_audience": "Public",
        "download_audience": "Public", "metadata_visibility": "Public", "resource_status": "onGoing",
        "tags": [{"name": "testing"}],
        "contacts": [{"name": "Alex Sample", "email": "alex.sample@example.invalid", "org": ORG_ID,
                      "role": "pointOfContact", "displayed": ["displayed"]}],
    }
    data.update(overrides)
    return data


def test_create_and_patch_with_ckanapi(ckan_as):
    admin = ckan_as("admin")
    created = admin.action.package_create(**new_dataset())
    assert created["publish_state"] == "DRAFT"
    assert created["contacts"][0]["displayed"] == ["displayed"]
    patched = admin.action.package_patch(id=created["id"], purpose="Patched by the tests.")
    assert patched["purpose"] == "Patched by the tests."
    assert patched["title"] == created["title"]
    shown = admin.action.package_show(id=created["id"])
    assert shown["purpose"] == "Patched by the tests."


@pytest.mark.parametrize("overrides, drop, field", [
    ({}, "notes", "notes"),
    ({"security_class": "LOW-PUBLIC"}, None, "security_class"),
    ({"resource_status": "obsolete"}, None, "replacement_record"),
    ({"title": "x" * 101}, None, "title"),
    ({"contacts": [{"name": "A", "email": "a@example.invalid", "org": ORG_ID, "role": "nobody",
                    "displayed": ["displayed"]}]}, None, "contacts"),
])
def test_server_validation_errors(ckan_as, overrides, drop, field):
    data = new_dataset(**overrides)
    if drop:
        del data[drop]
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan_as("admin").action.package_create(**data)
    assert field in err.value.error_dict, err.value.error_dict


def test_conditional_field_satisfied_is_accepted(ckan_as):
    created = ckan_as("admin").action.package_create(
        **new_dataset(resource_status="obsolete", replacement_record="https://example.invalid/new"))
    assert created["replacement_record"] == "https://example.invalid/new"


def test_conditional_required_never_fires_on_resources(ckan_as):
    """The catalogue's quirk: the condition is looked up at the top level only."""
    resource = {"name": "Layer", "url": "https://example.invalid/layer", "bcdc_type": "geographic",
                "format": "shp", "resource_update_cycle": "daily", "resource_storage_location": "external",
                "resource_type": "data", "resource_access_method": "direct access"}
    created = ckan_as("admin").action.package_create(**new_dataset(resources=[resource]))
    assert created["resources"][0]["bcdc_type"] == "geographic"
    assert not created["resources"][0].get("spatial_datatype")


def test_title_must_be_unique(ckan_as):
    first = ckan_as("admin").action.package_create(**new_dataset())
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan_as("admin").action.package_create(**new_dataset(title=first["title"]))
    assert "title" in err.value.error_dict


def test_publish_state_machine_by_role(ckan_as):
    editor, admin = ckan_as("editor"), ckan_as("admin")
    pkg = editor.action.package_create(**new_dataset())
    with pytest.raises(ckanapi.ValidationError) as err:
        editor.action.package_patch(id=pkg["id"], publish_state="PUBLISHED")  # not a valid move from DRAFT
    assert "publish_state" in err.value.error_dict
    editor.action.package_patch(id=pkg["id"], publish_state="PENDING PUBLISH")
    with pytest.raises(ckanapi.ValidationError) as err:
        editor.action.package_patch(id=pkg["id"], publish_state="PUBLISHED")
    assert "permission" in json.dumps(err.value.error_dict["publish_state"])
    published = admin.action.package_patch(id=pkg["id"], publish_state="PUBLISHED")
    assert published["publish_state"] == "PUBLISHED"


def test_new_record_must_start_as_draft(ckan_as):
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan_as("admin").action.package_create(**new_dataset(publish_state="PUBLISHED"))
    assert "publish_state" in err.value.error_dict


def test_seed_is_sysadmin_only(ckan_as):
    with pytest.raises(ckanapi.NotAuthorized):
        ckan_as("admin").action.bcdc_sandbox_seed(**new_dataset())


def test_legacy_record_seeded_as_stored(sandbox, ckan_as, tmp_path):
    import random

    from generate import make_package

    pkg = make_package(random.Random(uuid.uuid4().int), 7, {"id": ORG_ID, "name": ORG, "title": "Sample"},
                       era="classic")
    pkg["security_class"] = "LOW-PUBLIC"
    pkg["name"] = f"legacy-{uuid.uuid4().hex[:10]}"
    pkg["resources"][0]["format"] = "CSV"
    path = tmp_path / "legacy.jsonl"
    path.write_text(json.dumps(pkg) + "\n")
    subprocess.run(["python3", str(SANDBOX / "seed.py"), str(path)], check=True,
                   env={"CKAN_URL": sandbox["CKAN_URL"], "CKAN_SYSADMIN_TOKEN": sandbox["CKAN_SYSADMIN_TOKEN"],
                        "PATH": "/usr/bin:/bin"})
    shown = ckan_as("admin").action.package_show(id=pkg["id"])
    assert shown["security_class"] == "LOW-PUBLIC"
    assert shown["resources"][0]["format"] == "CSV"
    assert shown["metadata_modified"].startswith(pkg["metadata_modified"][:19])
    # composite-era contacts (JSON text) come back as a list: today's scheming cannot show text there
    assert shown["contacts"][0]["email"] == json.loads(pkg["contacts"])[0]["email"]
    # today's schema refuses the same record on an ordinary write
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan_as("admin").action.package_patch(id=pkg["id"], purpose="touch")
    assert "security_class" in err.value.error_dict


def test_a_composite_era_contact_displayed_true_seeds_exports_and_round_trips(sandbox, ckan_as, tmp_path):
    """Composite-era records hold contacts as JSON text, some with "displayed": true."""
    from test_validate_corpus import base_package

    from bcdc_bulk.export import export_workbook
    from bcdc_bulk.planning import build_plan

    sysadmin = ckan_as("sysadmin")
    run = uuid.uuid4().hex[:8]
    org = sysadmin.action.organization_create(name=f"composite-{run}", title=f"Composite {run}")
    pkg = dict(base_package(org["id"], "composite", run), id=str(uuid.uuid4()), organization=org)
    pkg["contacts"] = json.dumps([{"name": "Glen Example", "email": "glen@example.invalid", "org": org["id"],
                                   "role": "pointOfContact", "displayed": True, "delete": "0"}])
    for res in pkg["resources"]:
        res["id"] = str(uuid.uuid4())
    sysadmin.call_action("bcdc_sandbox_seed", pkg)
    shown = sysadmin.action.package_show(id=pkg["id"])
    assert shown["contacts"][0]["displayed"] is True
    path = tmp_path / "composite.xlsx"
    export_workbook(remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_SYSADMIN_TOKEN"]), path, org["name"])
    book = bb.read(path)
    [(_, contact)] = book.sheets["Contacts"].rows
    assert (contact["name"], contact["displayed"]) == ("Glen Example", "displayed")
    plan = build_plan(book)
    assert plan.records == [] and plan.problems == []


@pytest.fixture(scope="module")
def paging_org(sandbox, tmp_path_factory):
    """An organization with 1,050 packages (seeded once per sandbox)."""
    from generate import generate

    name, count = "paging-test-org", 1050
    ckan = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    packages, orgs = generate(count, seed=99, org_name=name)
    found = ckan.action.package_search(fq=f'owner_org:"{orgs[0]["id"]}"', rows=0, include_private=True,
                                       include_drafts=True)["count"]
    if found < count:
        path = tmp_path_factory.mktemp("paging") / "catalogue.jsonl"
        path.write_text("".join(json.dumps(p) + "\n" for p in packages))
        (path.parent / "organizations.jsonl").write_text("".join(json.dumps(o) + "\n" for o in orgs))
        subprocess.run(["python3", str(SANDBOX / "seed.py"), str(path), "-p", "4"], check=True,
                       env={"CKAN_URL": sandbox["CKAN_URL"], "CKAN_SYSADMIN_TOKEN": sandbox["CKAN_SYSADMIN_TOKEN"],
                            "PATH": "/usr/bin:/bin"})
    return orgs[0], {p["id"] for p in packages}


def test_package_search_by_owner_org_pages_past_1000(sandbox, paging_org):
    org, expected = paging_org
    catalogue = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_SYSADMIN_TOKEN"])
    ids = [p["id"] for p in catalogue.packages_of([org["id"]])]
    assert len(ids) == len(set(ids)) == 1050
    assert set(ids) == expected
    assert ids == sorted(ids)
    assert catalogue.calls.count("package_search") == 2
    assert all(p.get("resources") for p in catalogue.packages_of([org["id"]]))


def test_search_hides_private_records_from_anonymous(sandbox):
    anon = ckanapi.RemoteCKAN(sandbox["CKAN_URL"])
    admin = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_ADMIN_TOKEN"])
    fq = 'owner_org:"8f3c1a9e-2b4d-4e6f-9a1b-3c5d7e9f1a2b"'
    public = anon.action.package_search(fq=fq, rows=1000)
    everything = admin.action.package_search(fq=fq, rows=1000, include_private=True, include_drafts=True)
    assert public["count"] < everything["count"]
    assert not any(p["private"] for p in public["results"])
    by_state = admin.action.package_search(fq=fq + ' publish_state:"PENDING PUBLISH"', rows=1000,
                                           include_private=True)
    assert by_state["count"] > 0
    assert {p["publish_state"] for p in by_state["results"]} == {"PENDING PUBLISH"}


def test_the_catalogues_own_validators_are_in_force_when_shared_has_them(sandbox):
    """With ../shared/bcdc/upstream present the sandbox runs the catalogue's real plugin (else our rewrite)."""
    from conftest import SHARED

    modules = json.loads(urllib.request.urlopen(f"{sandbox['CKAN_URL']}/api/3/action/bcdc_sandbox_validators",
                                                timeout=30).read())["result"]
    bcdc = {k: v for k, v in modules.items() if k != "edc_orgs_form"}
    assert set(bcdc) == {"conditional_required", "iso_topic_category", "valid_next_state", "title_validator",
                         "single_value_subfield"}
    expected = ("ckanext.bcgov_schema.validators" if (SHARED / "upstream" / "ckanext-bcgov-schema").is_dir()
                else "ckanext.bcdc_sandbox.validators")
    assert set(bcdc.values()) == {expected}
