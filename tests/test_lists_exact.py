"""Issue 18: every repeating group's entries removed, added and reordered land exactly as planned.

package_revise merges a shorter list into the stored one entry by entry, so a removal that is
sent as the shorter list alone leaves entries behind. These scenarios run on the in-memory
catalogue and on the sandbox's CKAN; after apply, the stored lists are exactly the planned ones,
the report says so, and the two catalogues hold the same records.
"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import ckanapi
import openpyxl
import pytest
from conftest import columns
from test_validate_corpus import base_package

import bcdc_bulk as bb
from bcdc_bulk.catalogue import Organization
from bcdc_bulk.ckan_catalogue import CkanCatalogue, remote_catalogue
from bcdc_bulk.memory import MemoryCatalogue
from bcdc_bulk.verifying import holds

SETTINGS = bb.ApplySettings(backoff=0.0, workers=2)
DATASET_GROUPS = {
    "contacts": lambda org, i: {"name": f"Contact {i}", "email": f"c{i}@example.invalid", "org": org,
                                "role": "pointOfContact", "displayed": ["displayed"]},
    "more_info": lambda org, i: {"description": f"Link {i}", "url": f"https://example.invalid/link{i}"},
    "dates": lambda org, i: {"type": ["Created", "Published", "Modified", "Archived"][i - 1], "date": f"202{i}-01-01"},
}
RESOURCE_GROUPS = {  # the schema allows one entry; older records hold two, and keep them until edited
    "temporal_extent": lambda i: {"beginning_date": f"200{i}-01-01", "end_date": f"201{i}-01-01"},
    "details": lambda i: {"column_name": f"COL_{i}", "short_name": f"C{i}", "data_type": "NUMBER",
                          "data_precision": "38", "column_comments": f"Column {i}."},
    "preview_info": lambda i: {"layer_name": f"layer_{i}", "preview_latitude": "49", "preview_longitude": "-123",
                               "preview_zoom_level": "5", "preview_map_service_url": f"https://example.invalid/wms{i}",
                               "preview_image_url": "", "link_to_imap": ""},
    "geographic_extent": lambda i: {"north_bound_latitude": f"5{i}", "south_bound_latitude": "48",
                                    "east_bound_longitude": "-114", "west_bound_longitude": f"-13{i}"},
}
# scenario -> (what happens to entries 1..3 of a dataset group, to entries 1..2 of a resource group)
SCENARIOS = {
    "first": ("remove 1", "remove 1"),
    "middle": ("remove 2", None),
    "last": ("remove 3", "remove 2"),
    "two": ("remove 1 3", "remove 1 2"),
    "grow": ("add 4", None),
    "reorder": ("swap 1 3", None),
}


def _package(org: dict[str, Any], scenario: str, run: str) -> dict[str, Any]:
    pkg = base_package(org["id"], scenario, run)
    for group, entry in DATASET_GROUPS.items():
        pkg[group] = [entry(org["id"], i) for i in (1, 2, 3)]
    layer = pkg["resources"][0]
    legacy = SCENARIOS[scenario][1] is not None
    for group, entry in RESOURCE_GROUPS.items():
        layer[group] = [entry(i) for i in ((1, 2) if legacy else (1,))]
    return pkg


def _expected(entries: list[dict[str, Any]], step: str, new_entry: dict[str, Any]) -> list[dict[str, Any]]:
    verb, *positions = step.split()
    numbers = [int(p) for p in positions]
    if verb == "remove":
        return [e for i, e in enumerate(entries, 1) if i not in numbers]
    if verb == "add":
        return entries + [new_entry]
    swapped = list(entries)
    a, b = numbers
    swapped[a - 1], swapped[b - 1] = entries[b - 1], entries[a - 1]
    return swapped


def _rows(ws: Any, package: str) -> dict[int, int]:
    """Entry position -> sheet row of a dataset's entries on a group sheet."""
    cols = columns(ws)
    return {int(ws.cell(r, cols["position"]).value): r for r in range(3, ws.max_row + 1)
            if ws.cell(r, cols["package_name"]).value == package and ws.cell(r, cols["position"]).value}


def _sheet_for(book: Any, field_names: set[str]) -> Any:
    for ws in book.worksheets:
        fields = {c.value for c in ws[2]}
        if "position" in fields and field_names <= fields:
            return ws
    raise AssertionError(f"no sheet with {field_names}")


def _edit(ws: Any, rows: dict[int, int], step: str, new_entry: dict[str, Any], package: str) -> None:
    cols = columns(ws)
    verb, *positions = step.split()
    numbers = [int(p) for p in positions]
    if verb == "remove":
        for n in numbers:
            ws.cell(rows[n], cols["remove"]).value = "remove"
    elif verb == "add":
        row = ws.max_row + 1
        ws.cell(row, cols["package_name"]).value = package
        ws.cell(row, cols["position"]).value = str(numbers[0])
        for key, value in new_entry.items():
            ws.cell(row, cols[key]).value = ", ".join(value) if isinstance(value, list) else value
    else:
        a, b = numbers
        ws.cell(rows[a], cols["position"]).value, ws.cell(rows[b], cols["position"]).value = str(b), str(a)


def edit_workbook(path: Path, out: Path, packages: list[dict[str, Any]], org_id: str) -> None:
    """Every scenario's steps typed into the export, on every group sheet."""
    book = openpyxl.load_workbook(path)
    for pkg in packages:
        scenario = pkg["name"].rsplit("-", 1)[1]
        on_datasets, on_resource = SCENARIOS[scenario]
        for group, entry in DATASET_GROUPS.items():
            ws = _sheet_for(book, set(entry(org_id, 1)) - {"displayed"})
            _edit(ws, _rows(ws, pkg["name"]), on_datasets, _new_entry(group, org_id), pkg["name"])
        for entry in RESOURCE_GROUPS.values():
            if on_resource:
                ws = _sheet_for(book, set(entry(1)))
                _edit(ws, _rows(ws, pkg["name"]), on_resource, {}, pkg["name"])
    book.save(out)


def _new_entry(group: str, org_id: str) -> dict[str, Any]:
    return DATASET_GROUPS[group](org_id, 4)


def expected_lists(pkg: dict[str, Any], org_id: str) -> dict[str, list[dict[str, Any]]]:
    scenario = pkg["name"].rsplit("-", 1)[1]
    on_datasets, on_resource = SCENARIOS[scenario]
    out = {g: _expected(pkg[g], on_datasets, _new_entry(g, org_id)) for g in DATASET_GROUPS}
    layer = pkg["resources"][0]
    out |= {f"Layer.{g}": _expected(layer[g], on_resource, {}) if on_resource else layer[g] for g in RESOURCE_GROUPS}
    return out


def stored_lists(pkg: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    layer = next(r for r in pkg["resources"] if r["name"] == "Layer")
    out = {g: pkg.get(g) or [] for g in DATASET_GROUPS}
    return out | {f"Layer.{g}": layer.get(g) or [] for g in RESOURCE_GROUPS}


def _comparable(lists: dict[str, list[dict[str, Any]]]) -> str:
    """The lists without empty values (a catalogue may store an empty subfield or leave it out)."""
    return json.dumps({k: [{f: v for f, v in e.items() if v not in ("", None, [])} for e in entries]
                       for k, entries in lists.items()}, sort_keys=True)


def memory_catalogue() -> tuple[MemoryCatalogue, dict[str, Any], list[dict[str, Any]]]:
    run = uuid.uuid4().hex[:8]
    org = {"id": str(uuid.uuid4()), "name": f"lists-{run}", "title": f"Lists {run}"}
    packages = []
    for scenario in SCENARIOS:
        pkg = _package(org, scenario, run)
        pkg.update(id=str(uuid.uuid4()), state="active", organization={"id": org["id"], "name": org["name"]})
        pkg["resources"] = [dict(r, id=str(uuid.uuid4()), package_id=pkg["id"]) for r in pkg["resources"]]
        packages.append(pkg)
    catalogue = MemoryCatalogue(packages, [Organization(org["id"], org["name"], org["title"])],
                                roles={org["id"]: "editor"})
    return catalogue, org, packages


def sandbox_catalogue(sandbox: dict[str, str]) -> tuple[CkanCatalogue, dict[str, Any], list[dict[str, Any]]]:
    sysadmin = ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox["CKAN_SYSADMIN_TOKEN"])
    run = uuid.uuid4().hex[:8]
    org = sysadmin.action.organization_create(name=f"lists-{run}", title=f"Lists {run}")
    sysadmin.action.organization_member_create(id=org["id"], username=sandbox["CKAN_EDITOR_USER"], role="editor")
    packages = []
    for scenario in SCENARIOS:
        data = _package(org, scenario, run)
        data.update(id=str(uuid.uuid4()), organization=org)
        for res in data["resources"]:
            res["id"] = str(uuid.uuid4())
        sysadmin.call_action("bcdc_sandbox_seed", data)  # stored as older records are (two extents)
        packages.append(sysadmin.action.package_show(id=data["id"]))
    return remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_EDITOR_TOKEN"]), org, packages


def run_scenarios(catalogue: Any, org: dict[str, Any], packages: list[dict[str, Any]], folder: Path,
                  method: str = "revise") -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Export, edit every group as its scenario says, apply; the stored lists, checked against the plan."""
    export = folder / "lists.xlsx"
    bb.export(catalogue, export, org["name"])
    edited = folder / "edited.xlsx"
    edit_workbook(export, edited, packages, org["id"])
    result = bb.apply(edited, catalogue, bb.ApplySettings(backoff=0.0, workers=2, method=method))
    assert {r.status for r in result.rows} == {"applied"}, [(r.sheet, r.row, r.status, r.message)
                                                           for r in result.rows if r.status != "applied"]
    stored = {}
    for pkg in packages:
        now = catalogue.package(pkg["id"])
        got, wanted = stored_lists(now), expected_lists(pkg, org["id"])
        for key in wanted:
            assert holds(got[key], wanted[key]), (pkg["name"], key, got[key], wanted[key])
        stored[pkg["name"].rsplit("-", 1)[1]] = got
    undone = bb.apply(result.undo, catalogue, SETTINGS)  # the undo puts every list back as it was
    assert {r.status for r in undone.rows} == {"applied"}, [(r.sheet, r.message) for r in undone.rows]
    for pkg in packages:
        back = stored_lists(catalogue.package(pkg["id"]))
        assert all(holds(back[k], v) for k, v in stored_lists(pkg).items()), pkg["name"]
    return stored


@pytest.mark.parametrize("method", ["revise", "patch"])
def test_entries_removed_added_and_reordered_land_exactly_in_memory(tmp_path, method):
    catalogue, org, packages = memory_catalogue()
    run_scenarios(catalogue, org, packages, tmp_path, method)


def test_the_memory_catalogue_merges_a_shorter_list_as_ckan_does():
    """What made removals silently fail: revise's update merges entry by entry."""
    catalogue, org, packages = memory_catalogue()
    pkg = packages[0]
    three = copy.deepcopy(pkg["contacts"])
    catalogue.call("package_revise", match={"id": pkg["id"]}, update={"contacts": [three[1]]})
    assert [c["name"] for c in catalogue.package(pkg["id"])["contacts"]] == ["Contact 2", "Contact 2", "Contact 3"]
    catalogue.call("package_revise", match={"id": pkg["id"]}, filter=["-contacts"], update={"contacts": [three[2]]})
    assert [c["name"] for c in catalogue.package(pkg["id"])["contacts"]] == ["Contact 3"]


def test_entries_land_exactly_on_the_sandbox_as_in_memory(sandbox, tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "ckan").mkdir()
    in_memory = run_scenarios(*memory_catalogue(), tmp_path / "memory")
    on_ckan = run_scenarios(*sandbox_catalogue(sandbox), tmp_path / "ckan")
    for scenario in SCENARIOS:  # the two catalogues hold the same lists, entry for entry
        mem = {k: [{f: v for f, v in e.items() if f != "org"} for e in v] for k, v in in_memory[scenario].items()}
        real = {k: [{f: v for f, v in e.items() if f != "org"} for e in v] for k, v in on_ckan[scenario].items()}
        assert _comparable(mem) == _comparable(real), scenario


def test_the_sandbox_merges_a_shorter_list_as_the_memory_catalogue_does(sandbox):
    """The same raw calls on both: a shorter list merged, a filtered one replaced."""
    results = []
    for catalogue, _, packages in (memory_catalogue(), sandbox_catalogue(sandbox)):
        pkg = packages[2]  # 'middle': one entry per resource group, valid today
        three = copy.deepcopy(pkg["contacts"])
        catalogue.call("package_revise", match={"id": pkg["id"]}, update={"contacts": [three[1]]})
        merged = [c["name"] for c in catalogue.package(pkg["id"])["contacts"]]
        catalogue.call("package_revise", match={"id": pkg["id"]}, filter=["-contacts"], update={"contacts": [three[2]]})
        replaced = [c["name"] for c in catalogue.package(pkg["id"])["contacts"]]
        results.append((merged, replaced))
    assert results[0] == results[1] == (["Contact 2", "Contact 2", "Contact 3"], ["Contact 3"])
