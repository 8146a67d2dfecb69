"""Issue 18: a write the catalogue answers with 200 but does not keep is reported failed, with what it
holds instead; never 'applied'. A plugin that drops a field is played by the in-memory catalogue and,
on the sandbox, by a proxy that takes the field out of the call on its way."""
from __future__ import annotations

from typing import Any

import pytest
from conftest import columns, export_open
from faultproxy import FaultProxy
from test_catalogue_contract import memory_world, sandbox_world

import bcdc_bulk as bb


def _drop_purpose(action: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a plugin that ignores 'purpose' keeps of a write."""
    if isinstance(data.get("update"), dict):
        data["update"].pop("purpose", None)
    data.pop("purpose", None) if action == "package_patch" else None
    return data


class DroppingCatalogue:
    """A catalogue with a plugin that drops a field of every write (the rest is the wrapped one's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def call(self, action: str, files: Any = None, **data: Any) -> Any:
        return self.inner.call(action, files, **_drop_purpose(action, data))


@pytest.fixture(params=["memory", pytest.param("sandbox", marks=pytest.mark.sandbox)])
def dropping_world(request):
    if request.param == "memory":
        world = memory_world(2)
        world.catalogue = DroppingCatalogue(world.catalogue)
        return world
    sandbox = request.getfixturevalue("sandbox")
    proxy = FaultProxy(sandbox["CKAN_URL"])
    proxy.__enter__()
    request.addfinalizer(proxy.__exit__)
    proxy.rewrite = _drop_purpose
    return sandbox_world(sandbox, 2, proxy)


@pytest.mark.parametrize("method", ["revise", "patch"])
def test_a_change_the_catalogue_does_not_keep_is_reported_failed(dropping_world, tmp_path, method):
    world = dropping_world
    p0, p1 = world.packages
    export = tmp_path / "org.xlsx"
    wb = export_open(world, export)
    ws = wb["Datasets"]
    cols = columns(ws)
    for row in range(3, ws.max_row + 1):
        if ws.cell(row, cols["id"]).value == p0["id"]:
            ws.cell(row, cols["purpose"]).value = "Mine"
            ws.cell(row, cols["notes"]).value = "Kept notes"
        if ws.cell(row, cols["id"]).value == p1["id"]:
            ws.cell(row, cols["notes"]).value = "Only notes"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    result = bb.apply(edited, world.catalogue, bb.ApplySettings(backoff=0.0, workers=2, method=method))
    rows = {r.dataset: r for r in result.rows}
    assert str(rows[p0["name"]].status) == "failed"
    before = p0.get("purpose") or ""
    assert (f"the catalogue saved the record, but it does not hold this change: purpose: asked for 'Mine', "
            f"the catalogue holds '{before}'") in rows[p0["name"]].message
    assert str(rows[p1["name"]].status) == "applied" and rows[p1["name"]].message == ""
    assert world.show(p0["id"])["notes"] == "Kept notes" and world.show(p0["id"]).get("purpose", "") == before
    assert result.counts["failed"] == 1 and not result.complete
