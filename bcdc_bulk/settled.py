"""What of a plan the catalogue holds already: each change sorted against the record as it is now (to
write, already there, or changed by someone else since the export), and the records a rerun has
nothing left to send for. Used when a workbook is checked and when it is applied."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bcdc_bulk.converters import same_value
from bcdc_bulk.invisible import invisible_difference
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import FieldChange, Plan, RecordPlan, RowNote, quoted
from bcdc_bulk.problems import Code, ValidationReport
from bcdc_bulk.verifying import new_resource_in, value_now

if TYPE_CHECKING:
    from bcdc_bulk.catalogue import Catalogue


def sort_changes(rec: RecordPlan, current: dict[str, Any]) -> tuple[list[FieldChange], list[FieldChange], list[str]]:
    """(still to write, already there, conflicts described) for an update, against the server now."""
    pending, done, conflicts = [], [], []
    for change in rec.changes:
        if change.field == "resources" and change.resource_id is None:
            continue  # new resources are handled on their own
        found, now = value_now(current, change)
        if not found:
            conflicts.append(said(Say.RESOURCE_DELETED_SINCE, label=change.label))
        elif same_value(now, change.new):
            done.append(change)
        elif same_value(now, change.old):
            pending.append(change)
        elif unseen := invisible_difference(now, change.old):
            conflicts.append(said(Say.CHANGED_UNSEEN, label=change.label, unseen=unseen, now=quoted(now),
                                  new=quoted(change.new)))
        else:
            conflicts.append(said(Say.CHANGED_SINCE, label=change.label, old=quoted(change.old), now=quoted(now),
                                  new=quoted(change.new)))
    return pending, done, conflicts


def drop_settled(plan: Plan, report: ValidationReport, catalogue: Catalogue,
                 current: dict[str, dict[str, Any]] | None = None) -> None:
    """Take out of the plan every updated dataset whose each change the catalogue already holds, and
    every new row whose dataset an earlier run created (the workbook was applied before, or someone
    made the same edit), with a note: nothing is left to send for them."""
    in_use = (Code.NAME_IN_USE, Code.TITLE_IN_USE)
    clashing = {p.record for p in report.problems if p.code in in_use}
    own_creations(plan, report, catalogue)
    ours = clashing - {p.record for p in report.problems if p.code in in_use}  # made by an earlier apply
    settled = set()
    for rec in plan.records:
        if rec.action == "create" and rec.key in ours:
            settled.add(rec.key)
            sheet, row = rec.rows_at.get((), ("Datasets", None))
            plan.ignored.append(RowNote(sheet, row, rec.name, said(Say.ALREADY_CREATED_NOTE)))
    updates = [r for r in plan.records if r.action == "update" and not r.new_resources and r.changes]
    if current is None:
        current = catalogue.packages_by_id([r.key for r in updates]) if updates else {}
    for rec in updates:
        now = current.get(rec.key)
        if now is None or any(c.removal for c in rec.changes):
            continue
        pending, done, conflicts = sort_changes(rec, now)
        if not pending and not conflicts and len(done) == len(rec.changes):
            settled.add(rec.key)
            sheet, row = rec.rows_at.get((), ("Datasets", None))
            plan.ignored.append(RowNote(sheet, row, rec.name, said(Say.ALL_HELD_NOTE)))
    plan.records = [r for r in plan.records if r.key not in settled]


def is_our_creation(rec: RecordPlan, existing: dict[str, Any]) -> bool:
    """True when a dataset found under a new row's URL name is the one this row describes
    (an earlier run created it): same title, same organization."""
    return existing.get("title") == rec.after.get("title") and existing.get("owner_org") == rec.after.get("owner_org")


def new_resource_there(current: dict[str, Any], resource: dict[str, Any]) -> bool:
    """True when the package already has this new resource (an earlier run created it)."""
    return new_resource_in(current, resource) is not None


def own_creations(plan: Plan, report: ValidationReport, catalogue: Catalogue) -> None:
    """A new row whose dataset an earlier run of this workbook created (it has our name, title
    and organization) is not a clash of names: it is done, and create() will say so."""
    in_use = (Code.NAME_IN_USE, Code.TITLE_IN_USE)
    clashes = {p.record for p in report.problems if p.code in in_use}
    for rec in plan.records:
        if rec.action != "create" or rec.key not in clashes or not rec.after.get("name"):
            continue
        there = catalogue.package(rec.after["name"])
        if there and is_our_creation(rec, there):
            report.problems = [p for p in report.problems if not (p.record == rec.key and p.code in in_use)]
