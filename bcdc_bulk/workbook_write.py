"""Writing the export workbook (xlsxwriter: fast, and every value stays literal text)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.tables import Column, Renderer, SheetSpec, display_text

SNAPSHOT_SHEET = "_snapshot"
LISTS_SHEET = "Lists"
INSTRUCTIONS_SHEET = "Instructions"
CHUNK = 30_000  # snapshot JSON is ASCII-escaped, so chars == UTF-16 units
HEADER_ROWS = 2  # row 1 labels, row 2 field names (what reading uses)
SPARE_ROWS = 2_000  # rows below the data that keep dropdowns and formats for new records
PROPERTY_PREFIX = "bcdc_bulk_"


@dataclass(frozen=True)
class Provenance:
    """Where and when a workbook was exported, shown on the Instructions sheet."""

    site: str
    organization: str
    exported_at: str
    user: str
    schema_version: str
    layout_version: int
    tool_version: str
    organizations: tuple[str, ...] = ()


@dataclass
class ChoiceList:
    """One dropdown list on the lookup sheet."""

    key: str
    values: list[str]


def snapshot_rows(provenance: Provenance, schema_raw: dict, packages: list[dict[str, Any]],
                  lookups: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """The hidden snapshot as (kind, key, chunk, text) rows."""
    rows: list[tuple[str, str, int, str]] = []

    def add(kind: str, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
        for i in range(0, max(len(text), 1), CHUNK):
            rows.append((kind, key, i // CHUNK, text[i:i + CHUNK]))

    add("meta", "provenance", provenance.__dict__ | {"organizations": list(provenance.organizations)})
    add("schema", "schema", schema_raw)
    add("lookups", "lookups", lookups)
    for pkg in packages:
        add("package", pkg.get("id") or "", pkg)
    return rows


def checksum(rows: Iterable[tuple[str, str, int, str]]) -> str:
    """Fingerprint of the snapshot, to tell that nobody edited it."""
    digest = hashlib.sha256()
    for kind, key, chunk, text in rows:
        digest.update(f"{kind}\x1f{key}\x1f{chunk}\x1f{text}\x1e".encode())
    return digest.hexdigest()


@dataclass
class Table:
    """A small table for a summary sheet: a title, column headers and rows (first column a label)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    chart: str = "bar"  # bar | column | pie | stacked


@dataclass
class ExtraSheets:
    """Sheets an inventory adds in front of the record sheets."""

    summary: list[Table]
    findings_columns: list[str]
    findings: list[dict[str, Any]]


def write_workbook(path: Path, provenance: Provenance, specs: list[SheetSpec], renderer: Renderer,
                   packages: list[dict[str, Any]], choice_lists: list[ChoiceList], schema_raw: dict,
                   lookups: dict[str, Any], progress: Callable[[int], None] | None = None,
                   extra: ExtraSheets | None = None, snapshot_packages: list[dict[str, Any]] | None = None) -> None:
    """Write the whole workbook to ``path`` (through a temporary file, so a failure
    never leaves a half-written workbook behind)."""
    with replaced_atomically(Path(path)) as tmp:
        _write(tmp, provenance, specs, renderer, packages, choice_lists, schema_raw, lookups, progress,
               extra, snapshot_packages)


def _write(path: Path, provenance: Provenance, specs: list[SheetSpec], renderer: Renderer,
           packages: list[dict[str, Any]], choice_lists: list[ChoiceList], schema_raw: dict,
           lookups: dict[str, Any], progress: Callable[[int], None] | None, extra: ExtraSheets | None,
           snapshot_packages: list[dict[str, Any]] | None) -> None:
    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False,
    })
    fmt = _Formats(wb)
    _instructions(wb, fmt, provenance, specs)
    if extra is not None:
        _summary(wb, fmt, extra.summary)
        _findings(wb, fmt, extra.findings_columns, extra.findings)

    list_ranges = {}
    for spec in specs:
        _record_sheet(wb, fmt, spec, renderer, packages, list_ranges, progress)

    lists = wb.add_worksheet(LISTS_SHEET)
    for col, choice in enumerate(choice_lists):
        lists.write_string(0, col, choice.key, fmt.header)
        for row, value in enumerate(choice.values, 1):
            lists.write_string(row, col, display_text(value), fmt.text)
        letter = xl_col_to_name(col)
        last = max(len(choice.values), 1) + 1
        wb.define_name(list_ranges[choice.key], f"='{LISTS_SHEET}'!${letter}$2:${letter}${last}")
    lists.hide()

    snap = wb.add_worksheet(SNAPSHOT_SHEET)
    # an undo workbook shows the values before a run and snapshots the values after it
    rows = snapshot_rows(provenance, schema_raw, packages if snapshot_packages is None else snapshot_packages, lookups)
    for r, (kind, key, chunk, text) in enumerate(rows):
        snap.write_string(r, 0, kind)
        snap.write_string(r, 1, key)
        snap.write_number(r, 2, chunk)
        snap.write_string(r, 3, text)
    snap.hide()
    snap.protect()

    props = {f"{PROPERTY_PREFIX}{k}": str(v) for k, v in provenance.__dict__.items() if k != "organizations"}
    props[f"{PROPERTY_PREFIX}checksum"] = checksum(rows)
    for name, value in props.items():
        wb.set_custom_property(name, value)
    wb.set_properties({"title": f"bcdc-bulk export of {provenance.organization}", "comments": provenance.site})
    wb.close()


class _Formats:
    def __init__(self, wb: Any) -> None:
        base = {"num_format": "@", "valign": "top"}
        self.text = wb.add_format(dict(base, locked=False))
        self.wrap = wb.add_format(dict(base, locked=False, text_wrap=True))
        self.ro = wb.add_format(dict(base, locked=True, bg_color="#EDEDED", font_color="#595959"))
        self.ro_wrap = wb.add_format(dict(base, locked=True, bg_color="#EDEDED", font_color="#595959",
                                          text_wrap=True))
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                     "valign": "top", "locked": True})
        self.header_req = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                                         "valign": "top", "locked": True})
        self.header_ro = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "font_color": "#595959",
                                        "border": 1, "text_wrap": True, "valign": "top", "locked": True})
        self.field = wb.add_format({"italic": True, "font_size": 8, "font_color": "#808080",
                                    "bg_color": "#F2F2F2", "locked": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True})
        self.plain = wb.add_format({"text_wrap": True, "valign": "top"})

    def cell(self, col: Column) -> Any:
        if col.read_only:
            return self.ro_wrap if col.wrap else self.ro
        return self.wrap if col.wrap else self.text


def _record_sheet(wb: Any, fmt: _Formats, spec: SheetSpec, renderer: Renderer, packages: list[dict[str, Any]],
                  list_ranges: dict[str, str], progress: Callable[[int], None] | None) -> None:
    ws = wb.add_worksheet(spec.name)
    formats = [fmt.cell(col) for col in spec.columns]
    for c, col in enumerate(spec.columns):
        ws.set_column(c, c, col.width, formats[c])
        label = col.label + (" *" if col.required and not col.read_only else "")
        header = fmt.header_ro if col.read_only else fmt.header_req if col.required else fmt.header
        ws.write_string(0, c, label, header)
        ws.write_string(1, c, col.field, fmt.field)
        note = col.help
        if col.read_only:
            note = (note + "\n\n" if note else "") + "Read-only: filled in by the catalogue; changes here are ignored."
        if note:
            ws.write_comment(0, c, note, {"x_scale": 2, "y_scale": 1.5})
    ws.set_row(0, 30)
    r = HEADER_ROWS
    for pkg in packages:
        if spec.kind == "dataset":
            rows = [renderer.dataset_row(pkg)]
        elif spec.kind == "resource":
            rows = renderer.resource_rows(pkg)
        else:
            rows = renderer.group_rows(pkg, spec)
        for row in rows:
            for c, col in enumerate(spec.columns):
                text = row.get(col.field)
                if text:
                    ws.write_string(r, c, display_text(text), formats[c])
            r += 1
        if progress and spec.kind == "dataset":
            progress(1)
    last_row = r + SPARE_ROWS
    for c, col in enumerate(spec.columns):
        if col.choices:
            name = list_ranges.setdefault(col.choices, f"list_{len(list_ranges) + 1}")
            ws.data_validation(HEADER_ROWS, c, last_row, c, {
                "validate": "list", "source": f"={name}", "ignore_blank": True,
                "error_type": "warning", "error_title": "Not in the list",
                "error_message": f"{col.label}: pick a value from the list.",
            })
    ws.freeze_panes(HEADER_ROWS, spec.frozen_columns)
    ws.autofilter(1, 0, max(r - 1, 1), len(spec.columns) - 1)
    ws.protect("", {
        "format_cells": True, "format_columns": True, "format_rows": True, "insert_rows": True,
        "delete_rows": True, "sort": True, "autofilter": True, "select_locked_cells": True,
        "select_unlocked_cells": True, "insert_hyperlinks": True,
    })


def _instructions(wb: Any, fmt: _Formats, prov: Provenance, specs: list[SheetSpec]) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, "bcdc-bulk workbook", fmt.title)
    lines = [
        ("What this is", "An export of catalogue records to edit in Excel or LibreOffice. "
                         "Change values in the white columns, then run 'bcdc-bulk validate' and 'bcdc-bulk apply'."),
        ("Edit", "White cells are editable. Pick choice values from the dropdowns. Columns marked * are required."),
        ("Do not edit", "Grey columns are filled in by the catalogue (ids, dates, counts): changes there are "
                        "ignored. Row 2 of each sheet holds the field names the tool reads: do not change it. "
                        "You may reorder, hide or filter columns."),
        ("Add a record", "Add a row on Datasets with an empty id, and its resources on Resources with the same "
                         "'Dataset URL name' and an empty id. Contacts, links and dates go on their sheets, "
                         "keyed by the dataset's URL name and a position (#)."),
        ("Remove", "Deleting a row does not delete anything in the catalogue: it is reported and ignored."),
        ("Long text", "A value longer than an Excel cell can hold is shown cut, with a note; the full text is "
                      "kept and is never written back cut. Edit such values in the catalogue."),
        ("Sheets", ", ".join(s.name for s in specs)),
        ("", ""),
        ("Site", prov.site), ("Organization", prov.organization),
        ("Organizations included", ", ".join(prov.organizations)), ("Exported at", prov.exported_at),
        ("Exported by", prov.user or "(anonymous)"), ("Schema version", prov.schema_version),
        ("Layout version", str(prov.layout_version)), ("bcdc-bulk version", prov.tool_version),
    ]
    for i, (key, value) in enumerate(lines, 2):
        ws.write_string(i, 0, key, fmt.bold)
        ws.write_string(i, 1, display_text(value), fmt.plain)
    ws.activate()


PROBLEMS_FIELD = "_problems"


def annotate_workbook(source: Path, target: Path, problems: list[Any]) -> int:
    """A copy of the user's workbook with each problem cell highlighted, the message as a
    comment, and a Problems column on every sheet with problems. The user's file is never
    modified; returns how many cells were marked."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    if Path(source).resolve() == Path(target).resolve():
        from bcdc_bulk.errors import BulkError

        raise BulkError("--annotate must name a new file; the workbook you edited is never overwritten")
    wb = openpyxl.load_workbook(source)
    fills = {"error": PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}
    by_sheet: dict[str, dict[int, list[Any]]] = {}
    marked = 0
    for problem in problems:
        if problem.sheet not in wb.sheetnames or not problem.row:
            continue
        ws = wb[problem.sheet]
        by_sheet.setdefault(problem.sheet, {}).setdefault(problem.row, []).append(problem)
        if problem.column:
            cell = ws[f"{problem.column}{problem.row}"]
            cell.fill = fills.get(problem.severity, fills["error"])
            text = f"{problem.severity.upper()}: {problem.message}"
            if cell.comment is not None:
                text = cell.comment.text + "\n\n" + text
            cell.comment = Comment(text, "bcdc-bulk", width=360, height=160)
            marked += 1
    for sheet, rows in by_sheet.items():
        ws = wb[sheet]
        col = next((c.column for c in ws[HEADER_ROWS] if c.value == PROBLEMS_FIELD), ws.max_column + 1)
        ws.cell(1, col).value = "Problems (bcdc-bulk validate)"
        ws.cell(1, col).font = Font(bold=True, color="9C0006")
        ws.cell(HEADER_ROWS, col).value = PROBLEMS_FIELD
        ws.column_dimensions[xl_col_to_name(col - 1)].width = 80
        for row, found in rows.items():
            ws.cell(row, col).value = "\n".join(
                f"{p.severity}: {p.column or ''} {p.message}".replace("  ", " ") for p in found)
    with replaced_atomically(Path(target)) as tmp:
        wb.save(tmp)
    return marked


def _summary(wb: Any, fmt: _Formats, tables: list[Table]) -> None:
    """Counts, each table with a native chart beside it."""
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 0, 40)
    ws.set_column(1, 12, 14)
    row = 0
    for table in tables:
        ws.write_string(row, 0, table.title, fmt.title)
        ws.write_row(row + 1, 0, table.headers, fmt.header)
        first = row + 2
        for i, values in enumerate(table.rows):
            for c, value in enumerate(values):
                if isinstance(value, (int, float)):
                    ws.write_number(first + i, c, value)
                else:
                    ws.write_string(first + i, c, display_text(str(value)))
        last = first + max(len(table.rows), 1) - 1
        if table.rows:
            kind = {"stacked": {"type": "bar", "subtype": "stacked"}}.get(table.chart, {"type": table.chart})
            chart = wb.add_chart(kind)
            for c in range(1, len(table.headers)):
                if table.chart != "stacked" and c > 1:
                    break
                chart.add_series({"name": ["Summary", row + 1, c], "categories": ["Summary", first, 0, last, 0],
                                  "values": ["Summary", first, c, last, c]})
            chart.set_title({"name": table.title})
            if table.chart != "stacked":
                chart.set_legend({"none": True})
            chart.set_size({"width": 620, "height": max(260, 22 * len(table.rows) + 80)})
            ws.insert_chart(row, len(table.headers) + 1, chart)
        row = max(last + 3, row + 2 + max(12, len(table.rows) * 22 // 20 + 4))


def _findings(wb: Any, fmt: _Formats, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """One row per problem a stored record has under today's schema."""
    ws = wb.add_worksheet("Findings")
    widths = {"message": 80, "title": 40, "value": 30, "dataset": 36, "where": 28}
    for c, name in enumerate(columns):
        ws.set_column(c, c, widths.get(name, 16), fmt.plain)
        ws.write_string(0, c, name, fmt.header)
    for r, values in enumerate(rows, 1):
        for c, name in enumerate(columns):
            value = values.get(name)
            if value not in (None, ""):
                ws.write_string(r, c, display_text(str(value)))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
