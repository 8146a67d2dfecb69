"""The web extension's long work, run by CKAN's job workers (never inside a page request): the check of
an uploaded workbook, its apply, an inventory, a large organization's export. Each job reads its run
and files from the database, works in a temporary folder of its own pod that is gone when it ends,
and puts what it made back in the database, with a heartbeat while it works. The same library calls
as the command line, so both give the same plan and the same report for the same workbook."""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcdc_bulk as bb
from bcdc_bulk.errors import BulkError, WorkbookError
from bcdc_bulk.web.runs import Run, RunKind, RunState, RunStore, now_text
from bcdc_bulk.web.uploads import check_origin

log = logging.getLogger(__name__)
PLAN_TEXT, PAGE_JSON, ANNOTATED, REPORT, REPORT_ROWS, UNDO, RESULT = (
    "plan.txt", "check.json", "annotated.xlsx", "report.xlsx", "report.jsonl", "undo.xlsx", "result.xlsx")
BEAT_SECONDS = 2.0
JOB_NICENESS = 10
Enqueue = Callable[[Run], None]


def _catalogue(run: Run, site: str, as_user: str | None = None) -> bb.Catalogue:

    return bb.connect_as(as_user or run.user, site)


# --- checking an upload -------------------------------------------------------------------------

def check_job(store: RunStore, run_id: str, site: str) -> None:
    """Check an uploaded workbook as its user: the plan, the problems, the annotated copy, the page;
    nothing written to the catalogue. A workbook that cannot be taken is refused, in words."""
    run = store.get(run_id)
    if run is None or run.state is not RunState.CHECKING:
        return
    with store.working_on(run) as mine, _Heartbeat(store, run):
        if not mine:
            return
        try:
            check_run(store, run, _catalogue(run, site))
        except WorkbookError as exc:
            run.move(RunState.REFUSED, f"The workbook was not taken: {exc}")
        except Exception as exc:  # the page must say so, never stay 'checking'
            log.exception("bcdc_bulk: the check of run %s failed", run.id)
            run.move(RunState.REFUSED, f"The check stopped on an unexpected error ({type(exc).__name__})")
        store.save(run)


def check_run(store: RunStore, run: Run, catalogue: bb.Catalogue) -> bb.Check:
    """Check a run's workbook (kept in the database) and keep what the pages show."""
    with tempfile.TemporaryDirectory(prefix="bcdc-bulk-check-") as folder:
        workbook = Path(folder) / "workbook.xlsx"
        workbook.write_bytes(store.read(run, store.WORKBOOK) or b"")
        book = bb.read(workbook)
        check_origin(book, catalogue.site, run.org_name)
        checked = bb.check(book, catalogue, local_files=False)  # a server opens no file a workbook names
        calls = checked.calls()
        lines = checked.plan_text(site=catalogue.site)
        store.put(run, PLAN_TEXT, ("\n".join(lines) + "\n").encode())
        if checked.problems:
            bb.annotate(workbook, Path(folder) / ANNOTATED, checked.problems)
            store.put(run, ANNOTATED, (Path(folder) / ANNOTATED).read_bytes())
    view = checked.page(catalogue.site)
    store.put(run, PAGE_JSON, json.dumps(view, ensure_ascii=False, default=str).encode())
    report = checked.report
    run.valid, run.errors, run.warnings = report.valid, len(report.errors), len(report.problems) - len(report.errors)
    run.records, run.calls = len({c.record for c in calls}), len(calls)
    run.move(RunState.CHECKED)
    return checked


# --- applying -----------------------------------------------------------------------------------

def apply_job(store: RunStore, run_id: str, site: str, workers: int = 4, rate: float = 0.0) -> None:
    """Apply a run's workbook as the user who asked, with progress, then the report and the undo
    workbook. Started again after its worker died, the journal (in the database) keeps every change to
    one write; a second job of the same run while one works returns at once."""
    run = store.get(run_id)
    if run is None or run.state not in (RunState.QUEUED, RunState.APPLYING):
        return  # done already, or never asked for
    with store.working_on(run) as mine:
        if not mine:
            return  # this run is being applied by a live worker
        with _Heartbeat(store, run) as beat:
            _apply(store, run, site, workers, rate, beat)
            run.finished_at = now_text()
            beat.save()
        if run.undo_of and run.state is RunState.DONE:
            _mark_undone(store, run)


def _apply(store: RunStore, run: Run, site: str, workers: int, rate: float, beat: _Heartbeat) -> None:
    run.move(RunState.APPLYING)
    beat.save()
    try:
        with tempfile.TemporaryDirectory(prefix="bcdc-bulk-apply-") as folder:
            workbook = Path(folder) / "workbook.xlsx"
            workbook.write_bytes(store.read(run, store.WORKBOOK) or b"")
            settings = bb.ApplySettings(workers=workers, max_rate=rate, undo=Path(folder) / UNDO,
                                        journal_lines=store.journal(run), local_files=False)
            result = bb.apply(workbook, _catalogue(run, site, run.applied_by), settings, progress=beat.progress)
            paths = bb.report(result, Path(folder) / REPORT)
            store.put(run, REPORT, paths[0].read_bytes())
            store.put(run, REPORT_ROWS, paths[2].read_bytes())
            if result.undo is not None and result.undo.exists():
                store.put(run, UNDO, result.undo.read_bytes())
        run.counts = {k: v for k, v in result.counts.items() if v}
        run.datasets = len({r.dataset_id or r.dataset for r in result.rows})
        run.move(RunState.DONE)
        run.message = "" if result.complete else "some rows were not applied: see their status and message"
    except BulkError as exc:
        run.move(RunState.FAILED, str(exc))
    except Exception as exc:  # the run must end with a page that says so, never stay 'applying'
        log.exception("bcdc_bulk: run %s failed", run.id)
        run.move(RunState.FAILED, f"the run stopped on an unexpected error ({type(exc).__name__})")


def _mark_undone(store: RunStore, undo: Run) -> None:
    original = store.get(undo.undo_of)
    if original is not None:
        original.undone_by = undo.id
        store.save(original)


# --- inventories and large exports ---------------------------------------------------------------

def prepare_job(store: RunStore, run_id: str, site: str) -> None:
    """Write an inventory (of an organization, or the whole catalogue) or an organization's workbook."""
    run = store.get(run_id)
    if run is None or run.state is not RunState.PREPARING:
        return
    with store.working_on(run) as mine:
        if not mine:
            return
        with _Heartbeat(store, run) as beat:
            try:
                with tempfile.TemporaryDirectory(prefix="bcdc-bulk-prepare-") as folder:
                    path = Path(folder) / RESULT
                    _prepare(run, _catalogue(run, site), path, beat)
                    store.put(run, RESULT, path.read_bytes())
                run.move(RunState.DONE)
            except BulkError as exc:
                run.move(RunState.FAILED, str(exc))
            except Exception as exc:
                log.exception("bcdc_bulk: run %s failed", run.id)
                run.move(RunState.FAILED, f"it stopped on an unexpected error ({type(exc).__name__})")
            run.finished_at = now_text()
            beat.save()


def _prepare(run: Run, catalogue: bb.Catalogue, path: Path, beat: _Heartbeat) -> None:
    if run.kind is RunKind.INVENTORY:
        bb.inventory(catalogue, path, [run.org_name] if run.org_id else None, progress=beat.progress)
    elif run.options.get("mine"):  # the user's drafts in every organization where they may edit
        bb.export_mine(catalogue, path, state=str(run.options.get("state") or "") or None, progress=beat.progress)
    else:
        bb.export(catalogue, path, run.org_name, include_suborgs=bool(run.options.get("suborgs")),
                  progress=beat.progress)


# --- resuming what a dead worker left -----------------------------------------------------------

def sweep(store: RunStore, stale_after: float, enqueue: Enqueue) -> list[Run]:
    """Give every run whose job died (its heartbeat stopped) to a new job; the runs given."""
    given = []
    for run in store.stale_runs(stale_after):
        store.requeue(run)
        enqueue(run)
        given.append(run)
    return given


class _Heartbeat:
    """Beats every two seconds while the job lives (with its progress), so a page can tell a working
    job (however long one call takes) from one whose worker died."""

    def __init__(self, store: RunStore, run: Run) -> None:
        self.store, self.run = store, run
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.save()
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _beat(self) -> None:
        while not self.stopped.wait(BEAT_SECONDS):
            try:
                self.save()
            except Exception:  # noqa: BLE001 (a missed beat is retried; the job goes on)
                log.warning("bcdc_bulk: a heartbeat of run %s was missed", self.run.id)

    def save(self) -> None:
        """Write the run's state and heartbeat now."""
        with self.lock:
            self.store.beat(self.run)

    def progress(self, label: str, total: int) -> Callable[[int], None]:
        """A progress callback for the library: the page polls what it records."""
        self.run.progress = {"label": label, "done": 0, "total": total}
        last = [0.0]

        def tick(n: int) -> None:
            self.run.progress["done"] = self.run.progress.get("done", 0) + n
            if time.monotonic() - last[0] > 0.5:
                last[0] = time.monotonic()
                self.save()
        return tick


# --- what CKAN's job queue runs (plain arguments: the queue keeps them in Redis) -----------------

def ckan_store() -> RunStore:
    """The run store on CKAN's own database engine."""
    from ckan.model import meta

    from bcdc_bulk.web.settings import options

    return RunStore(meta.engine, options().stale_after)


def enqueue(run: Run) -> None:
    """Hand a run to CKAN's job queue: its check, apply, or the file it prepares."""
    from ckan.plugins import toolkit

    from bcdc_bulk.web.settings import options

    opts = options()
    site = toolkit.config.get("ckan.site_url")
    if run.state is RunState.CHECKING:
        job, args, title = queued_check, [run.id, site], f"bcdc-bulk check of {run.filename}"
    elif run.state in (RunState.QUEUED, RunState.APPLYING):
        job, args, title = queued_apply, [run.id, site, opts.workers, opts.rate], f"bcdc-bulk apply {run.filename}"
    else:
        job, args, title = queued_prepare, [run.id, site], f"bcdc-bulk {run.kind} {run.filename}"
    toolkit.enqueue_job(job, args, title=f"{title} ({run.org_name or 'catalogue'})", rq_kwargs={"timeout": 3600})


def _swept(store: RunStore) -> RunStore:
    from bcdc_bulk.web.settings import options

    _yield_to_pages()
    sweep(store, options().stale_after, enqueue)  # a job whose worker died is handed on by the next job
    return store


def _yield_to_pages() -> None:
    """A job is background work: where a worker shares a machine with web processes, the pages come
    first (the job's process runs at a lower CPU priority; on its own pod this changes nothing)."""
    try:
        if os.nice(0) < JOB_NICENESS:
            os.nice(JOB_NICENESS - os.nice(0))
    except OSError:  # not allowed here: the job runs as it is
        pass


def queued_check(run_id: str, site: str) -> None:
    """The check job, as the queue runs it."""
    check_job(_swept(ckan_store()), run_id, site)


def queued_apply(run_id: str, site: str, workers: int = 4, rate: float = 0.0) -> None:
    """The apply job, as the queue runs it."""
    apply_job(_swept(ckan_store()), run_id, site, workers, rate)


def queued_prepare(run_id: str, site: str) -> None:
    """The inventory or export job, as the queue runs it."""
    prepare_job(_swept(ckan_store()), run_id, site)
