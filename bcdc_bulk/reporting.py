"""Reports: the list of problems (validate) and what happened to every row (apply),
as xlsx, CSV and JSON lines."""
from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xlsxwriter

from bcdc_bulk.calls import Call
from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.local_files import LocalFiles, file_size_text
from bcdc_bulk.plan import Plan
from bcdc_bulk.problems import Problem, ValidationReport
from bcdc_bulk.results import Status
from bcdc_bulk.tables import display_text
from bcdc_bulk.wording import Wording

# what a person reads first (where, which dataset, what is wrong), codes and ids last
PROBLEM_COLUMNS = ("where", "dataset", "severity", "message", "field", "value", "pre_existing", "sheet", "row",
                   "column", "code", "record")
WHERE = "where"


def cell_link(workbook: Path | None, report: Path, sheet: str, row: Any, column: str = "") -> str | None:
    """An xlsxwriter link from a report to a cell (or row) of the workbook it is about."""
    if workbook is None or not sheet or not row:
        return None
    target = os.path.relpath(Path(workbook).resolve(), Path(report).resolve().parent)
    return f"external:{target}#'{sheet}'!{column or 'A'}{row}"


def write_rows_xlsx(path: Path, title: str, columns: Iterable[str], rows: list[dict[str, Any]],
                    colour_by: str | None = None, colours: dict[str, str] | None = None,
                    summary: dict[str, int] | None = None, workbook: Path | None = None) -> None:
    """One sheet of rows (literal text, filter, frozen header), coloured by a column's value,
    and an optional Summary sheet with the counts and a chart. With ``workbook``, each row's
    'where' cell links to its cell in that workbook."""
    columns = list(columns)
    with replaced_atomically(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False})
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        formats = {k: wb.add_format({"bg_color": v, "text_wrap": True, "valign": "top"})
                   for k, v in (colours or {}).items()}
        plain = wb.add_format({"text_wrap": True, "valign": "top"})
        if summary is not None:
            ws = wb.add_worksheet("Summary")
            ws.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
            ws.write_row(2, 0, ["status", "count"], bold)
            for i, (key, count) in enumerate(summary.items(), 3):
                ws.write_string(i, 0, key, formats.get(key, plain))
                ws.write_number(i, 1, count)
            ws.set_column(0, 0, 24)
            if summary:
                chart = wb.add_chart({"type": "bar"})
                chart.add_series({"name": "rows", "categories": ["Summary", 3, 0, 2 + len(summary), 0],
                                  "values": ["Summary", 3, 1, 2 + len(summary), 1]})
                chart.set_legend({"none": True})
                chart.set_title({"name": title})
                ws.insert_chart(2, 3, chart)
        ws = wb.add_worksheet("Rows")
        ws.write_row(0, 0, [HEADINGS.get(c, c) for c in columns], bold)
        for c, name in enumerate(columns):
            ws.set_column(c, c, WIDTHS.get(name, 14))
        link_style = {"font_color": "#0563C1", "underline": 1, "valign": "top"}
        link = wb.add_format(link_style)
        links = {k: wb.add_format(dict(link_style, bg_color=v)) for k, v in (colours or {}).items()}
        for r, row in enumerate(rows, 1):
            fmt = formats.get(str(row.get(colour_by, ""))) if colour_by else None
            for c, name in enumerate(columns):
                value = row.get(name)
                target = cell_link(workbook, path, row.get("sheet", ""), row.get("row"), row.get("column", ""))
                if name == WHERE and value and target:
                    style = links.get(str(row.get(colour_by, ""))) if colour_by else None
                    ws.write_url(r, c, target, style or link, string=str(value), tip="Open this cell in the workbook")
                else:
                    _write_value(ws, r, c, value, fmt or plain, fmt)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
        wb.close()


HEADINGS = {"where": "Where", "dataset": "Dataset", "severity": "Severity", "message": "Message", "field": "Field",
            "value": "Value", "pre_existing": "Already so before your edit", "sheet": "Sheet", "row": "Row",
            "column": "Column", "code": "Code", "record": "Record id", "resource": "Resource", "status": "Status",
            "changes": "Changes", "action": "Call", "attempts": "Attempts", "seconds": "Seconds",
            "dataset_id": "Dataset id", "resource_id": "Resource id"}
WIDTHS = {"where": 16, "dataset": 34, "message": 80, "changes": 60, "value": 30, "resource": 28, "record": 38,
          "dataset_id": 38, "resource_id": 38, "pre_existing": 12}


def _write_value(ws: Any, r: int, c: int, value: Any, fmt: Any, colour: Any) -> None:
    if isinstance(value, bool):
        value = "yes" if value else ""
    if isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt)
    elif value not in (None, ""):
        ws.write_string(r, c, display_text(str(value)), fmt)
    elif colour is not None:
        ws.write_blank(r, c, None, colour)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet opening a CSV reads as a formula


def csv_safe(value: Any) -> Any:
    """A CSV cell no spreadsheet evaluates: text that starts as a formula would (=, +, -, @, tab,
    carriage return) gets a leading apostrophe, as OWASP advises for CSV injection. Numbers stay
    numbers; the JSON lines written beside the CSV keep every value exactly."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_rows_csv(path: Path, columns: Iterable[str], rows: list[dict[str, Any]]) -> None:
    """The same rows as CSV (UTF-8 with a BOM, so Excel opens it right), no cell a formula."""
    columns = list(columns)
    with replaced_atomically(Path(path)) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else csv_safe(row.get(k))) for k in columns})


def write_rows_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """The same rows as JSON lines."""
    with replaced_atomically(Path(path)) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def problem_rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as plain rows, in the report's column order."""
    return [{k: (p.where if k == WHERE else p.as_dict()[k]) for k in PROBLEM_COLUMNS} for p in problems]


def write_problem_report(path: Path, report: ValidationReport, workbook: Path | None = None) -> list[Path]:
    """The validation problems as xlsx (coloured by severity, each linked to its cell in ``workbook``),
    with CSV and JSON lines beside it."""
    path = Path(path)
    rows = problem_rows(report.problems)
    counts = {"error": len(report.errors), "warning": len(report.warnings)}
    write_rows_xlsx(path, "Validation problems", PROBLEM_COLUMNS, rows, "severity",
                    {"error": "#FFC7CE", "warning": "#FFEB9C"}, counts, workbook)
    csv_path, jsonl_path = path.with_suffix(".csv"), path.with_suffix(".jsonl")
    write_rows_csv(csv_path, PROBLEM_COLUMNS, rows)
    write_rows_jsonl(jsonl_path, rows)
    return [path, csv_path, jsonl_path]


APPLY_COLUMNS = ("where", "dataset", "resource", "status", "message", "changes", "action", "attempts", "seconds",
                 "sheet", "row", "dataset_id", "resource_id")
STATUS_COLOURS = {Status.APPLIED: "#C6EFCE", Status.CREATED: "#C6EFCE", Status.REMOVED: "#C6EFCE",
                  Status.UNCHANGED: "#EDEDED", Status.INVALID: "#FFC7CE", Status.CONFLICT: "#FFEB9C",
                  Status.FAILED: "#FFC7CE", Status.SKIPPED: "#F2F2F2", Status.KEPT: "#FFEB9C"}


def problem_line(p: Problem) -> str:
    """One problem on one line: where, severity, field, what is wrong."""
    return f"{p.where:<16} {p.severity:<7} {p.field or '-':<22} {p.message}"


def problem_lines(report: ValidationReport) -> list[str]:
    """The problems a person caused first, then those their records already had, under a heading."""
    own = [problem_line(p) for p in report.problems if not p.pre_existing]
    before = [problem_line(p) for p in report.problems if p.pre_existing]
    if before:
        before.insert(0, "Already so before your edit, in the records you changed (the catalogue checks the whole "
                         "record when it saves, so these need fixing too):")
    return own + before


def _rows_of(call: Call) -> str:
    """Where a call's changes were made: ', Datasets row 4' (the first cell of each sheet)."""
    seen: dict[str, int] = {}
    for change in call.changes:
        if change.cell is not None and change.cell.row:
            seen.setdefault(change.cell.sheet, change.cell.row)
    return "".join(f", {sheet} row {row}" for sheet, row in seen.items())


def plan_lines(plan: Plan, report: ValidationReport, calls: list[Call], files: LocalFiles | None = None,
               site: str = "") -> list[str]:
    """The plan as a person reads it (what `bcdc-bulk plan` prints and the web page offers): each
    call with its changes field by field, each file it uploads (where it is read from, its size),
    what is not sent because of errors, and what is ignored."""
    records = {r.key: r for r in plan.records}
    words = Wording(plan.converters, site or plan.site, plan.labels)
    lines = []
    for call in calls:
        rec = records.get(call.record)
        lines.append(f"{words.call_title(call, rec)}{_rows_of(call)}:")
        lines.extend(f"    {line}" for change in call.changes for line in words.lines(change, rec))
        if call.upload and files is not None and files.allowed:
            path = files.path(call.upload)
            lines.append(f"    upload: {call.upload} (the file {path.resolve()}, {file_size_text(path)})")
        elif call.upload:
            lines.append(f"    upload: {call.upload}")
    errors = report.errors
    if errors:
        lines.append("Not sent, because of errors (run validate for all problems):")
        lines.extend("  " + problem_line(p) for p in errors)
    for label, notes in (("Kept", plan.kept), ("Ignored", plan.ignored)):
        for note in notes:
            where = f"{note.sheet} row {note.row}" if note.row else note.sheet
            lines.append(f"{label}: {where}: {note.record + ': ' if note.record else ''}{note.message}")
    if not calls and not errors:
        lines.append("No changes.")
        return lines
    sent = len({c.record for c in calls})
    held = (f"; {len(errors)} error{'s' * (len(errors) != 1)} {'keeps' if len(errors) == 1 else 'keep'} rows "
            "from being sent") if errors else ""
    lines.append(f"{len(calls)} call{'s' * (len(calls) != 1)} for {sent} record{'s' * (sent != 1)}{held}. "
                 "Nothing was sent yet.")
    return lines


def write_apply_report(path: Path, rows: list[dict[str, Any]], counts: dict[str, int],
                       workbook: Path | None = None) -> list[Path]:
    """The per-row apply report as xlsx (coloured by status, a filter, a Summary with a chart, each
    row linked to its row in ``workbook``), with CSV and JSON lines beside it."""
    path = Path(path)
    rows = [dict(r, where=f"{r['sheet']} row {r['row']}" if r.get("row") else r.get("sheet", "")) for r in rows]
    write_rows_xlsx(path, "Apply results", APPLY_COLUMNS, rows, "status", STATUS_COLOURS, counts, workbook)
    csv_path, jsonl_path = path.with_suffix(".csv"), path.with_suffix(".jsonl")
    write_rows_csv(csv_path, APPLY_COLUMNS, rows)
    write_rows_jsonl(jsonl_path, rows)
    return [path, csv_path, jsonl_path]
