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
    fixes = []
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
    return fixes


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
