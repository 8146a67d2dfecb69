"""One result per workbook row, the report's rows: gathered from what happened to each change of a
record, the errors that kept a row back, and an undo workbook's values the catalogue no longer takes.

Every row of the report is made here, by one gatherer, whatever happened to it: a row's status is the
worst of its changes' outcomes, its message says each different reason once, and its Changes column
says every change it asked for in the catalogue's words.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import FieldChange, Plan, RecordPlan, RowNote
from bcdc_bulk.problems import Problem, ValidationReport
from bcdc_bulk.results import (
    APPLIED,
    CONFLICT,
    CREATED,
    FAILED,
    INVALID,
    KEPT,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    Outcome,
    RecordOutcome,
    RowResult,
)
from bcdc_bulk.wording import Wording

# the worst first: a row shows its worst change's status
_RANK = {s: i for i, s in enumerate((FAILED, CONFLICT, SKIPPED, INVALID, KEPT, APPLIED, CREATED, REMOVED, UNCHANGED))}
REMOVE = "remove"  # the report's action of a row that removes a dataset, a resource or an entry


def action_of(rec: RecordPlan | None, change: FieldChange | None = None) -> str:
    """What a report row says was asked: create, update or remove."""
    if rec is not None and (rec.action == "delete" or (change is not None and change.removal)):
        return REMOVE
    return rec.action if rec is not None else "update"


def _where(change: FieldChange) -> tuple[str, int | None]:
    cell = change.cell
    return (cell.sheet, cell.row) if cell else ("Datasets", None)


@dataclass
class _Row:
    result: RowResult
    changes: list[str] = field(default_factory=list)


class RowGatherer:
    """Gathers the report's rows, one per workbook row (sheet, row number)."""

    def __init__(self, words: Wording | None = None, resource_names: dict[str, str] | None = None) -> None:
        self.words = words or Wording(None)
        self.resource_names = resource_names or {}
        self.rows: dict[tuple[str, int | None], _Row] = {}

    def add(self, where: tuple[str, int | None], found: Outcome, base: RowResult, change_text: str = "") -> None:
        """Add one outcome to the row at ``where`` (``base`` is the row when it is new)."""
        row = self.rows.get(where)
        if row is None:
            row = self.rows[where] = _Row(base)
            row.result.status, row.result.message, row.result.attempts = found.status, found.message, found.attempts
        elif _RANK[found.status] < _RANK[row.result.status]:
            row.result.status, row.result.message = found.status, found.message
        elif found.message and found.message not in row.result.message:
            row.result.message = (row.result.message + "; " + found.message).strip("; ")
        if base.action == REMOVE:
            row.result.action = REMOVE
        row.result.attempts = max(row.result.attempts, found.attempts)
        if change_text:
            row.changes.append(change_text)

    def record(self, rec: RecordPlan, outcome: RecordOutcome, seconds: float = 0.0) -> RowGatherer:
        """Every change of a record, with what happened to it."""
        for change in rec.changes:
            resource_id = change.resource_id or ""
            base = RowResult(sheet="", row=None, dataset=rec.name, dataset_id=rec.after.get("id") or "",
                             resource=self.resource_names.get(resource_id, ""), resource_id=resource_id,
                             action=action_of(rec, change), status=UNCHANGED, changes="", seconds=round(seconds, 3))
            self.add(_where(change), outcome.of(change), base, self.words.describe(change, rec))
        return self

    def problem(self, problem: Problem, rec: RecordPlan | None) -> None:
        """A row kept back by an error (said with where it is)."""
        text = f"{problem.where} {problem.message}" if problem.column else problem.message
        base = RowResult(sheet="", row=None, dataset=rec.name if rec else "",
                         dataset_id=(rec.after.get("id") or "") if rec else "", resource="", resource_id="",
                         action=action_of(rec), status=INVALID, changes="")
        self.add((problem.sheet, problem.row), Outcome(INVALID, text), base)

    def kept(self, note: RowNote) -> None:
        """An undo workbook's value the catalogue no longer takes: not put back, its current value stays."""
        base = RowResult(sheet="", row=None, dataset=note.record, dataset_id="", resource="", resource_id="",
                         action="update", status=KEPT, changes="")
        self.add((note.sheet, note.row), Outcome(KEPT, note.message), base)

    def results(self) -> list[RowResult]:
        """The rows gathered, in workbook order."""
        out = []
        for (sheet, number), row in sorted(self.rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            row.result.sheet, row.result.row, row.result.changes = sheet, number, "; ".join(row.changes)
            out.append(row.result)
        return out


def rows_not_sent(plan: Plan, report: ValidationReport, words: Wording,
                  resource_names: dict[str, str] | None = None) -> tuple[list[RowResult], set[str]]:
    """(the rows kept back, the records not sent): each row with an error says it; the other changed rows
    of the same dataset say another row has errors (a dataset is saved whole); an undo's values the
    catalogue no longer takes are kept."""
    gather = RowGatherer(words, resource_names)
    blocked = report.blocked_records()
    records = {r.key: r for r in plan.records}
    for problem in report.errors:
        gather.problem(problem, records.get(problem.record))
    with_errors = set(gather.rows)
    for rec in records.values():
        if rec.key in blocked:
            outcome = RecordOutcome(changes={c.id: Outcome(INVALID, "" if _where(c) in with_errors
                                                           else said(Say.OTHER_ROW_INVALID)) for c in rec.changes})
            gather.record(rec, outcome)
    for note in plan.kept:
        gather.kept(note)
    return gather.results(), blocked
