"""The cell diff: which cells of a sheet's row differ from what the export wrote there.

Pure comparison of text, with no knowledge of records: planning turns the changed cells
into the records' after-state (planning.py). A cell that cannot be taken as typed (a
formula, a date the spreadsheet made, text no cell can hold) is a CellIssue, not a change.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bcdc_bulk.problems import Code, say, severity_of
from bcdc_bulk.schema import Field
from bcdc_bulk.tables import ILLEGAL_XML, MAX_CELL, SheetSpec, cell_text, display_text, is_lossy, normalize_cell, same_text
from bcdc_bulk.workbook_read import SheetRows

CONTROL = ILLEGAL_XML  # characters no cell should hold (a save would replace or refuse them)


@dataclass(frozen=True)
class CellIssue:
    """A cell of a row that cannot be taken as typed (or is taken with a warning)."""

    row: int
    field: str
    value: Any
    code: Code
    message: str
    severity: str = ""  # the registry's

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", severity_of(self.code, self.severity))


@dataclass
class RowDiff:
    """What one row changed: field -> the new cell text, the cells that could not be taken, and
    whether a read-only (grey) cell was edited, which is ignored."""

    changed: dict[str, str] = field(default_factory=dict)
    issues: list[CellIssue] = field(default_factory=list)
    read_only_edited: bool = False
    exact: set[str] = field(default_factory=set)  # changed cells that show the target's value: take it exactly


class CellDiff:
    """Compares the rows of one sheet with the rows the export wrote, cell by cell."""

    def __init__(self, spec: SheetSpec, sheet: SheetRows, fields: dict[str, Field]) -> None:
        self.sheet = sheet
        self.dates = {name for name, fld in fields.items() if fld.preset == "date"}
        self.editable = [c.field for c in spec.columns
                         if not (c.read_only or c.key or c.action) and c.field in sheet.columns]
        self.read_only = [c.field for c in spec.columns if c.read_only and not c.key and c.field in sheet.columns]

    def differs(self, values: dict[str, Any], exported: dict[str, str]) -> bool:
        """True when any editable cell of the row no longer holds what was exported."""
        return any(not same_text(display_text(exported.get(f, "")), values.get(f)) for f in self.editable)

    def row(self, number: int, values: dict[str, Any], exported: dict[str, str],
            target: dict[str, str] | None = None) -> RowDiff:
        """The editable cells of an exported row whose text really changed. ``target``: the row the
        cells were written to show, where it is not the exported one (an undo workbook): a changed cell
        still showing it stands for its exact value, which the cell may not carry (line endings, length)."""
        diff = RowDiff()
        bad = self.bad_cells(number, values, diff.issues)
        for fld in self.editable:
            if fld in bad:
                continue
            shown = display_text(exported.get(fld, ""))
            raw = values.get(fld)
            if same_text(shown, raw):
                continue
            if target is not None and fld in target and same_text(display_text(target[fld]), raw):
                diff.changed[fld] = cell_text(raw)
                diff.exact.add(fld)
                continue
            if is_lossy(shown):
                diff.issues.append(CellIssue(
                    number, fld, raw, Code.CUT_VALUE_EDITED, say(Code.CUT_VALUE_EDITED)))
                continue
            diff.changed[fld] = cell_text(raw)
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                diff.issues.append(CellIssue(
                    number, fld, raw, Code.TYPED_NUMBER, say(Code.TYPED_NUMBER, number=diff.changed[fld])))
        diff.read_only_edited = any(not same_text(display_text(exported.get(f, "")), values.get(f))
                                    for f in self.read_only)
        return diff

    def new_row(self, number: int, values: dict[str, Any]) -> RowDiff:
        """A row the export did not write: every editable cell that holds something."""
        diff = RowDiff()
        bad = self.bad_cells(number, values, diff.issues)
        diff.changed = {f: cell_text(values.get(f)) for f in self.editable
                        if f not in bad and cell_text(values.get(f))}
        return diff

    def bad_cells(self, number: int, values: dict[str, Any], issues: list[CellIssue]) -> set[str]:
        """Editable cells that cannot be taken as typed, each added to ``issues``."""
        bad = set()
        formulas = self.sheet.formulas.get(number, {})
        for fld in self.editable:
            raw = values.get(fld)
            if not formulas and (raw is None or isinstance(raw, (int, float)) or (
                    isinstance(raw, str) and len(raw) <= MAX_CELL and not CONTROL.search(raw))):
                continue  # the common case, decided without lookups
            issue = self._cell_issue(number, fld, raw, formulas.get(self.sheet.letter(fld)))
            if issue is not None:
                issues.append(issue)
                bad.add(fld)
        return bad

    def _cell_issue(self, number: int, fld: str, raw: Any, formula: str | None) -> CellIssue | None:
        if formula:
            return CellIssue(number, fld, formula, Code.FORMULA, say(Code.FORMULA, formula=formula[:60]))
        if isinstance(raw, (dt.date, dt.datetime)) and fld not in self.dates:
            return CellIssue(number, fld, raw, Code.TYPED_DATE, say(Code.TYPED_DATE, date=normalize_cell(raw)))
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return CellIssue(number, fld, raw[:50], Code.CELL_TOO_LONG,
                             say(Code.CELL_TOO_LONG, size=len(raw), limit=MAX_CELL))
        found = CONTROL.search(raw) if isinstance(raw, str) else None
        if found:
            return CellIssue(number, fld, raw[:50], Code.CONTROL_CHARACTER,
                             say(Code.CONTROL_CHARACTER, at=found.start() + 1))
        return None
