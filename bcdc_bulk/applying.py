"""Applying: write a workbook's changes to the catalogue, safely, and say what happened to every row.

The order of things, per run:
1. validate the workbook; records with errors are not sent (``invalid``);
2. read the changed records as they are now (one search per 500), and sort each changed
   field into: already there (``unchanged``), still as exported (to write), or changed by
   someone else since the export (``conflict``: the record is not written);
3. save the values about to be replaced to an undo workbook;
4. send the calls from a bounded pool of workers, with a rate limit, retrying transient
   failures only (backoff with jitter, Retry-After); a write whose outcome is unknown
   (timeout, dropped connection, gateway error) is read back before it is tried again, so
   nothing is written twice and no dataset is created twice;
5. journal every outcome as it happens, so a rerun resumes: what landed is ``unchanged``.

Its parts: results.py (statuses, outcomes, row results), settled.py (step 2), sending.py (step 4's
calls), journal.py (step 5); this module runs them and writes the records.
"""
from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcdc_bulk.calls import Call, record_calls
from bcdc_bulk.converters import same_value
from bcdc_bulk.errors import (
    BulkError,
    CatalogueError,
    NotAuthorized,
    NotFound,
    ServerValidationError,
    TransientError,
)
from bcdc_bulk.journal import FileLines, Journal, journal_beside
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import FieldChange, Plan, RecordPlan
from bcdc_bulk.problems import ValidationReport
from bcdc_bulk.results import (
    APPLIED,
    CONFLICT,
    CREATED,
    FAILED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    ApplyResult,
    ApplySettings,
    Outcome,
    Preview,
    RecordOutcome,
    RowResult,
    Status,
)
from bcdc_bulk.row_results import RowGatherer, rows_not_sent
from bcdc_bulk.sending import Sender
from bcdc_bulk.settled import is_our_creation, new_resource_there, own_creations, sort_changes
from bcdc_bulk.verifying import change_shortfall, new_resource_in, value_now
from bcdc_bulk.wording import Wording

if TYPE_CHECKING:
    from bcdc_bulk.catalogue import Catalogue


REMOVALS = ("package_delete", "resource_delete")


def _after(now: dict[str, Any], pending: list[FieldChange]) -> dict[str, Any]:
    """The package as it will be once the pending changes land (for the undo workbook)."""
    after = copy.deepcopy(now)
    for change in pending:
        if change.removal and change.resource_id:
            after["resources"] = [r for r in after["resources"] if r.get("id") != change.resource_id]
            continue
        container = after if not change.resource_id else next(
            r for r in after["resources"] if r.get("id") == change.resource_id)
        container[change.field] = change.new
    return after


# --- the run ----------------------------------------------------------------------------------------

class RecordWriter:
    """Writes records for a run, one at a time per worker, and says what happened to each change:
    journals every call, verifies what the catalogue holds after each write."""

    def __init__(self, sender: Sender, journal: Journal) -> None:
        self.sender = sender
        self.catalogue = sender.catalogue
        self.settings = sender.settings
        self.journal = journal
        self.stop = sender.stop

    def update(self, rec: RecordPlan, current: dict[str, Any] | None,
               sorted_changes: tuple[list[FieldChange], list[FieldChange], list[str]] | None
               ) -> RecordOutcome:
        """Write one existing record; what happened, change by change."""
        outcome = RecordOutcome()
        if (current is None or current.get("state") == "deleted") and rec.action == "delete":
            return RecordOutcome(Outcome(UNCHANGED, said(Say.ALREADY_REMOVED)))
        if current is None or sorted_changes is None:
            return RecordOutcome(Outcome(FAILED, said(Say.DATASET_GONE)))
        pending, done, conflicts = sorted_changes
        if conflicts:  # the whole record waits: its rows are one dataset, saved together
            return RecordOutcome(Outcome(CONFLICT, said(Say.NOT_WRITTEN_CONFLICT, conflicts="; ".join(conflicts))))
        for change in done:
            outcome.changes[change.id] = Outcome(UNCHANGED, said(Say.HAS_VALUE))
        added = [c for c in rec.changes if c.new_index is not None]
        there = [c for c in added if new_resource_there(current, c.new)]
        for change in there:
            outcome.changes[change.id] = Outcome(UNCHANGED, said(Say.HAS_RESOURCE))
        if not pending and len(there) == len(added):
            return outcome
        todo = copy.copy(rec)
        landed = {c.id for c in there}
        todo.changes = pending + [c for c in added if c.id not in landed]
        todo.new_resources = [c.new_index for c in todo.changes if c.new_index is not None]
        for call in record_calls(todo, self.settings.method):
            if self.stop.is_set():
                _record(outcome, call.changes, Outcome(SKIPPED, said(Say.STOPPED)))
                continue
            if self.settings.dry_run:
                done_status = REMOVED if call.action in REMOVALS else APPLIED
                _record(outcome, call.changes, Outcome(done_status, said(Say.DRY_RUN_SENT)))
                continue

            def landed(call: Call = call) -> bool:
                now = self.catalogue.package(rec.after["id"])
                if call.action == "package_delete":
                    return now is None or now.get("state") == "deleted"
                if now is None:
                    return False
                return all(same_value(value_now(now, c)[1], c.new) for c in call.changes
                           if not (c.field == "resources" and not c.resource_id)) and all(
                    new_resource_there(now, c.new) for c in call.changes
                    if c.field == "resources" and not c.resource_id)

            sent, answer = self._send(call, rec, landed, REMOVED if call.action in REMOVALS else APPLIED)
            _record(outcome, call.changes, sent)
            if sent.status in (APPLIED, REMOVED):
                self._check(call, rec, answer, outcome, sent)
        return outcome

    def create(self, rec: RecordPlan) -> RecordOutcome:
        """Create one new dataset (and its uploads), never twice."""
        earlier = self.journal.created.get(rec.key)
        ref = earlier or rec.after.get("name") or ""
        existing = self.sender.read(lambda: self.catalogue.package(ref)) if ref else None
        if existing is not None:
            if earlier or is_our_creation(rec, existing):
                return RecordOutcome(Outcome(UNCHANGED, said(Say.ALREADY_CREATED, id=existing["id"])))
            return RecordOutcome(Outcome(CONFLICT, said(Say.NAME_TAKEN_SINCE, name=rec.name)))
        if self.settings.dry_run:
            return RecordOutcome(Outcome(CREATED, said(Say.DRY_RUN_CREATED)))
        if self.stop.is_set():
            return RecordOutcome(Outcome(SKIPPED, said(Say.STOPPED)))
        calls = record_calls(rec, self.settings.method)
        sent = Outcome(CREATED)
        for n, call in enumerate(calls):
            if n:  # uploads after the dataset exists
                call.data["package_id"] = rec.after.get("id") or rec.name

            def landed(call: Call = call) -> bool:
                now = self.catalogue.package(rec.name)
                if now is None:
                    return False
                if call.action == "package_create":
                    rec.after["id"] = now["id"]
                    return now.get("title") == rec.after.get("title")
                return any(r.get("name") == call.data.get("name") for r in now.get("resources") or [])

            sent, answer = self._send(call, rec, landed, CREATED)
            if sent.status != CREATED:
                break
            wrong, _ = self.verify(call, rec, answer)
            if wrong:
                sent = _not_kept("; ".join(short for _, short in wrong), sent.attempts, created=True)
                break
        return RecordOutcome(sent)

    def _send(self, call: Call, rec: RecordPlan, landed: Callable[[], bool], ok: Status) -> tuple[Outcome, Any]:
        """(what happened, the catalogue's answer: None when it gave none or refused) of one call."""
        try:
            answer, attempts = self.sender.send(call, landed)
        except (CatalogueError, TransientError) as exc:
            return self._refused(call, rec, exc), None
        if call.action == "package_create":
            created_id = (answer or {}).get("id") or rec.after.get("id")
            rec.after["id"] = created_id
            self.journal.write(record=rec.key, action=call.action, status=CREATED, id=created_id, name=rec.name,
                               modified=_modified(answer, created_id))
        else:
            self.journal.write(record=rec.key, action=call.action, status=ok, id=rec.after.get("id"),
                               modified=_modified(answer, rec.after.get("id")))
        return Outcome(ok, "", attempts), answer

    def _refused(self, call: Call, rec: RecordPlan, exc: Exception) -> Outcome:
        """A call that did not land, journalled and said in words."""
        outcome = self._refusal(rec, exc)
        self.journal.write(record=rec.key, action=call.action, status=outcome.status, message=str(exc))
        return outcome

    def _refusal(self, rec: RecordPlan, exc: Exception) -> Outcome:
        if isinstance(exc, ServerValidationError) and "match" in exc.errors:
            # changed by someone else between our read and this write
            fields = ", ".join(str(f) for f in exc.errors["match"]) if isinstance(exc.errors["match"], list) else ""
            return Outcome(CONFLICT, said(Say.CHANGED_WHILE_APPLYING, fields=fields), 1)
        if isinstance(exc, ServerValidationError):
            return Outcome(FAILED, said(Say.REFUSED, cells=_server_cells(rec, exc.errors)), 1)
        if isinstance(exc, NotAuthorized):
            return Outcome(FAILED, said(Say.FORBIDDEN), 1)
        if isinstance(exc, NotFound):
            return Outcome(FAILED, said(Say.NOT_FOUND), 1)
        if isinstance(exc, TransientError):
            tries = getattr(exc, "attempts", self.settings.retries + 1)
            if exc.status == 500:
                return Outcome(FAILED, said(Say.SERVER_FAULT, error=exc, tries=tries), tries)
            return Outcome(FAILED, said(Say.TRIED, error=exc, tries=tries), tries)
        return Outcome(FAILED, str(exc), 1)

    def stored_after(self, call: Call, rec: RecordPlan, answer: Any) -> dict[str, Any] | None:
        """The record as the catalogue holds it after a call: from the call's answer where it returns
        the record (no extra call), else read back."""
        if isinstance(answer, dict) and isinstance(answer.get("package"), dict):
            return answer["package"]  # package_revise
        if isinstance(answer, dict) and call.action in ("package_patch", "package_create"):
            return answer
        if isinstance(answer, dict) and call.action in ("resource_patch", "resource_create"):
            return {"id": rec.after.get("id"), "resources": [answer]}
        ref = rec.after.get("id") or rec.name
        try:
            return self.sender.read(lambda: self.catalogue.package(ref))
        except CatalogueError:
            return None

    def verify(self, call: Call, rec: RecordPlan, answer: Any
               ) -> tuple[list[tuple[FieldChange, str]], dict[str, Any] | None]:
        """(the changes of a call the catalogue does not hold after it, each with what it holds instead;
        the record as stored)."""
        stored = self.stored_after(call, rec, answer)
        wrong = [(c, short) for c in call.changes if (short := change_shortfall(c, stored))]
        for change, short in wrong:
            self.journal.write(record=rec.key, action=call.action, status=FAILED, message=short, field=change.label)
        return wrong, stored

    def _check(self, call: Call, rec: RecordPlan, answer: Any, outcome: RecordOutcome, sent: Outcome) -> None:
        """Verify a call that landed, change by change: one not held is failed; a new resource is told its
        id (one put back by an undo is a new resource with a new id)."""
        stored = self.stored_after(call, rec, answer)
        for change in call.changes:
            short = change_shortfall(change, stored)
            if short:
                self.journal.write(record=rec.key, action=call.action, status=FAILED, message=short, field=change.label)
                _record(outcome, [change], _not_kept(short, sent.attempts))
            elif change.field == "resources" and change.resource_id is None:
                found = new_resource_in(stored or {}, change.new or {})
                if found is not None and found.get("id"):
                    added = said(Say.ADDED_AS, id=found["id"])
                    _record(outcome, [change], Outcome(sent.status, added, sent.attempts))


def _not_kept(shortfall: str, attempts: int, created: bool = False) -> Outcome:
    """A write the catalogue took but did not keep as asked: what it holds, and that it was written."""
    return Outcome(FAILED, said(Say.NOT_KEPT_CREATED if created else Say.NOT_KEPT_SAVED, said=shortfall), attempts)


def _record(outcome: RecordOutcome, changes: list[FieldChange], sent: Outcome) -> None:
    """Note what happened to each of these changes."""
    for change in changes:
        outcome.changes[change.id] = sent


def _server_cells(rec: RecordPlan, errors: dict[str, Any]) -> str:
    """The server's ValidationError in words, each field placed in its workbook cell."""
    parts = []

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, path + (key,))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            cell = rec.locate(path)
            where = f"{cell.sheet}!{cell.column}{cell.row}" if cell.column and cell.row else cell.sheet
            parts.append(said(Say.REFUSED_CELL, where=where, path=".".join(str(p) for p in path), said=" ".join(value)))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                if sub:
                    walk(sub, path + (i,))
        elif value:
            parts.append(said(Say.REFUSED_FIELD, path=".".join(str(p) for p in path), said=value))

    walk(errors, ())
    return "; ".join(parts) or said(Say.NO_DETAILS)


def apply_plan(catalogue: Catalogue, plan: Plan, report: ValidationReport, settings: ApplySettings, workbook: Path,
               workbook_id: str, confirm: Callable[[Preview], bool] | None = None,
               progress: Callable[[str, int], Callable[[int], None]] | None = None,
               write_undo: Callable[[Path, list[tuple[dict[str, Any], dict[str, Any]]]], None] | None = None,
               ) -> ApplyResult:
    """Send a validated plan to the catalogue; the result has one row per changed or new row."""
    workbook = Path(workbook)
    journal_path = settings.journal or journal_beside(workbook)
    result = ApplyResult(journal=journal_path)
    words = Wording(plan.converters, catalogue.site, plan.labels)
    names = {res.get("id"): res.get("name") or "" for rec in plan.records for res in rec.after.get("resources") or []}
    not_sent, blocked = rows_not_sent(plan, report, words, names)
    result.rows.extend(not_sent)
    todo = [r for r in plan.records if r.key not in blocked]
    preview = Preview(site=catalogue.site, records=len(todo),
                      calls=sum(len(record_calls(r, settings.method)) for r in todo), invalid=len(blocked),
                      dry_run=settings.dry_run)
    if not todo:
        return result
    if confirm is not None and not confirm(preview):
        raise BulkError(said(Say.STOPPED_AS_ASKED))
    lines = settings.journal_lines or FileLines(journal_path)
    run = RecordWriter(Sender(catalogue, settings, workbook.parent), Journal(lines, workbook_id))
    updates = [r for r in todo if r.action != "create"]  # updates and removals: read as they are now
    current = run.sender.read(lambda: catalogue.packages_by_id([r.after["id"] for r in updates])) if updates else {}
    sorted_changes = {rec.key: sort_changes(rec, current[rec.after["id"]]) for rec in updates
                      if rec.after["id"] in current}
    if updates and not settings.dry_run and write_undo is not None:
        result.undo = _save_undo(updates, current, sorted_changes, settings, workbook, write_undo)

    def work(rec: RecordPlan) -> list[RowResult]:
        started = time.perf_counter()
        try:
            outcome = run.create(rec) if rec.action == "create" else run.update(
                rec, current.get(rec.after["id"]), sorted_changes.get(rec.key))
        except CatalogueError as exc:  # a read that failed for good: this record only
            outcome = RecordOutcome(Outcome(FAILED, str(exc), 1))
        return RowGatherer(words, names).record(rec, outcome, time.perf_counter() - started).results()

    def skipped(rec: RecordPlan) -> list[RowResult]:
        return RowGatherer(words, names).record(rec, RecordOutcome(Outcome(SKIPPED, said(Say.STOPPED)))).results()

    _run_pool(run, todo, work, result, progress("Applying", len(todo)) if progress else None, skipped)
    grown = [r for r in updates if r.new_resources and r.after["id"] in current]
    if result.undo is not None and grown and write_undo is not None:
        # the resources the run added have ids now: the undo workbook is written again to remove them
        added = _read_after(run, catalogue, grown)
        _save_undo(updates, current, sorted_changes, settings, workbook, write_undo, added, result.undo)
    result.calls_made = run.sender.calls_made
    result.rows.sort(key=lambda r: (r.sheet, r.row or 0))
    return result


def _read_after(run: RecordWriter, catalogue: Catalogue, records: list[RecordPlan]) -> dict[str, dict[str, Any]]:
    """The records as the catalogue holds them after the run (none when they cannot be read)."""
    try:
        return run.sender.read(lambda: catalogue.packages_by_id([r.after["id"] for r in records]))
    except CatalogueError:
        return {}


def _save_undo(updates: list[RecordPlan], current: dict[str, dict[str, Any]],
               sorted_changes: dict[str, tuple[list[FieldChange], list[FieldChange], list[str]]],
               settings: ApplySettings, workbook: Path,
               write_undo: Callable[[Path, list[tuple[dict[str, Any], dict[str, Any]]]], None],
               actual: dict[str, dict[str, Any]] | None = None, path: Path | None = None) -> Path | None:
    """Save the values the run is about to replace (or, with ``actual``, has replaced), as a workbook
    that puts them back; its path."""
    pairs = []
    for rec in updates:
        now = current.get(rec.after["id"])
        if now is None or rec.action == "delete":
            continue  # a removed dataset is restored by an admin in the catalogue, not by a workbook
        pending, _, conflicts = sorted_changes[rec.key]
        if (pending or rec.new_resources) and not conflicts:
            pairs.append((now, (actual or {}).get(rec.after["id"]) or _after(now, pending)))
    if not pairs:
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    undo = path or settings.undo or workbook.with_name(f"{workbook.stem}.undo-{stamp}.xlsx")
    write_undo(undo, pairs)
    return undo


def _modified(answer: Any, record_id: Any) -> str:
    """The record's modified time in a write's answer ('' when the answer is not the record, as a
    resource call's is not): what a later check compares with to know nobody else wrote since."""
    pkg = answer.get("package", answer) if isinstance(answer, dict) else None
    if isinstance(pkg, dict) and record_id and pkg.get("id") == record_id:
        return str(pkg.get("metadata_modified") or "")
    return ""


def _run_pool(run: RecordWriter, todo: list[RecordPlan], work: Callable[[RecordPlan], list[RowResult]], result: ApplyResult,
              tick: Callable[[int], None] | None, skipped: Callable[[RecordPlan], list[RowResult]]) -> None:
    """Work through the records with a bounded pool; on Ctrl-C finish what is in flight and skip the rest."""
    pool = ThreadPoolExecutor(max_workers=max(1, run.settings.workers))
    futures: dict[Future, RecordPlan] = {}
    queue = list(todo)
    try:
        while queue or futures:
            while queue and len(futures) < run.settings.workers * 2 and not run.stop.is_set():
                rec = queue.pop(0)
                futures[pool.submit(work, rec)] = rec
            if not futures:
                break
            finished, _ = wait(list(futures), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                futures.pop(future)
                result.rows.extend(future.result())
                if tick:
                    tick(1)
    except Exception as exc:  # a fault of ours, after writing began: stop cleanly and say what was written
        run.stop.set()  # the calls in flight finish (the pool is shut down below)
        error = BulkError(said(Say.APPLY_STOPPED, kind=type(exc).__name__, error=exc, calls=run.sender.calls_made))
        error.outcome = said(Say.APPLY_STOPPED_NEXT, journal=result.journal)
        raise error from exc
    except KeyboardInterrupt:
        run.stop.set()
        result.interrupted = True
        for future in list(futures):
            result.rows.extend(future.result())
        for rec in queue:
            result.rows.extend(skipped(rec))
    finally:
        pool.shutdown(wait=True)


def apply_checked(path: Path, catalogue: Catalogue, settings: ApplySettings, plan: Plan, report: ValidationReport,
                  fingerprint: str, confirm: Callable[[Preview], bool] | None = None,
                  progress: Callable[[str, int], Callable[[int], None]] | None = None) -> ApplyResult:
    """Apply a plan validated moments ago, of the workbook at ``path`` as it was then (the caller keeps
    the file unchanged, as the web extension keeps an upload)."""
    from bcdc_bulk.export import write_undo

    return apply_plan(catalogue, plan, report, settings, Path(path), fingerprint, confirm, progress,
                      lambda target, pairs: write_undo(catalogue, target, pairs))


def apply_workbook(path: Path, catalogue: Catalogue, settings: ApplySettings,
                   confirm: Callable[[Preview], bool] | None = None,
                   progress: Callable[[str, int], Callable[[int], None]] | None = None,
                   ) -> tuple[ApplyResult, ValidationReport]:
    """Read, validate and apply a workbook to a live catalogue."""
    from bcdc_bulk.export import write_undo
    from bcdc_bulk.rebasing import follow_own_writes
    from bcdc_bulk.validation import adopt_catalogue_words, check_site, validate_workbook
    from bcdc_bulk.workbook_read import read_workbook

    book = read_workbook(Path(path))
    check_site(book, catalogue.site)
    adopt_catalogue_words(book, catalogue)
    (plan, report), _, _ = follow_own_writes(
        book, catalogue, lambda b: validate_workbook(b, catalogue, settings.local_files),
        settings.journal_lines or FileLines(settings.journal or journal_beside(path)))
    own_creations(plan, report, catalogue)
    result = apply_plan(catalogue, plan, report, settings, Path(path), book.fingerprint, confirm, progress,
                        lambda target, pairs: write_undo(catalogue, target, pairs))
    return result, report
