"""What a workbook asks for: the Plan and its parts.

A Plan holds one RecordPlan per package that changed or is new (the package before and after, the
changed fields with their old and new values, and where in the workbook each field lives, so problems
can name a cell), the rows left alone and why, and the rows that cannot be planned at all.
Built by planning.build_plan; sent by calls.record_calls; checked by validation.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bcdc_bulk.converters import Converters, same_value, value_text
from bcdc_bulk.problems import Problem
from bcdc_bulk.schema import Schema

JsonPath = tuple  # a JSON path into a package: ("title",), ("resources", 2, "format"), ("contacts", 0, "email")


def column_field(path: JsonPath) -> str:
    """The field name of the column a JSON path of a package is shown in ('title_translated-fr' for
    one language of a multilingual field, 'tags' for any keyword)."""
    if path[:1] in (("tags",), ("tag_string",)):
        return "tags"
    names = [p for p in path if isinstance(p, str)]
    if len(path) >= 2 and isinstance(path[-1], str) and isinstance(path[-2], str):
        return f"{path[-2]}-{path[-1]}"
    return names[-1] if names else ""


@dataclass(frozen=True)
class CellRef:
    """A cell of the workbook (column may be empty when the field has no column)."""

    sheet: str
    row: int | None
    column: str = ""


@dataclass
class FieldChange:
    """One field whose value really changes: a dataset field, a whole repeating
    list (contacts, more_info ...), or a field of one resource."""

    field: str
    old: Any
    new: Any
    resource_id: str | None = None  # set for resource fields
    cell: CellRef | None = None
    removal: bool = False  # the dataset (field 'state') or a resource (field 'resources') is removed
    new_index: int | None = None  # a new resource: its index in the record's resources after the edit

    @property
    def id(self) -> str:
        """The change's id, from the cell it came from ('Datasets!C3'; 'Contact points!5' for a list's
        entries, which have no one column): outcomes and report rows are keyed by it."""
        if self.cell is None:
            return self.label  # made in code, not read from a workbook
        return f"{self.cell.sheet}!{self.cell.column}{self.cell.row or ''}"

    @property
    def label(self) -> str:
        """'title' or 'resources[<id>].format'."""
        return f"resources[{self.resource_id}].{self.field}" if self.resource_id else self.field


@dataclass
class RecordPlan:
    """One package to write: an update of an existing package or a new one."""

    action: str  # "update" | "create" | "delete" (the dataset is removed)
    key: str  # package id (update) or "new:<sheet row>" (create)
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    changes: list[FieldChange] = field(default_factory=list)
    new_resources: list[int] = field(default_factory=list)  # indexes into after["resources"]
    rows_at: dict[JsonPath, tuple[str, int]] = field(default_factory=dict, repr=False)  # JSON path -> sheet row
    letters: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)  # sheet -> field -> column
    _copied: bool = field(default=False, repr=False)

    def copy_before_change(self) -> None:
        """Copy the package before the first change (most rows of a big workbook change nothing)."""
        if not self._copied:
            self.after = copy.deepcopy(self.after)
            self._copied = True

    def touches(self, field_name: str) -> bool:
        """True when the user set this dataset field (every field of a new record counts)."""
        return self.action == "create" or any(c.field == field_name and c.resource_id is None for c in self.changes)

    def dataset_changes(self) -> list[FieldChange]:
        """Changes to package-level fields (repeating lists included)."""
        return [c for c in self.changes if c.resource_id is None]

    def removed_resources(self) -> list[FieldChange]:
        """The resources marked for removal (each change's old value is the resource as exported)."""
        return [c for c in self.changes if c.removal and c.resource_id]

    def resource_changes(self) -> dict[str, list[FieldChange]]:
        """Changes to existing resources, by resource id (removals apart)."""
        out: dict[str, list[FieldChange]] = {}
        for c in self.changes:
            if c.resource_id and not c.removal:
                out.setdefault(c.resource_id, []).append(c)
        return out

    def locate(self, path: JsonPath) -> CellRef:
        """The cell a JSON path of the package lives in, or the nearest row."""
        path = tuple("tags" if p == "tag_string" else p for p in path)
        for size in range(len(path), -1, -1):
            at = self.rows_at.get(path[:size])
            if at is not None:
                sheet, row = at
                leaf = path[size] if size < len(path) else None
                if size + 1 < len(path) and isinstance(leaf, str) and isinstance(path[size + 1], str):
                    leaf = f"{leaf}-{path[size + 1]}"  # one language of a multilingual field: its own column
                column = self.letters.get(sheet, {}).get(leaf, "") if isinstance(leaf, str) else ""
                return CellRef(sheet, row, column)
        return CellRef("Datasets", None)


@dataclass(frozen=True)
class RowNote:
    """A row (or record) that is left alone, and why."""

    sheet: str
    row: int | None
    record: str
    message: str


@dataclass
class Plan:
    """Everything a workbook asks for."""

    records: list[RecordPlan] = field(default_factory=list)
    ignored: list[RowNote] = field(default_factory=list)
    kept: list[RowNote] = field(default_factory=list)  # an undo's values the catalogue no longer takes
    problems: list[Problem] = field(default_factory=list)  # rows that cannot be planned at all
    schema: Schema | None = None  # the schema the workbook was exported with
    converters: Converters | None = None  # its cells' words (choices, organizations, licences)
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet kind or group, field) -> header
    site: str = ""  # the catalogue the workbook was exported from (records' web addresses)


def quoted(value: Any) -> str:
    """A value in quotes for a message a person reads: line breaks shown as ↵, cut at 200 characters."""
    text = value if isinstance(value, str) else value_text(value)
    text = text.replace("\r\n", "\n").replace("\n", " ↵ ")
    return "'" + (text if len(text) <= 200 else text[:197] + "...") + "'"


def describe(change: FieldChange) -> str:
    """A change in words: 'title: 'a' -> 'b'', or for a list of entries only what differs
    ('contacts #2 email: 'a' -> 'b'')."""
    old, new = change.old, change.new
    if change.removal:
        if change.resource_id:
            return f"remove resource {quoted((old or {}).get('name') or change.resource_id)}"
        return "remove the dataset"
    if isinstance(new, list) and all(isinstance(e, dict) for e in new) and (
            old is None or isinstance(old, list)) and change.field != "tags":
        old_list = [e for e in (old or []) if isinstance(e, dict)]
        parts = []
        for i in range(max(len(old_list), len(new))):
            before = old_list[i] if i < len(old_list) else {}
            after = new[i] if i < len(new) else {}
            if not after:
                parts.append(f"{change.label} #{i + 1} removed")
                continue
            for key in sorted(set(before) | set(after)):
                if not same_value(before.get(key), after.get(key)):
                    parts.append(f"{change.label} #{i + 1} {key}: {quoted(before.get(key) or '')} -> "
                                 f"{quoted(after.get(key) or '')}")
        return "; ".join(parts) or change.label
    return f"{change.label}: {quoted(old if old is not None else '')} -> {quoted(new)}"
