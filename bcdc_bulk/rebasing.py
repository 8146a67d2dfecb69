"""A workbook applied before: the records it wrote are compared with the catalogue as it holds them now.

An export's hidden snapshot holds each record as exported. Once the workbook has been applied, that is
no longer what the catalogue holds for the records it changed, so a second step in the same workbook
(Draft -> Pending Publish, applied, then -> Published) would be judged against the export: refused as a
move from Draft, or called a conflict with "someone else". The journal knows which records this
workbook wrote and the record's modified time each write returned. Where the catalogue's record still
has that time (nobody wrote to it since), the snapshot's copy is replaced by the record as it is now.
Where someone did write since, the export stays the baseline, so their change is found as a conflict
and never overwritten.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcdc_bulk.journal import FileLines, Journal, JournalLines, journal_beside
from bcdc_bulk.messages import Say, said

if TYPE_CHECKING:
    from bcdc_bulk.catalogue import Catalogue
    from bcdc_bulk.plan import Plan
    from bcdc_bulk.problems import ValidationReport

Checked = tuple["Plan", "ValidationReport"]

APPLIED_BEFORE_NOTE = said(Say.APPLIED_BEFORE)


def followed_notes(followed: list[str], overtaken: list[str], names: dict[str, str]) -> list[str]:
    """What a check says when the workbook was applied before: which records go on from the catalogue
    now, and which someone else has written to since (those need a fresh export)."""
    notes = []
    if followed:
        notes.append(said(Say.FOLLOWED_ONE) if len(followed) == 1 else said(Say.FOLLOWED_MANY, count=len(followed)))
    if overtaken:
        listed = ", ".join(names.get(package_id, package_id) for package_id in overtaken)
        notes.append(said(Say.OVERTAKEN, listed=listed))
    return notes


def follow_own_writes(book: Any, catalogue: Catalogue, validate: Callable[[Any], Checked],
                      lines: JournalLines | None = None) -> tuple[Checked, list[str], list[str]]:
    """Plan and validate ``book`` (with ``validate``); where the workbook was applied before and asks more
    of a record it wrote that nobody has written to since, plan that record again from what the
    catalogue holds now. Returns (plan and report, the ids followed, the ids someone else wrote to
    since). A record whose every change the catalogue holds is left as it is: a rerun reports it unchanged."""
    from bcdc_bulk.settled import sort_changes

    checked = validate(book)
    journal = Journal(lines or FileLines(journal_beside(Path(book.path))), book.fingerprint)
    ours = {pid: modified for pid, modified in journal.written.items() if modified and pid in book.snapshot}
    if not ours:
        return checked, [], []
    now = catalogue.packages_by_id(sorted(ours))
    overtaken = [package_id for package_id, modified in ours.items()
                 if package_id in now and str(now[package_id].get("metadata_modified") or "") != modified]
    followed = []
    for rec in checked[0].records:
        package_id = rec.key
        ours_alone = package_id in ours and package_id in now and package_id not in overtaken
        if ours_alone and rec.action == "update" and not rec.new_resources:
            pending, _, conflicts = sort_changes(rec, now[package_id])
            if pending or conflicts:  # more asked of it than the catalogue holds: go on from there
                book.snapshot[package_id] = copy.deepcopy(now[package_id])
                book.shown.pop(package_id, None)  # the cells now stand for what the catalogue holds
                followed.append(package_id)
    return (validate(book) if followed else checked), followed, overtaken


def applied_before(book: Any) -> bool:
    """Whether a journal of this very workbook lies beside it (offline, it cannot be followed)."""
    journal = Journal(FileLines(journal_beside(Path(book.path))), book.fingerprint)
    return bool(journal.written)
