"""Issue 13: apply against the in-memory catalogue (milliseconds, no server), and the same scenarios
against the sandbox's real CKAN, which must agree. Faults and a killed run are in-memory only: the
sandbox runs them through a real proxy and real SIGKILLs in test_apply_faults.py."""
from __future__ import annotations

import copy
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_validate_corpus import base_package

import bcdc_bulk as bb
from bcdc_bulk.catalogue import Organization, RemoteCatalogue
from bcdc_bulk.memory import MemoryCatalogue

SETTINGS = bb.ApplySettings(backoff=0.0, workers=4)


@dataclass
class World:
    """A catalogue the editor works on, n packages in one organization, and someone else's hand."""

    catalogue: Any
    org: str
    packages: list[dict[str, Any]]
    edit_as_someone_else: Any  # (package id, field, value) -> None
    show: Any  # package id -> the package as stored now


def memory_world(n: int, faults: Any = None) -> World:
    run = uuid.uuid4().hex[:8]
    org = Organization(str(uuid.uuid4()), f"memory-{run}", f"Memory {run}")
    packages = []
    for i in range(n):
        pkg = base_package(org.id, f"p{i}", run)
        pkg.update(id=str(uuid.uuid4()), state="active", organization={"id": org.id, "name": org.name})
        pkg["resources"] = [dict(r, id=str(uuid.uuid4()), package_id=pkg["id"]) for r in pkg["resources"]]
        packages.append(pkg)
    catalogue = MemoryCatalogue(packages, [org], roles={org.id: "editor"}, faults=faults)

    def someone_else(pid: str, field: str, value: Any) -> None:
        catalogue.store[pid][field] = value

    return World(catalogue, org.name, packages, someone_else, lambda pid: copy.deepcopy(catalogue.store[pid]))


def sandbox_world(sandbox: dict[str, str], n: int) -> World:
    from test_apply import Org

    org = Org(sandbox, n)

    def someone_else(pid: str, field: str, value: Any) -> None:
        org.sysadmin.action.package_patch(id=pid, **{field: value})

    return World(RemoteCatalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"]), org.org["name"], org.packages,
                 someone_else, lambda pid: org.sysadmin.action.package_show(id=pid))


@pytest.fixture(params=["memory", pytest.param("sandbox", marks=pytest.mark.sandbox)])
def make_world(request):
    if request.param == "memory":
        return memory_world
    sandbox = request.getfixturevalue("sandbox")
    return lambda n: sandbox_world(sandbox, n)


def edited(world: World, folder: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """The organization exported, with (package id -> (field, value)) typed into the Datasets sheet."""
    path = folder / "org.xlsx"
    bb.export(world.catalogue, path, world.org)
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    cols = {c.value: c.column for c in ws[2]}
    for row in range(3, ws.max_row + 1):
        pid = ws.cell(row, cols["id"]).value
        if pid in edits:
            field, value = edits[pid]
            ws.cell(row, cols[field]).value = value
    out = folder / "edited.xlsx"
    wb.save(out)
    return out


def statuses(result: Any) -> Counter:
    return Counter(str(r.status) for r in result.rows)


def test_apply_then_a_rerun_writes_nothing(make_world, tmp_path):
    world = make_world(3)
    path = edited(world, tmp_path, {p["id"]: ("purpose", f"Purpose {i}") for i, p in enumerate(world.packages)})
    assert statuses(bb.apply(path, world.catalogue, SETTINGS)) == {"applied": 3}
    assert [world.show(p["id"])["purpose"] for p in world.packages] == ["Purpose 0", "Purpose 1", "Purpose 2"]
    assert statuses(bb.apply(path, world.catalogue, SETTINGS)) == {"unchanged": 3}


def test_a_field_changed_by_someone_else_is_a_conflict_and_not_overwritten(make_world, tmp_path):
    world = make_world(2)
    p0, p1 = world.packages
    path = edited(world, tmp_path, {p0["id"]: ("purpose", "Mine"), p1["id"]: ("purpose", "Also mine")})
    world.edit_as_someone_else(p0["id"], "purpose", "Theirs")
    result = bb.apply(path, world.catalogue, SETTINGS)
    by_name = {r.dataset: r for r in result.rows}
    assert (str(by_name[p0["name"]].status), str(by_name[p1["name"]].status)) == ("conflict", "applied")
    assert "now in the catalogue 'Theirs', yours 'Mine'" in by_name[p0["name"]].message
    assert world.show(p0["id"])["purpose"] == "Theirs"


def test_the_undo_workbook_puts_the_values_back(make_world, tmp_path):
    world = make_world(1)
    [p0] = world.packages
    path = edited(world, tmp_path, {p0["id"]: ("title", f"Renamed {uuid.uuid4().hex[:6]}")})
    result = bb.apply(path, world.catalogue, SETTINGS)
    assert statuses(result) == {"applied": 1} and result.undo is not None
    assert statuses(bb.apply(result.undo, world.catalogue, SETTINGS)) == {"applied": 1}
    assert world.show(p0["id"])["title"] == p0["title"]


def test_with_faults_every_change_lands_exactly_once():
    chance = random.Random(7)
    faults = ["503", "429", "500", "timeout", "lost"]
    world = memory_world(40, faults=lambda action, data: chance.choice(faults) if chance.random() < 0.3 else None)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = edited(world, Path(folder), {p["id"]: ("purpose", f"P{i}") for i, p in enumerate(world.packages)})
        result = bb.apply(path, world.catalogue, SETTINGS)
    done = statuses(result)
    assert done["applied"] + done["failed"] == 40 and done["failed"] <= 4  # 500 twice in a row: reported, not hidden
    landed = Counter(pid for action, pid in world.catalogue.landed)
    applied = {p["id"] for p in world.packages if world.catalogue.store[p["id"]].get("purpose", "").startswith("P")}
    assert set(landed) == applied and set(landed.values()) == {1}  # written once, never twice


class Killed(BaseException):
    """The process dying mid-run (as SIGKILL does: nothing of the run's own handling runs)."""


def test_a_run_killed_midway_resumes_and_writes_each_change_once(tmp_path):
    budget = {"writes": 7}

    def die_after_seven(action: str, data: dict) -> None:
        budget["writes"] -= 1
        if budget["writes"] < 0:
            raise Killed()

    world = memory_world(20, faults=die_after_seven)
    path = edited(world, tmp_path, {p["id"]: ("purpose", f"P{i}") for i, p in enumerate(world.packages)})
    with pytest.raises(Killed):
        bb.apply(path, world.catalogue, bb.ApplySettings(backoff=0.0, workers=1))
    assert len(world.catalogue.landed) == 7
    world.catalogue.faults = None
    result = bb.apply(path, world.catalogue, SETTINGS)
    assert statuses(result) == {"unchanged": 7, "applied": 13}
    assert set(Counter(pid for _, pid in world.catalogue.landed).values()) == {1}
