"""A check as a page shows it: its problems by sheet, row and column, and per dataset each change
(as the catalogue holds the value now -> after) in the workbook's words, whether it is sent, and if
not, why. What the web extension's check page renders; plain data, ready for JSON.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bcdc_bulk.converters import same_value
from bcdc_bulk.invisible import invisible_difference
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import CellRef, FieldChange, RecordPlan, quoted
from bcdc_bulk.problems import Problem
from bcdc_bulk.verifying import value_now
from bcdc_bulk.wording import ADDED, REMOVED, Wording

if TYPE_CHECKING:
    from bcdc_bulk.api import Check


def page_view(checked: Check, site: str = "") -> dict[str, Any]:
    """What the check page shows: problems by sheet, row and column, and per dataset each change
    (now, in the catalogue -> after) in the workbook's words, and whether it is sent, and if not, why."""
    blocked = checked.report.blocked_records()
    errors_of: dict[str, list[Problem]] = {}
    for p in checked.report.errors:
        errors_of.setdefault(p.record, []).append(p)
    words = Wording(checked.plan.converters, site, checked.plan.labels)
    current = checked.current
    datasets = []
    for rec in checked.plan.records:
        changes = [row for c in rec.changes for row in _change_rows(words, rec, c, current.get(rec.key))]
        datasets.append({"name": rec.name or rec.key, "action": rec.action, "sent": rec.key not in blocked,
                         "why": _why(errors_of.get(rec.key, [])), "changes": changes})
    return {"problems": [_problem(p) for p in checked.problems], "datasets": datasets, "notes": checked.report.notes,
            "ignored": [{"where": said(Say.SHEET_ROW, sheet=n.sheet, rows=n.row) if n.row else n.sheet, "record": n.record,
                         "message": n.message} for n in checked.plan.kept + checked.plan.ignored]}


def _change_rows(words: Wording, rec: RecordPlan, change: FieldChange, now: dict[str, Any] | None) -> list[dict[str, str]]:
    """A change as table rows (one per field, list entry or resource), its old value as the catalogue
    holds it now."""
    new_resource = change.field == "resources" and change.resource_id is None
    found, value = value_now(now, change) if now is not None and not new_resource else (True, change.old)
    parts = words.parts(dataclasses.replace(change, old=value) if found and not change.removal else change, rec)
    since = _since_export(change, found, value)
    rows = []
    for i, part in enumerate(parts):
        new = {ADDED: said(Say.ADDED_VALUE, value=part.new), REMOVED: said(Say.REMOVED_VALUE)}.get(part.how, part.new)
        old = "" if part.how == ADDED else part.old
        note = f" ({part.note})" if part.note else ""
        rows.append({"field": part.what, "old": old, "new": new + note, "where": _cell(change.cell),
                     "since": since if i == 0 else ""})
    return rows


def _since_export(change: FieldChange, found: bool, now: Any) -> str:
    """What changed in the catalogue since the export, for a change whose value there is no longer
    the exported one (it will be a conflict); '' when it is still as exported."""
    if not found:
        return said(Say.SINCE_DELETED)
    if change.removal or same_value(now, change.old) or same_value(now, change.new):
        return ""
    unseen = invisible_difference(now, change.old)
    if unseen:
        return said(Say.SINCE_UNSEEN, unseen=unseen)
    return said(Say.SINCE_CHANGED, old=quoted(change.old if change.old is not None else ""))


def _why(errors: list[Problem]) -> str:
    """Why a dataset is not sent: its errors, which the Problems table above lists, counted and placed
    (their messages are said once, up there)."""
    if not errors:
        return ""
    rows: dict[str, list[str]] = {}
    for p in errors:
        numbers = rows.setdefault(p.sheet, [])
        if p.row and str(p.row) not in numbers:
            numbers.append(str(p.row))
    where = "; ".join(said(Say.SHEET_ROWS if len(numbers) > 1 else Say.SHEET_ROW, sheet=sheet,
                           rows=", ".join(numbers)) if numbers else sheet for sheet, numbers in rows.items())
    return said(Say.NOT_SENT_ONE, where=where) if len(errors) == 1 else said(Say.NOT_SENT_MANY, count=len(errors),
                                                                              where=where)


def _problem(p: Problem) -> dict[str, Any]:
    return {"where": p.where, "sheet": p.sheet, "row": p.row, "column": p.column, "dataset": p.dataset,
            "field": p.field, "severity": str(p.severity), "message": p.message, "code": str(p.code)}


def _cell(cell: CellRef | None) -> str:
    if cell is None:
        return ""
    if cell.column:
        return said(Say.CELL_AT, sheet=cell.sheet, row=cell.row, column=cell.column)
    return said(Say.ROW_AT, sheet=cell.sheet, row=cell.row)
