"""Everything bcdc-bulk says about a row or a run that is not a problem, in one place: the notes of a
plan, the conflicts found against the catalogue, what apply did with each change, and what the
catalogue holds instead of a write it did not keep. (Problems are worded by problems.RULES.)

Each message is a template keyed by a ``Say``; the values it names go in braces. Modules pick a key
and give the values; none writes a sentence of its own, so the words can be read, reviewed and
changed here (tests/test_registries.py keeps them out of the modules that use them).
"""
from __future__ import annotations

from typing import Any

from bcdc_bulk.problems import TextEnum


class Say(TextEnum):
    """The key of one message."""

    # notes of a plan (plan.RowNote), shown beside its problems
    READ_ONLY_EDITED = "read-only-edited"
    NEW_ROW_REMOVED = "new-row-removed"
    DELETED_DATASET_ROW = "deleted-dataset-row"
    DELETED_RESOURCE_ROW = "deleted-resource-row"
    DELETED_ENTRY = "deleted-entry"
    UNKNOWN_COLUMN = "unknown-column"
    ALREADY_CREATED_NOTE = "already-created-note"
    ALL_HELD_NOTE = "all-held-note"
    KEPT_VALUE = "kept-value"
    # conflicts: a change the catalogue moved on from since the export
    RESOURCE_DELETED_SINCE = "resource-deleted-since"
    CHANGED_UNSEEN = "changed-unseen"
    CHANGED_SINCE = "changed-since"
    # what apply did (results.Outcome messages)
    ALREADY_REMOVED = "already-removed"
    DATASET_GONE = "dataset-gone"
    NOT_WRITTEN_CONFLICT = "not-written-conflict"
    HAS_VALUE = "has-value"
    HAS_RESOURCE = "has-resource"
    STOPPED = "stopped"
    DRY_RUN_SENT = "dry-run-sent"
    DRY_RUN_CREATED = "dry-run-created"
    ALREADY_CREATED = "already-created"
    NAME_TAKEN_SINCE = "name-taken-since"
    CHANGED_WHILE_APPLYING = "changed-while-applying"
    REFUSED = "refused"
    REFUSED_CELL = "refused-cell"
    REFUSED_FIELD = "refused-field"
    NO_DETAILS = "no-details"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    SERVER_FAULT = "server-fault"
    TRIED = "tried"
    ADDED_AS = "added-as"
    NOT_KEPT_SAVED = "not-kept-saved"
    NOT_KEPT_CREATED = "not-kept-created"
    OTHER_ROW_INVALID = "other-row-invalid"
    APPLY_STOPPED = "apply-stopped"
    APPLY_STOPPED_NEXT = "apply-stopped-next"
    # what the catalogue holds instead of what was written (verifying.py)
    STILL_HAS_RESOURCE = "still-has-resource"
    STILL_HAS_DATASET = "still-has-dataset"
    NOT_READ_BACK = "not-read-back"
    RESOURCE_GONE = "resource-gone"
    NEW_RESOURCE_MISSING = "new-resource-missing"
    NEW_RESOURCE_FIELD = "new-resource-field"
    ENTRY_NOT_GONE = "entry-not-gone"
    ENTRY_MISSING = "entry-missing"
    ENTRY_DIFFERS = "entry-differs"
    HOLDS_INSTEAD = "holds-instead"
    UNSEEN = "unseen"
    # the check page: what changed since the export, where a change is, why a dataset is not sent
    SINCE_DELETED = "since-deleted"
    SINCE_UNSEEN = "since-unseen"
    SINCE_CHANGED = "since-changed"
    ADDED_VALUE = "added-value"
    REMOVED_VALUE = "removed-value"
    CELL_AT = "cell-at"
    ROW_AT = "row-at"
    NOT_SENT_ONE = "not-sent-one"
    NOT_SENT_MANY = "not-sent-many"
    SHEET_ROW = "sheet-row"
    SHEET_ROWS = "sheet-rows"
    # a workbook or a run that cannot go on (said by the exception the shells show)
    FIELD_NAME_UNKNOWN = "field-name-unknown"
    OTHER_SITE = "other-site"
    NOT_UPLOADED_HERE = "not-uploaded-here"
    STOPPED_AS_ASKED = "stopped-as-asked"
    FILE_NOT_FOUND = "file-not-found"
    # a workbook applied before (rebasing.py)
    APPLIED_BEFORE = "applied-before"
    FOLLOWED_ONE = "followed-one"
    FOLLOWED_MANY = "followed-many"
    OVERTAKEN = "overtaken"


SAYS: dict[Say, str] = {
    Say.READ_ONLY_EDITED: "changes in grey (read-only) columns are ignored",
    Say.NEW_ROW_REMOVED: "a new row marked for removal is not added",
    Say.DELETED_DATASET_ROW: "the row was deleted from the workbook; nothing is deleted in the catalogue",
    Say.DELETED_RESOURCE_ROW: "the resource row was deleted from the workbook; nothing is deleted in the catalogue",
    Say.DELETED_ENTRY: "entry #{number} was deleted from the workbook and is kept in the catalogue; to remove an "
                       "entry, clear its cells instead",
    Say.UNKNOWN_COLUMN: "column {letter} ('{name}') is not one bcdc-bulk wrote: it is your own and is ignored",
    Say.ALREADY_CREATED_NOTE: "this new dataset is in the catalogue already (created by an earlier apply?): nothing "
                              "to send",
    Say.ALL_HELD_NOTE: "the catalogue already holds every change of this row (applied before?): nothing to send",
    Say.KEPT_VALUE: "not put back: {message}; the catalogue keeps '{stays}'",
    Say.RESOURCE_DELETED_SINCE: "{label}: the resource was deleted in the catalogue since the export",
    Say.CHANGED_UNSEEN: "{label}: changed in the catalogue since the export, though it looks the same ({unseen}); "
                        "now in the catalogue {now}, yours {new}",
    Say.CHANGED_SINCE: "{label}: exported {old}, now in the catalogue {now}, yours {new}",
    Say.ALREADY_REMOVED: "already removed from the catalogue",
    Say.DATASET_GONE: "the dataset is no longer in the catalogue (deleted since the export, or you may not see it)",
    Say.NOT_WRITTEN_CONFLICT: "not written: changed in the catalogue since the export. {conflicts}",
    Say.HAS_VALUE: "the catalogue already has this value",
    Say.HAS_RESOURCE: "the catalogue already has this resource",
    Say.STOPPED: "not sent: the run was stopped",
    Say.DRY_RUN_SENT: "dry run: would be sent",
    Say.DRY_RUN_CREATED: "dry run: would be created",
    Say.ALREADY_CREATED: "already created (id {id})",
    Say.NAME_TAKEN_SINCE: "a dataset named '{name}' was created in the catalogue since the export; choose another "
                          "URL name",
    Say.CHANGED_WHILE_APPLYING: "not written: changed in the catalogue while this run was applying it ({fields}); "
                                "export again to see their change",
    Say.REFUSED: "the catalogue refused it: {cells}",
    Say.REFUSED_CELL: "{where} {path}: {said}",
    Say.REFUSED_FIELD: "{path}: {said}",
    Say.NO_DETAILS: "no details given",
    Say.FORBIDDEN: "the catalogue refused it (HTTP 403): you may not edit this record; ask an admin of its "
                   "organization for the editor role",
    Say.NOT_FOUND: "the record is no longer in the catalogue (HTTP 404): deleted since the export?",
    Say.SERVER_FAULT: "{error} (the same on all {tries} tries: the catalogue cannot save this record as it is; this "
                      "is not a network fault. Check its stored values, or ask the catalogue's administrators)",
    Say.TRIED: "{error} (tried {tries} times; run apply again to retry)",
    Say.ADDED_AS: "added as a new resource with id {id}",
    Say.NOT_KEPT_SAVED: "the catalogue saved the record, but it does not hold this change: {said}. Check the record "
                        "in the catalogue; running apply again tries the change again",
    Say.NOT_KEPT_CREATED: "the dataset was created, but it does not hold this change: {said}. Check the record in "
                          "the catalogue; running apply again tries the change again",
    Say.OTHER_ROW_INVALID: "not sent: another row of this dataset has errors",
    Say.APPLY_STOPPED: "apply stopped on an unexpected error ({kind}: {error}) after {calls} calls",
    Say.APPLY_STOPPED_NEXT: "Every call it made is listed in {journal}; run apply again on the same workbook to "
                            "carry on (what landed will show as unchanged).",
    Say.STILL_HAS_RESOURCE: "asked to remove resource {name}; the catalogue still has it",
    Say.STILL_HAS_DATASET: "asked to remove the dataset; the catalogue still has it",
    Say.NOT_READ_BACK: "the record could not be read back after the write",
    Say.RESOURCE_GONE: "the resource is no longer in the catalogue",
    Say.NEW_RESOURCE_MISSING: "new resource {name} is not in the catalogue",
    Say.NEW_RESOURCE_FIELD: "new resource {key}",
    Say.ENTRY_NOT_GONE: "{label} #{number} should be gone; the catalogue still has it ({entry})",
    Say.ENTRY_MISSING: "{label} #{number} ({entry}) is missing in the catalogue",
    Say.ENTRY_DIFFERS: "{label} #{number}: asked for {asked}, the catalogue has {stored}",
    Say.HOLDS_INSTEAD: "{label}: asked for {asked}, the catalogue holds {stored}",
    Say.UNSEEN: "{said} ({unseen})",
    Say.SINCE_DELETED: "deleted in the catalogue since your export",
    Say.SINCE_UNSEEN: "changed in the catalogue since your export, though it looks the same: {unseen}",
    Say.SINCE_CHANGED: "changed in the catalogue since your export (exported: {old})",
    Say.ADDED_VALUE: "added: {value}",
    Say.REMOVED_VALUE: "removed",
    Say.CELL_AT: "{sheet}, row {row}, column {column}",
    Say.ROW_AT: "{sheet}, row {row}",
    Say.NOT_SENT_ONE: "the error listed above ({where}) stops this dataset; nothing of it is sent until it is fixed",
    Say.NOT_SENT_MANY: "the {count} errors listed above ({where}) stop this dataset; nothing of it is sent until "
                       "they are fixed",
    Say.SHEET_ROW: "{sheet} row {rows}",
    Say.SHEET_ROWS: "{sheet} rows {rows}",
    Say.FIELD_NAME_UNKNOWN: "the field name '{name}' in row 2 is not one bcdc-bulk wrote, and the column of "
                            "'{missing}' is missing: put back the field name as exported (row 2 is what bcdc-bulk "
                            "reads; change labels in row 1 if you like)",
    Say.OTHER_SITE: "this workbook was exported from {exported}, not {site}; use it with -r {exported}, or export "
                    "the records from {site} again",
    Say.NOT_UPLOADED_HERE: "'{url}' is not a web address, and files are not uploaded from here",
    Say.STOPPED_AS_ASKED: "stopped before writing anything, as asked",
    Say.FILE_NOT_FOUND: "not found",
    Say.APPLIED_BEFORE: "This workbook was applied before (its journal is beside it): the records it changed are "
                        "compared with the export, not with the catalogue now. Check it against the catalogue (-r) "
                        "to go on from what the catalogue holds now.",
    Say.FOLLOWED_ONE: "This workbook was applied before: the record it changed then is compared with what the "
                      "catalogue holds now, so you can go on editing it here.",
    Say.FOLLOWED_MANY: "This workbook was applied before: the {count} records it changed then are compared with "
                       "what the catalogue holds now, so you can go on editing them here.",
    Say.OVERTAKEN: "Someone else has changed records this workbook changed when it was applied, so they are still "
                   "compared with the export and their new values show as conflicts: {listed}. Export them again "
                   "to go on editing them.",
}


def said(key: Say, /, **values: Any) -> str:
    """The message ``key`` with ``values`` put in."""
    return SAYS[key].format(**values)
