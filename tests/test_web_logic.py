"""Issue 14: the web extension's pure parts, without CKAN: what an upload must be, and one apply per
organization at a time (the run store's claim, raced by real processes)."""
from __future__ import annotations

import io
import multiprocessing
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.web.runs import Busy, RunState, RunStore
from bcdc_bulk.web.uploads import MB, Limits, check_origin, check_upload

LIMITS = Limits(max_bytes=1 * MB, max_unpacked=20 * MB)


def refusal(filename: str, data: bytes) -> str:
    with pytest.raises(WorkbookError) as caught:
        check_upload(filename, data, LIMITS)
    return str(caught.value)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_uploads_that_are_not_a_workbook_are_refused_in_words():
    assert "empty" in refusal("a.xlsx", b"")
    assert "1.5 MB, more than the 1 MB" in refusal("a.xlsx", b"PK\x03\x04" + b"x" * int(1.5 * MB))
    assert "Save As" in refusal("edited.ods", b"PK\x03\x04whatever")
    assert "old Excel file (.xls)" in refusal("old.xls", b"\xd0\xcf\x11\xe0")
    assert "a CSV file" in refusal("rows.csv", b"id,title\n")
    assert "damaged" in refusal("cut.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    assert "not an Excel workbook" in refusal("a.xlsx", zipped({"readme.txt": b"hello"}))


def test_a_zip_bomb_is_refused_unopened():
    bomb = zipped({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"0" * (30 * MB)})
    assert len(bomb) < LIMITS.max_bytes
    assert "unpacks to 30 MB" in refusal("bomb.xlsx", bomb)


def test_a_real_export_passes_and_its_origin_is_checked(tmp_path):
    path = tmp_path / "t.xlsx"
    bb.template(path, FileCatalogue(None))
    check_upload("t.xlsx", path.read_bytes(), LIMITS)
    book = bb.read(path)
    book.provenance.update(site="https://other.example", organizations=["org-a"])
    with pytest.raises(WorkbookError, match="exported from https://other.example, not from this catalogue"):
        check_origin(book, "https://catalogue.example", "org-a")
    book.provenance["site"] = "https://catalogue.example"
    with pytest.raises(WorkbookError, match="exported for org-a, not org-b; upload it on the page of org-a"):
        check_origin(book, "https://catalogue.example", "org-b")
    check_origin(book, "https://catalogue.example/", "org-a")


def _claim(root: str, run_id: str, start: float, results: multiprocessing.Queue[str]) -> None:
    store = RunStore(Path(root))
    run = store.get(run_id)
    assert run is not None
    time.sleep(max(0.0, start - time.time()))
    try:
        store.claim(run, f"user-of-{run_id[:4]}")
        results.put("claimed")
    except Busy as exc:
        results.put(f"busy: {exc}")


def test_two_applies_of_one_organization_at_once_one_waits_for_the_other(tmp_path):
    store = RunStore(tmp_path)
    runs = [store.create("org-1", "fire", "editor", f"w{i}.xlsx", b"PK") for i in range(6)]
    results: multiprocessing.Queue[str] = multiprocessing.Queue()
    start = time.time() + 0.5
    procs = [multiprocessing.Process(target=_claim, args=(str(tmp_path), r.id, start, results)) for r in runs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
    answers = sorted(results.get(timeout=5) for _ in procs)
    assert answers.count("claimed") == 1, answers
    assert all("is applying" in a and "wait until it has finished" in a for a in answers if a != "claimed")
    queued = [r for r in (store.get(r.id) for r in runs) if r and r.state is RunState.QUEUED]
    assert len(queued) == 1


def test_the_same_run_cannot_be_applied_twice_and_a_finished_run_frees_the_organization(tmp_path):
    store = RunStore(tmp_path)
    first, second = (store.create("org-1", "fire", "editor", f"w{i}.xlsx", b"PK") for i in range(2))
    store.claim(first, "editor")
    with pytest.raises(Busy, match="already being applied"):
        store.claim(first, "editor")
    first.state = RunState.DONE
    store.save(first)
    store.claim(second, "admin")  # the organization is free again
    assert [r.filename for r in store.history("org-1")] == ["w1.xlsx", "w0.xlsx"]  # newest first


def test_a_run_whose_worker_stopped_beating_is_stale(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("org-1", "fire", "editor", "w.xlsx", b"PK")
    store.claim(run, "editor")
    assert not run.stale(limit=60)
    assert run.stale(now=time.time() + 61, limit=60)
    other = store.create("org-1", "fire", "editor", "x.xlsx", b"PK")
    run.heartbeat -= 61
    store.save(run)
    store.claim(other, "editor", stale_after=60)  # a dead apply does not hold the organization forever


def test_the_check_page_shows_what_the_catalogue_holds_now_and_what_changed_since_the_export(tmp_path):
    from test_catalogue_contract import memory_world

    from bcdc_bulk.web.jobs import page_view

    world = memory_world(2)
    p0, p1 = world.packages
    world.edit_as_someone_else(p1["id"], "purpose", "Line one\nline two")
    export = tmp_path / "org.xlsx"
    bb.export(world.catalogue, export, world.org)
    book = openpyxl.load_workbook(export)
    ws = book["Datasets"]
    cols = {c.value: c.column for c in ws[2]}
    for row in range(3, ws.max_row + 1):
        ws.cell(row, cols["purpose"]).value = "Mine"
    book.save(export)
    world.edit_as_someone_else(p0["id"], "purpose", "Theirs")
    world.edit_as_someone_else(p1["id"], "purpose", "Line one\r\nline two")  # saved from Windows: looks the same
    view = page_view(bb.check(export, world.catalogue))
    shown = {d["name"]: d["changes"][0] for d in view["datasets"]}
    assert shown[p0["name"]]["old"] == "Theirs"  # what the catalogue holds, not what was exported
    assert shown[p0["name"]]["since"] == (
        f"changed in the catalogue since your export (exported: '{p0.get('purpose') or ''}')")
    assert shown[p1["name"]]["since"].startswith("changed in the catalogue since your export, though it looks the "
                                                 "same: they differ only in line endings")
