"""Issue 14: the web extension's pure parts, without CKAN: what an upload must be, and one apply per
organization at a time (the run store's claim, raced by real processes)."""
from __future__ import annotations

import io
import multiprocessing
import time
import zipfile
from pathlib import Path

import pytest
from conftest import columns, export_open, put_row

import bcdc_bulk as bb
from bcdc_bulk.catalogue import FileCatalogue
from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.web.runs import RUNS, Busy, RunState, RunStore, metadata
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
    assert refusal("report.xlsx", zipped({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<t/>"})) == (
        "'report.xlsx' is a Word document, not an Excel workbook; upload the .xlsx workbook that was downloaded "
        "here (renaming a file does not change what is in it)")


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


def sqlite_store(path: Path, stale_after: float = 60) -> RunStore:
    """The run store on a SQLite file (the same tables and indexes as the migration makes in PostgreSQL)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    metadata.create_all(engine)
    return RunStore(engine, stale_after)


def _claim(db: str, run_id: str, start: float, results: multiprocessing.Queue[str]) -> None:
    store = sqlite_store(Path(db))
    run = store.get(run_id)
    assert run is not None
    time.sleep(max(0.0, start - time.time()))
    try:
        store.claim(run, f"user-of-{run_id[:4]}")
        results.put("claimed")
    except Busy as exc:
        results.put(f"busy: {exc}")


def checked(store: RunStore, n: int, org: str = "org-1") -> list:
    runs = [store.create(org, "fire", "editor", f"w{i}.xlsx", b"PK") for i in range(n)]
    for run in runs:
        run.move(RunState.CHECKED)
        store.save(run)
        time.sleep(0.001)  # distinct creation times: the history's order
    return runs


def test_two_applies_of_one_organization_at_once_one_waits_for_the_other(tmp_path):
    db = tmp_path / "runs.sqlite"
    store = sqlite_store(db)
    runs = checked(store, 6)
    results: multiprocessing.Queue[str] = multiprocessing.Queue()
    start = time.time() + 0.5
    procs = [multiprocessing.Process(target=_claim, args=(str(db), r.id, start, results)) for r in runs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    answers = sorted(results.get(timeout=5) for _ in procs)
    assert answers.count("claimed") == 1, answers
    assert all("is applying" in a or "has just started" in a for a in answers if a != "claimed"), answers
    queued = [r for r in (store.get(r.id) for r in runs) if r and r.state is RunState.QUEUED]
    assert len(queued) == 1


def test_the_database_itself_refuses_a_second_active_apply_of_an_organization(tmp_path):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    store = sqlite_store(tmp_path / "runs.sqlite")
    first, second = checked(store, 2)
    store.claim(first, "editor")
    with pytest.raises(IntegrityError), store.engine.begin() as conn:  # even a write that skips the claim
        conn.execute(update(RUNS).where(RUNS.c.id == second.id).values(state="queued"))


def test_the_same_run_cannot_be_applied_twice_and_a_finished_run_frees_the_organization(tmp_path):
    store = sqlite_store(tmp_path / "runs.sqlite")
    first, second = checked(store, 2)
    store.claim(first, "editor")
    with pytest.raises(Busy, match="already being applied"):
        store.claim(first, "editor")
    first.move(RunState.APPLYING)
    first.move(RunState.DONE)
    store.save(first)
    store.claim(second, "admin")  # the organization is free again
    runs, total = store.history("org-1")
    assert [r.filename for r in runs] == ["w1.xlsx", "w0.xlsx"] and total == 2  # newest first
    second.move(RunState.APPLYING)
    second.move(RunState.DONE)
    store.save(second)
    with pytest.raises(Busy, match="applied already"):
        store.claim(store.get(first.id), "editor")


def test_a_run_whose_worker_stopped_beating_is_resumed_by_a_sweep_never_by_looking(tmp_path):
    from bcdc_bulk.web.jobs import sweep

    store = sqlite_store(tmp_path / "runs.sqlite")
    run, other = checked(store, 2)
    store.claim(run, "editor")
    assert not run.stale(limit=60) and run.stale(now=time.time() + 61, limit=60)
    run.heartbeat -= 61
    store.save(run)
    with pytest.raises(Busy, match="stopped when its worker stopped; open it from the history and press Resume"):
        store.claim(other, "editor")  # a dead apply is resumed, never overtaken: its journal knows what landed
    handed: list[str] = []
    assert [r.id for r in sweep(store, 60, lambda r: handed.append(r.id))] == [run.id] == handed
    assert not store.get(run.id).stale(limit=60) and sweep(store, 60, handed.append) == []


def test_history_pages_come_from_an_indexed_query_newest_first(tmp_path):
    store = sqlite_store(tmp_path / "runs.sqlite")
    checked(store, 45)
    checked(store, 3, org="org-2")
    first, total = store.history("org-1", 1)
    last, _ = store.history("org-1", 3)
    assert total == 45 and len(first) == 20 and len(last) == 5
    assert first[0].filename == "w44.xlsx" and last[-1].filename == "w0.xlsx"
    from sqlalchemy import text

    with store.engine.connect() as conn:  # the page's query is answered from the history index
        plan = " ".join(str(r) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM bcdc_bulk_run WHERE org_id = 'org-1' AND kind = 'edit' "
            "ORDER BY created DESC LIMIT 20")))
    assert "bcdc_bulk_run_history" in plan


def test_files_and_journals_live_in_the_database_and_old_ones_are_purged(tmp_path):
    store = sqlite_store(tmp_path / "runs.sqlite")
    old, new = checked(store, 2)
    store.put(old, "report.xlsx", b"report")
    store.put(old, "report.xlsx", b"report again")  # replaced, not doubled
    assert store.read(old, "report.xlsx") == b"report again" and store.names(old) == {"workbook.xlsx", "report.xlsx"}
    lines = store.journal(old)
    lines.append('{"a": 1}')
    lines.append('{"b": 2}')
    assert store.journal(old).read() == ['{"a": 1}', '{"b": 2}']
    old.created -= 400 * 86400
    store.save(old)
    assert store.purge(365) == 1 and store.purge(365) == 0
    assert store.names(old) == set() and store.journal(old).read() == []
    assert store.get(old.id).files_purged and store.get(old.id).filename == "w0.xlsx"  # the history row stays
    assert store.names(new) == {"workbook.xlsx"}


def test_the_check_page_shows_what_the_catalogue_holds_now_and_what_changed_since_the_export(tmp_path):
    from test_catalogue_contract import memory_world


    world = memory_world(2)
    p0, p1 = world.packages
    world.edit_as_someone_else(p1["id"], "purpose", "Line one\nline two")
    export = tmp_path / "org.xlsx"
    book = export_open(world, export)
    ws = book["Datasets"]
    cols = columns(ws)
    for row in range(3, ws.max_row + 1):
        ws.cell(row, cols["purpose"]).value = "Mine"
    book.save(export)
    world.edit_as_someone_else(p0["id"], "purpose", "Theirs")
    world.edit_as_someone_else(p1["id"], "purpose", "Line one\r\nline two")  # saved from Windows: looks the same
    view = bb.check(export, world.catalogue).page()
    shown = {d["name"]: d["changes"][0] for d in view["datasets"]}
    assert shown[p0["name"]]["old"] == "Theirs"  # what the catalogue holds, not what was exported
    assert shown[p0["name"]]["since"] == (
        f"changed in the catalogue since your export (exported: '{p0.get('purpose') or ''}')")
    assert shown[p1["name"]]["since"].startswith("changed in the catalogue since your export, though it looks the "
                                                 "same: they differ only in line endings")


def test_a_dataset_not_sent_points_to_its_errors_above_instead_of_saying_them_again(tmp_path):
    from test_catalogue_contract import memory_world

    world = memory_world(2)
    export = tmp_path / "org.xlsx"
    book = export_open(world, export)
    put_row(book["Datasets"], {"title": "", "name": "Not A Name"}, row=3)
    put_row(book["Datasets"], {"purpose": "Fine"}, row=4)
    book.save(export)
    view = bb.check(export, world.catalogue).page()
    blocked = [d for d in view["datasets"] if not d["sent"]]
    errors = [p for p in view["problems"] if p["severity"] == "error"]
    assert len(blocked) == 1 and len(errors) == 2
    assert blocked[0]["why"] == ("the 2 errors listed above (Datasets row 3) stop this dataset; nothing of it is "
                                 "sent until they are fixed")
    assert [d["why"] for d in view["datasets"] if d["sent"]] == [""]


def test_a_run_moves_only_as_its_life_allows_and_only_run_move_changes_a_state(tmp_path):
    import ast
    from pathlib import Path

    from bcdc_bulk.web.runs import MOVES

    store = sqlite_store(tmp_path / "runs.sqlite")
    (run,) = checked(store, 1)
    with pytest.raises(ValueError, match="cannot move from checked to done"):
        run.move(RunState.DONE)  # never applied: it cannot be done
    store.claim(run, "editor")
    run.move(RunState.APPLYING)
    run.move(RunState.FAILED, "the catalogue stopped answering")
    assert (run.state, run.message) == (RunState.FAILED, "the catalogue stopped answering")
    with pytest.raises(ValueError):
        run.move(RunState.QUEUED)  # a failed run is not applied again: its workbook is uploaded again
    assert set(MOVES) == set(RunState) and all(set(to) <= set(RunState) for to in MOVES.values())
    assert [s for s, to in MOVES.items() if not to] == [RunState.REFUSED, RunState.DONE, RunState.FAILED]
    web = Path(bb.__file__).parent / "web"
    assigned = [f"{path.name}:{node.lineno}" for path in sorted(web.glob("*.py"))
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, (ast.Assign, ast.AugAssign)) and any(
                    isinstance(t, ast.Attribute) and t.attr == "state" or isinstance(t, ast.Tuple) and any(
                        isinstance(e, ast.Attribute) and e.attr == "state" for e in t.elts)
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    assert assigned == [f"runs.py:{_move_line(web / 'runs.py')}"]  # in Run.move alone


def _move_line(path) -> int:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    move = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "move")
    return next(n.lineno for n in ast.walk(move) if isinstance(n, ast.Assign))
