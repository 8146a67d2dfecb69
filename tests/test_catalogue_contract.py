"""Issue 13: apply against the in-memory catalogue (milliseconds, no server), and the same scenarios
against the sandbox's real CKAN, which must agree: apply and rerun, a conflict, undo, faults on
30% of writes (in memory injected by the catalogue, on the sandbox by a real HTTP proxy), and a
run that dies after seven writes and is resumed. (test_apply_faults.py adds real SIGKILLs of the CLI.)"""
from __future__ import annotations

import copy
import random
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import columns, export_open
from faultproxy import FaultProxy
from test_validate_corpus import base_package

import bcdc_bulk as bb
from bcdc_bulk.catalogue import Organization
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.memory import FaultyCatalogue, MemoryCatalogue

SETTINGS = bb.ApplySettings(backoff=0.0, workers=4)


@dataclass
class World:
    """A catalogue the editor works on, n packages in one organization, and someone else's hand."""

    catalogue: Any
    org: str
    packages: list[dict[str, Any]]
    edit_as_someone_else: Any  # (package id, field, value) -> None
    show: Any  # package id -> the package as stored now
    set_faults: Any  # (share, seed) -> None: that share of writes fails as the network does
    landed: Any  # () -> package ids of every write that took effect, once per write
    injected: list[str] = field(default_factory=list)  # the faults that were injected


MEMORY_FAULTS = ["503", "429", "500", "timeout", "lost"]
PROXY_FAULTS = ("503", "429", "500", "drop", "lost")  # the same, as a real connection has them
WRITES = ("package_revise", "package_create", "package_patch", "resource_patch", "resource_create")


def memory_world(n: int) -> World:
    run = uuid.uuid4().hex[:8]
    org = Organization(str(uuid.uuid4()), f"memory-{run}", f"Memory {run}")
    packages = []
    for i in range(n):
        pkg = base_package(org.id, f"p{i}", run)
        pkg.update(id=str(uuid.uuid4()), state="active", organization={"id": org.id, "name": org.name})
        pkg["resources"] = [dict(r, id=str(uuid.uuid4()), package_id=pkg["id"]) for r in pkg["resources"]]
        packages.append(pkg)
    catalogue = FaultyCatalogue(MemoryCatalogue(packages, [org], roles={org.id: "editor"}))

    def someone_else(pid: str, field: str, value: Any) -> None:
        catalogue.store[pid][field] = value

    def set_faults(share: float, seed: int) -> None:
        chance = random.Random(seed)

        def fault(action: str, data: dict[str, Any]) -> str | None:
            picked = chance.choice(MEMORY_FAULTS) if chance.random() < share else None
            world.injected.extend([picked] if picked else [])
            return picked
        catalogue.faults = fault

    world = World(catalogue, org.name, packages, someone_else, lambda pid: copy.deepcopy(catalogue.store[pid]),
                  set_faults, lambda: [pid for _, pid in catalogue.landed])
    return world


def sandbox_world(sandbox: dict[str, str], n: int, proxy: FaultProxy) -> World:
    from test_apply import Org

    org = Org(sandbox, n)
    proxy.backend = urllib.parse.urlsplit(org.url)

    def someone_else(pid: str, field: str, value: Any) -> None:
        org.sysadmin.action.package_patch(id=pid, **{field: value})

    def set_faults(share: float, seed: int) -> None:
        proxy.share, proxy.rng = share, random.Random(seed)

    def landed() -> list[str]:
        return [call["ids"][0] for call in proxy.forwarded
                if call["action"] in WRITES and call["status"] == 200 and call["ids"]]

    return World(remote_catalogue(proxy.url, sandbox["CKAN_EDITOR_TOKEN"]), org.org["name"], org.packages,
                 someone_else, lambda pid: org.sysadmin.action.package_show(id=pid), set_faults, landed,
                 proxy.injected)


@pytest.fixture(params=["memory", pytest.param("sandbox", marks=pytest.mark.sandbox)])
def make_world(request):
    if request.param == "memory":
        return memory_world
    sandbox = request.getfixturevalue("sandbox")
    proxy = FaultProxy(sandbox["CKAN_URL"], faults=PROXY_FAULTS, only_writes=True)
    proxy.__enter__()
    request.addfinalizer(proxy.__exit__)
    return lambda n: sandbox_world(sandbox, n, proxy)


def edited(world: World, folder: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """The organization exported, with (package id -> (field, value)) typed into the Datasets sheet."""
    path = folder / "org.xlsx"
    wb = export_open(world, path)
    ws = wb["Datasets"]
    cols = columns(ws)
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
    rerun = bb.check(path, world.catalogue)  # checked again: nothing left to plan
    assert rerun.calls() == [] and rerun.plan.records == []
    assert sum("already holds every change" in n.message for n in rerun.plan.ignored) == 3


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


def test_with_faults_every_change_lands_exactly_once(make_world, tmp_path):
    world = make_world(40)
    path = edited(world, tmp_path, {p["id"]: ("purpose", f"P{i}") for i, p in enumerate(world.packages)})
    world.set_faults(0.3, 7)
    result = bb.apply(path, world.catalogue, bb.ApplySettings(backoff=0.0, workers=4, retries=8))
    world.set_faults(0.0, 0)
    assert len(world.injected) >= 8 and "lost" in world.injected and len(set(world.injected)) >= 3
    done = statuses(result)
    assert done["applied"] + done["failed"] == 40 and done["failed"] <= 4  # 500 twice in a row: reported, not hidden
    landed = Counter(world.landed())
    applied = {p["id"] for p in world.packages if (world.show(p["id"]).get("purpose") or "").startswith("P")}
    assert set(landed) == applied and set(landed.values()) == {1}  # written once, never twice
    assert done["applied"] == len(applied)  # the report says what the catalogue holds


class Killed(BaseException):
    """The process dying mid-run (as SIGKILL does: nothing of the run's own handling runs)."""


class DiesAfter:
    """A catalogue whose process dies before its (n+1)th write is sent."""

    def __init__(self, inner: Any, writes: int) -> None:
        self.inner, self.writes = inner, writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        if action in WRITES:
            self.writes -= 1
            if self.writes < 0:
                raise Killed()
        return self.inner.call(action, files, **data)


def test_a_run_killed_midway_resumes_and_writes_each_change_once(make_world, tmp_path):
    world = make_world(20)
    path = edited(world, tmp_path, {p["id"]: ("purpose", f"P{i}") for i, p in enumerate(world.packages)})
    with pytest.raises(Killed):
        bb.apply(path, DiesAfter(world.catalogue, 7), bb.ApplySettings(backoff=0.0, workers=1))
    assert len(world.landed()) == 7
    result = bb.apply(path, world.catalogue, SETTINGS)
    assert statuses(result) == {"unchanged": 7, "applied": 13}
    assert len(world.landed()) == 20 and set(Counter(world.landed()).values()) == {1}
    assert all(world.show(p["id"])["purpose"] == f"P{i}" for i, p in enumerate(world.packages))


def test_a_new_row_is_created_once_and_then_checks_as_nothing_to_send(make_world, tmp_path):
    world = make_world(1)
    path = tmp_path / "org.xlsx"
    wb = export_open(world, path)
    ws = wb["Datasets"]
    cols = columns(ws)
    name = f"{world.org}-new-{uuid.uuid4().hex[:6]}"
    for key, value in {"name": name, "title": f"New {name}", "owner_org": world.org, "publish_state": "DRAFT",
                         "notes": "New.", "license_id": "2", "tags": "new", "security_class": "PUBLIC",
                         "view_audience": "Public", "download_audience": "Public", "metadata_visibility": "Public",
                         "resource_status": "onGoing"}.items():
        ws.cell(4, cols[key]).value = value
    wb.save(tmp_path / "new.xlsx")
    first = bb.check(tmp_path / "new.xlsx", world.catalogue)
    assert first.valid and [r.action for r in first.plan.records] == ["create"], [p.message for p in first.problems]
    assert statuses(bb.apply(tmp_path / "new.xlsx", world.catalogue, SETTINGS)) == {"created": 1}
    again = bb.check(tmp_path / "new.xlsx", world.catalogue)
    assert again.valid and again.calls() == [], [p.message for p in again.problems]
    assert any("in the catalogue already" in n.message for n in again.plan.ignored)


def test_applying_a_fresh_check_writes_the_same_and_still_finds_conflicts(make_world, tmp_path):
    world = make_world(2)
    p0, p1 = world.packages
    path = edited(world, tmp_path, {p0["id"]: ("purpose", "Mine"), p1["id"]: ("purpose", "Also mine")})
    checked = bb.check(path, world.catalogue)
    world.edit_as_someone_else(p0["id"], "purpose", "Theirs")  # after the check, before the apply
    result = bb.apply(path, world.catalogue, SETTINGS, checked=checked)
    by_name = {r.dataset: str(r.status) for r in result.rows}
    assert by_name == {p0["name"]: "conflict", p1["name"]: "applied"}
    assert world.show(p0["id"])["purpose"] == "Theirs" and world.show(p1["id"])["purpose"] == "Also mine"
