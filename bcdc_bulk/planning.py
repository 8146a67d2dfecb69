"""Planning: what the user changed, found by comparing each row with the snapshot."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bcdc_bulk.schema import schema_from_dict
from bcdc_bulk.tables import (
    DATASET_KEY,
    PARENT_NAME,
    POSITION,
    RESOURCE_ID,
    Renderer,
    SheetSpec,
    display_text,
    load_layout,
    normalize_cell,
    same_text,
)
from bcdc_bulk.workbook_read import ReadWorkbook


@dataclass(frozen=True)
class CellChange:
    """One cell whose value really differs from what was exported."""

    sheet: str
    row: int
    column: str
    field: str
    record_id: str
    old: str
    new: str


@dataclass
class Diff:
    """Every change in a workbook, plus rows that are new or unknown."""

    changes: list[CellChange] = field(default_factory=list)
    new_rows: list[tuple[str, int]] = field(default_factory=list)
    unknown_rows: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def changed_records(self) -> set[str]:
        """Ids of the records with at least one changed cell."""
        return {c.record_id for c in self.changes}


def renderer_for(book: ReadWorkbook) -> Renderer:
    """A renderer equal to the one that wrote the workbook (its own schema and lookups)."""
    schema = schema_from_dict(book.schema_raw)
    return Renderer(schema, load_layout(), book.lookups.get("organizations", {}), book.lookups.get("licences", {}))


def _expected(renderer: Renderer, spec: SheetSpec, packages: list[dict[str, Any]]) -> dict[tuple, dict[str, str]]:
    out: dict[tuple, dict[str, str]] = {}
    for pkg in packages:
        if spec.kind == "dataset":
            out[(pkg.get("id"),)] = renderer.dataset_row(pkg)
        elif spec.kind == "resource":
            for row in renderer.resource_rows(pkg):
                out[(row.get(DATASET_KEY),)] = row
        else:
            for row in renderer.group_rows(pkg, spec):
                key = (row.get(PARENT_NAME), row.get(RESOURCE_ID, ""), row.get(POSITION))
                out[key] = row
    return out


def find_changes(book: ReadWorkbook) -> Diff:
    """Cells that differ from the export, ignoring what Excel does to untouched cells
    and anything typed into read-only columns."""
    renderer = renderer_for(book)
    packages = list(book.snapshot.values())
    diff = Diff()
    for spec in renderer.sheet_specs(packages):
        sheet = book.sheets.get(spec.name)
        if sheet is None:
            continue
        expected = _expected(renderer, spec, packages)
        editable = [c.field for c in spec.columns if not c.read_only and not c.key and c.field in sheet.columns]
        for number, values in sheet.rows:
            if spec.kind == "group":
                key = (normalize_cell(values.get(PARENT_NAME)), normalize_cell(values.get(RESOURCE_ID)),
                       normalize_cell(values.get(POSITION)))
            else:
                key = (normalize_cell(values.get(DATASET_KEY)),)
            if spec.kind != "group" and key == ("",):
                diff.new_rows.append((spec.name, number))
                continue
            old_row = expected.get(key)
            if old_row is None:
                diff.unknown_rows.append((spec.name, number, "|".join(k for k in key if k)))
                continue
            record = key[0] if spec.kind != "group" else "|".join(k for k in key if k)
            for fld in editable:
                old = display_text(old_row.get(fld, ""))
                if not same_text(old, values.get(fld)):
                    diff.changes.append(CellChange(spec.name, number, sheet.letter(fld), fld, record,
                                                   old_row.get(fld, ""), normalize_cell(values.get(fld))))
    return diff
