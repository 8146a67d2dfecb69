"""The annotated copy of a workbook (validate --annotate): the user's workbook, untouched
but for a Problems sheet in front (one row a problem, each linked to its cell), the
problem cells coloured with the message as a comment, and the tabs with problems coloured."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from bcdc_bulk.errors import BulkError
from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.problems import ERROR, WARNING, Problem
from bcdc_bulk.tables import PROBLEMS_FIELD
from bcdc_bulk.workbook_write import HEADER_ROWS

PROBLEMS_SHEET = "Problems"
FILLS = {ERROR: "FFC7CE", WARNING: "FFEB9C"}
TABS = {ERROR: "C00000", WARNING: "FFC000"}
COLUMNS = [("Where", 16), ("Dataset", 36), ("Severity", 12), ("Message", 80), ("Already so before your edit", 14),
           ("Field", 22), ("Value", 30)]  # what a person needs first fits a laptop screen
FONT = "Calibri"  # the workbook's own font (a new openpyxl font would fall back to the viewer's default)


def annotate_workbook(source: Path, target: Path, problems: list[Problem]) -> int:
    """Write the annotated copy of ``source`` to ``target`` (never over the user's file);
    returns how many cells were marked."""
    import openpyxl

    if Path(source).resolve() == Path(target).resolve():
        raise BulkError("--annotate must name a new file; the workbook you edited is never overwritten")
    wb = openpyxl.load_workbook(source)
    if PROBLEMS_SHEET in wb.sheetnames:  # an annotated copy annotated again
        del wb[PROBLEMS_SHEET]
    shown = [p for p in problems if p.sheet in wb.sheetnames]
    marked = sum(_mark_cell(wb[p.sheet], p) for p in shown if p.row and p.column)
    _problem_columns(wb, shown)
    _colour_tabs(wb, shown)
    _problems_sheet(wb, problems)
    with replaced_atomically(Path(target)) as tmp:
        wb.save(tmp)
    return marked


def _mark_cell(ws: Any, problem: Problem) -> int:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    cell = ws[f"{problem.column}{problem.row}"]
    cell.fill = PatternFill("solid", fgColor=FILLS.get(problem.severity, FILLS[ERROR]))
    text = f"{problem.severity.upper()}: {problem.message}"
    if cell.comment is not None:
        text = cell.comment.text + "\n\n" + text
    cell.comment = Comment(text, "bcdc-bulk", width=360, height=160)
    return 1


def _problem_columns(wb: Any, problems: list[Problem]) -> None:
    """A Problems column at the end of each sheet with problems: every problem of the row, in words."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    by_sheet: dict[str, dict[int, list[Problem]]] = {}
    for p in problems:
        if p.row:
            by_sheet.setdefault(p.sheet, {}).setdefault(p.row, []).append(p)
    for sheet, rows in by_sheet.items():
        ws = wb[sheet]
        col = next((c.column for c in ws[HEADER_ROWS] if c.value == PROBLEMS_FIELD), ws.max_column + 1)
        ws.cell(1, col).value = "Problems (bcdc-bulk validate)"
        ws.cell(1, col).font = Font(name=FONT, bold=True, color="9C0006")
        ws.cell(HEADER_ROWS, col).value = PROBLEMS_FIELD
        ws.column_dimensions[get_column_letter(col)].width = 80
        for row, found in rows.items():
            cell = ws.cell(row, col)
            cell.value = "\n".join(f"{p.severity}: {p.column + ' ' if p.column else ''}{p.message}" for p in found)
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _colour_tabs(wb: Any, problems: list[Problem]) -> None:
    worst: dict[str, str] = {}
    for p in problems:
        if worst.get(p.sheet) != ERROR:
            worst[p.sheet] = p.severity
    for sheet, severity in worst.items():
        wb[sheet].sheet_properties.tabColor = TABS.get(severity, TABS[ERROR])


def _problems_sheet(wb: Any, problems: list[Problem]) -> None:
    """The first sheet, open when the copy opens: counts, then one row a problem with a link to its cell."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    ws = wb.create_sheet(PROBLEMS_SHEET, 0)
    counts = Counter(p.severity for p in problems)
    ws["A1"] = "Problems found in this workbook"
    ws["A1"].font = Font(name=FONT, bold=True, size=14)
    errors, warnings = counts.get(ERROR, 0), counts.get(WARNING, 0)
    ws["A2"] = (f"{errors} error{'s' * (errors != 1)} (the row is not sent until fixed) and {warnings} "
                f"warning{'s' * (warnings != 1)} (sent, but worth a look). "
                "Click a cell under Where to go there (Ctrl+click in LibreOffice).")
    header = 4
    for c, (title, width) in enumerate(COLUMNS, 1):
        cell = ws.cell(header, c, title)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, p in enumerate(problems, header + 1):
        values = [p.where, p.dataset, p.severity, p.message, "yes" if p.pre_existing else "", p.field, p.value]
        lines = max(-(-len(str(v)) // width) for v, (_, width) in zip(values, COLUMNS, strict=True) if v)
        ws.row_dimensions[r].height = 15 * min(max(lines, 1), 6) + 2  # wrapped text shows whole
        for c, value in enumerate(values, 1):
            cell = ws.cell(r, c, value)
            cell.font = Font(name=FONT)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if c == 3:
                cell.fill = PatternFill("solid", fgColor=FILLS.get(p.severity, FILLS[ERROR]))
        if p.row and p.sheet in wb.sheetnames:
            where = ws.cell(r, 1)
            where.hyperlink = Hyperlink(ref=where.coordinate, location=f"'{p.sheet}'!{p.column or 'A'}{p.row}",
                                        display=p.where)
            where.font = Font(name=FONT, color="0563C1", underline="single")
    ws.freeze_panes = ws.cell(header + 1, 1)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(COLUMNS))}{max(header + len(problems), header + 1)}"
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
