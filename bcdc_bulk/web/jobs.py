"""What the web extension does with a run, on top of the library API: check an uploaded workbook
(the plan, the problems, the annotated copy), and apply it as a background job with progress, a
report and an undo workbook. The same calls as the command line, so both give the same plan and
the same report for the same workbook."""
from __future__ import annotations

import fcntl
import json
import logging
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcdc_bulk as bb
from bcdc_bulk.catalogue import Catalogue
from bcdc_bulk.converters import Converters, same_value
from bcdc_bulk.errors import BulkError
from bcdc_bulk.invisible import invisible_difference
from bcdc_bulk.planning import describe, quoted
from bcdc_bulk.problems import Problem
from bcdc_bulk.reporting import plan_lines, write_apply_report
from bcdc_bulk.verifying import value_now
from bcdc_bulk.web.runs import Run, RunState, RunStore, now_text
from bcdc_bulk.web.uploads import check_origin

log = logging.getLogger(__name__)
PLAN_TEXT, PAGE_JSON, ANNOTATED, REPORT, UNDO, JOURNAL, CHECKED = (
    "plan.txt", "check.json", "annotated.xlsx", "report.xlsx", "undo.xlsx", "journal.jsonl", "check.pickle")
FRESH_SECONDS = 900.0  # a check this recent, by the user who applies, is not made again


def check_run(store: RunStore, run: Run, catalogue: Catalogue) -> bb.Check:
    """Check a run's workbook as its user: the plan, the problems, the annotated copy; nothing written.
    Raises WorkbookError (with the sheet, row and column) when the workbook cannot be read at all."""
    workbook = store.file(run, store.WORKBOOK)
    book = bb.read(workbook)
    check_origin(book, catalogue.site, run.org_name)
    checked = bb.check(book, catalogue, local_files=False)  # a server opens no file a workbook names
    with store.file(run, CHECKED).open("wb") as out:  # the job applies this check, if it is still fresh
        pickle.dump(checked, out)
    calls = checked.calls()
    store.file(run, PLAN_TEXT).write_text("\n".join(plan_lines(checked.plan, checked.report, calls)) + "\n",
                                          encoding="utf-8")
    if checked.problems:
        bb.annotate(workbook, store.file(run, ANNOTATED), checked.problems)
    view = page_view(checked, _words(checked, catalogue))
    store.file(run, PAGE_JSON).write_text(json.dumps(view, ensure_ascii=False, default=str), encoding="utf-8")
    report = checked.report
    run.valid, run.errors, run.warnings = report.valid, len(report.errors), len(report.problems) - len(report.errors)
    run.records, run.calls = len({c.record for c in calls}), len(calls)
    store.save(run)
    return checked


def _words(checked: bb.Check, catalogue: Catalogue) -> Converters | None:
    """The converters the workbook's cells use, so the page shows values as the workbook does."""
    if checked.plan.schema is None:
        return None
    licences = {str(lic["id"]): lic.get("title") or str(lic["id"]) for lic in catalogue.licenses()}
    return Converters(checked.plan.schema, {o.id: o.name for o in catalogue.organizations()}, licences)


def page_view(checked: bb.Check, words: Converters | None = None) -> dict[str, Any]:
    """What the check page shows: problems by sheet, row and column, and per dataset each change
    (old -> new, in the workbook's words when ``words`` is given) and whether it is sent, and if not, why."""
    blocked = checked.report.blocked_records()
    errors_of: dict[str, list[str]] = {}
    for p in checked.report.errors:
        errors_of.setdefault(p.record, []).append(f"{p.sheet}, row {p.row}, column {p.column}: {p.message}"
                                                  if p.row and p.column else f"{p.where}: {p.message}")
    datasets = []
    current = getattr(checked, "current", None) or {}
    for rec in checked.plan.records:
        now = current.get(rec.key)
        changes = []
        for c in rec.changes:
            new_resource = c.field == "resources" and c.resource_id is None
            found, value = value_now(now, c) if now is not None and not new_resource else (True, c.old)
            changes.append({"field": _label(c.field, c.label, c.resource_id, words),
                            "old": _shown(value, c, words), "new": _shown(c.new, c, words), "words": describe(c),
                            "where": _cell(c.cell), "since": _since_export(c, found, value)})
        datasets.append({"name": rec.name or rec.key, "action": rec.action, "sent": rec.key not in blocked,
                         "why": errors_of.get(rec.key, []), "changes": changes})
    return {"problems": [_problem(p) for p in checked.problems], "datasets": datasets,
            "ignored": [{"where": f"{n.sheet} row {n.row}" if n.row else n.sheet, "record": n.record,
                         "message": n.message} for n in checked.plan.ignored]}


def _since_export(change: Any, found: bool, now: Any) -> str:
    """What changed in the catalogue since the export, for a change whose value there is no longer
    the exported one (it will be a conflict); '' when it is still as exported."""
    if not found:
        return "deleted in the catalogue since your export"
    if change.removal or same_value(now, change.old) or same_value(now, change.new):
        return ""
    unseen = invisible_difference(now, change.old)
    if unseen:
        return f"changed in the catalogue since your export, though it looks the same: {unseen}"
    return f"changed in the catalogue since your export (exported: {quoted(change.old if change.old is not None else '')})"


def _problem(p: Problem) -> dict[str, Any]:
    return {"where": p.where, "sheet": p.sheet, "row": p.row, "column": p.column, "dataset": p.dataset,
            "field": p.field, "severity": str(p.severity), "message": p.message, "code": str(p.code)}


def _cell(cell: Any) -> str:
    if cell is None:
        return ""
    return f"{cell.sheet}, row {cell.row}" + (f", column {cell.column}" if cell.column else "")


def _label(name: str, fallback: str, resource_id: str | None, words: Converters | None) -> str:
    """A field as the catalogue's form names it ('Security Classification'), else as the plan does."""
    if words is None:
        return fallback
    fld = words.schema.resource_field(name) if resource_id else words.schema.dataset_field(name)
    return f"{fld.display_label} ({fallback})" if fld is not None else fallback


def _shown(value: Any, change: Any, words: Converters | None) -> str:
    if value in (None, "", []):
        return ""
    if words is not None and words.schema is not None and not isinstance(value, dict) and not (
            isinstance(value, list) and value and isinstance(value[0], dict) and change.field != "tags"):
        schema = words.schema
        fld = schema.resource_field(change.field) if change.resource_id else schema.dataset_field(change.field)
        value = words.of(change.field, fld).text(value)
    return quoted(value)[1:-1]


def apply_run(run_id: str, root: str, site: str, workers: int = 4, rate: float = 0.0) -> None:
    """The background job: apply a run's workbook as the user who asked, with progress in run.json,
    then the report and the undo workbook beside it. Started again after a worker restart, its journal
    keeps every change to one write; a second job of the same run while one works returns at once."""
    store = RunStore(Path(root))
    run = store.get(run_id)
    if run is None or run.state not in (RunState.QUEUED, RunState.APPLYING):
        return  # done already, or never asked for
    with open(store.file(run, "apply.lock"), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the OS lets go when a killed worker dies
        except BlockingIOError:
            return  # this run is being applied by a live worker
        beat = _Heartbeat(store, run)
        try:
            _apply(store, run, site, workers, rate, beat)
        finally:
            beat.stop()
        run.finished_at = now_text()
        beat.save()


def _apply(store: RunStore, run: Run, site: str, workers: int, rate: float, beat: _Heartbeat) -> None:
    from bcdc_bulk.catalogue import LocalCatalogue

    run.state = RunState.APPLYING
    beat.save()
    try:
        catalogue = LocalCatalogue(run.applied_by, site)
        settings = bb.ApplySettings(workers=workers, max_rate=rate, journal=store.file(run, JOURNAL),
                                    undo=store.file(run, UNDO), local_files=False)  # a server uploads none of its files
        result = bb.apply(store.file(run, store.WORKBOOK), catalogue, settings, progress=_progress(run, beat),
                          checked=_fresh_check(store, run))
        write_apply_report(store.file(run, REPORT), [r.as_dict() for r in result.rows], result.counts)
        run.counts, run.state = {k: v for k, v in result.counts.items() if v}, RunState.DONE
        run.message = "" if result.complete else "some rows were not applied: see their status and message"
    except BulkError as exc:
        run.state, run.message = RunState.FAILED, str(exc)
    except Exception as exc:  # the run must end with a page that says so, never stay 'applying'
        log.exception("bcdc_bulk: run %s failed", run.id)
        run.state, run.message = RunState.FAILED, f"the run stopped on an unexpected error ({type(exc).__name__})"


def _fresh_check(store: RunStore, run: Run) -> bb.Check | None:
    """The upload's check, when the one applying is the one who uploaded it, within FRESH_SECONDS, and
    this is the first start of the job (a resumed job checks again: time has passed)."""
    path = store.file(run, CHECKED)
    if run.applied_by != run.user or not path.exists() or store.file(run, JOURNAL).exists():
        return None
    if time.time() - path.stat().st_mtime > FRESH_SECONDS:
        return None
    with path.open("rb") as handle:
        return pickle.load(handle)  # written by check_run on this server, never from an upload


class _Heartbeat:
    """Keeps run.json's heartbeat fresh every two seconds while the job lives, so a page can tell a
    working apply (however long one call takes) from one whose worker died."""

    def __init__(self, store: RunStore, run: Run) -> None:
        self.store, self.run = store, run
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        while not self.stopped.wait(2.0):
            self.save()

    def save(self) -> None:
        """Write run.json with a fresh heartbeat (one writer at a time)."""
        with self.lock:
            self.run.heartbeat = time.time()
            self.store.save(self.run)

    def stop(self) -> None:
        """Stop beating."""
        self.stopped.set()
        self.thread.join()


def _progress(run: Run, beat: _Heartbeat) -> Callable[[str, int], Callable[[int], None]]:
    """A progress factory that keeps run.json's progress (written at most twice a second)."""
    def factory(label: str, total: int) -> Callable[[int], None]:
        run.progress = {"label": label, "done": 0, "total": total}
        last = [0.0]

        def tick(n: int) -> None:
            run.progress["done"] += n
            now = time.time()
            if now - last[0] >= 0.5 or run.progress["done"] >= total:
                last[0] = now
                beat.save()
        beat.save()
        return tick
    return factory
