"""Fixing: the values a workbook holds that today's schema refuses and whose fix is certain, typed in.

`bcdc-bulk fix WORKBOOK -o FIXED` writes a copy of the workbook with each such cell changed (a
format in capitals to the listed format, a retired security class to its successor where the
mapping is certain) and lists every change, so an admin reviews the copy and applies it like any
edit. Nothing is guessed: a value with no certain successor is left for a person to choose.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.planning import renderer_for
from bcdc_bulk.schema import Field
from bcdc_bulk.suggesting import certain_fix
from bcdc_bulk.tables import normalize_cell, sheet_fields
from bcdc_bulk.workbook_read import ReadWorkbook, column_letter


@dataclass(frozen=True)
class Fix:
    """One cell to change: where, the column's header, the value it holds and the one it should."""

    sheet: str
    row: int
    column: str
    label: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.column}{self.row}  {self.label}: '{self.old}' -> '{self.new}'"


def known_fixes(book: ReadWorkbook) -> list[Fix]:
    """Every cell of the workbook's record sheets whose value has a certain fix, in sheet order."""
    renderer = renderer_for(book)
    specs = renderer.sheet_specs(list(book.snapshot.values()))
    fixes, stored = [], _stored_records(book)
    for spec in specs:
        sheet = book.sheets.get(spec.name)
        if sheet is None:
            continue
        fields = sheet_fields(renderer.schema, spec)
        for name, index in sheet.columns.items():
            fld = fields.get(name)
            column = spec.column(name)
            if fld is None or not fld.choices or column is None or column.read_only:
                continue
            decided: dict[str, str | None] = {}  # a column holds few distinct values: each decided once
            for row, cells in sheet.rows:
                text = normalize_cell(cells.get(name))
                if text and text not in decided:
                    decided[text] = certain_fix(fld.choice_text.stored(text), fld)
                fixed = decided.get(text) if text else None
                if fixed is not None:
                    fixes.append(Fix(spec.name, row, column_letter(index), column.label, text,
                                     fld.choice_text.shown(fixed)))
                elif text and _stored_as_label(stored.get(spec.kind, {}).get(str(cells.get("id") or "")), name, fld):
                    # the cell shows the label and reads as the listed value, but that would be no edit:
                    # the value itself, typed, is one
                    fixes.append(Fix(spec.name, row, column_letter(index), column.label, text,
                                     fld.choice_text.stored(text)))
    return fixes


def _stored_records(book: ReadWorkbook) -> dict[str, dict[str, dict]]:
    """The exported datasets and resources by id, by sheet kind."""
    resources = {str(r.get("id")): r for p in book.snapshot.values() for r in p.get("resources") or []}
    return {"dataset": book.snapshot, "resource": resources}


def _stored_as_label(record: dict | None, name: str, fld: Field) -> bool:
    """Whether the record stores this field as a choice's label (or another form) instead of its value,
    while the cell shows it as the label."""
    value = (record or {}).get(name)
    if not isinstance(value, str) or not value or fld.is_multiple_choice or fld.moves:
        return False  # a stored state the list lacks is corrected by the catalogue's administrators
    return value not in {c.value for c in fld.choices} and fld.choice_text.stored(value) in {c.value for c in fld.choices}


def write_fixed(source: Path, target: Path, fixes: list[Fix]) -> None:
    """A copy of ``source`` with each fix typed into its cell (the workbook edited is never overwritten)."""
    import openpyxl

    from bcdc_bulk.errors import BulkError

    if Path(source).resolve() == Path(target).resolve():
        raise BulkError("-o must name a new file; the workbook you edited is never overwritten")
    wb = openpyxl.load_workbook(source)
    for fix in fixes:
        wb[fix.sheet][f"{fix.column}{fix.row}"].value = fix.new
    with replaced_atomically(Path(target)) as tmp:
        wb.save(tmp)
