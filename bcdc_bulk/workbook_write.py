"""Writing the export workbook (xlsxwriter: fast, and every value stays literal text)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.spool import Records
from bcdc_bulk.tables import Column, Renderer, SheetSpec, display_text

SNAPSHOT_SHEET = "_snapshot"
LISTS_SHEET = "Lists"
INSTRUCTIONS_SHEET = "Instructions"
CHUNK = 30_000  # snapshot JSON is ASCII-escaped, so chars == UTF-16 units
HEADER_ROWS = 2  # row 1 labels, row 2 field names (what reading uses)
SPARE_ROWS = 2_000  # rows below the data that keep dropdowns and formats for new records
PROPERTY_PREFIX = "bcdc_bulk_"


class Purpose(Enum):
    """What a workbook is for: its Instructions sheet says so in its own words."""

    EXPORT = "export"
    TEMPLATE = "template"
    INVENTORY = "inventory"
    UNDO = "undo"


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
    site_checks: tuple[str, ...] = ()  # fields with rules only the catalogue checks (when you apply)


@dataclass
class ChoiceList:
    """One dropdown list on the lookup sheet."""

    key: str
    values: list[str]


def snapshot_rows(provenance: Provenance, schema_raw: dict, packages: Iterable[dict[str, Any]],
                  lookups: dict[str, Any], shown: Iterable[dict[str, Any]] | None = None
                  ) -> Iterator[tuple[str, str, int, str]]:
    """The hidden snapshot as (kind, key, chunk, text) rows, one package at a time. ``shown``: the exact
    values the cells stand for, where they are not the snapshot's (an undo workbook), so that what a cell
    cannot carry (line endings, text longer than a cell) is put back to the character."""

    rows = snapshot_part
    yield from rows("meta", "provenance", provenance.__dict__ | {"organizations": list(provenance.organizations)})
    yield from rows("schema", "schema", schema_raw)
    yield from rows("lookups", "lookups", lookups)
    for pkg in packages:
        yield from _package_part("package", pkg)
    for pkg in shown or []:
        yield from _package_part("shown", pkg)


def snapshot_part(kind: str, key: str, value: Any) -> Iterator[tuple[str, str, int, str]]:
    """The snapshot rows of one value (a package, the schema ...): its JSON in chunks a cell holds."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    for i in range(0, max(len(text), 1), CHUNK):
        yield kind, key, i // CHUNK, text[i:i + CHUNK]


def _package_part(kind: str, pkg: dict[str, Any]) -> Iterator[tuple[str, str, int, str]]:
    return snapshot_part(kind, pkg.get("id") or "", pkg)


class Checksum:
    """The snapshot's fingerprint, taken row by row as the rows are written."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add(self, row: tuple[str, str, int, str]) -> None:
        """Take one more row."""
        kind, key, chunk, text = row
        self._digest.update(f"{kind}\x1f{key}\x1f{chunk}\x1f{text}\x1e".encode())

    def hexdigest(self) -> str:
        """The fingerprint so far."""
        return self._digest.hexdigest()


def checksum(rows: Iterable[tuple[str, str, int, str]]) -> str:
    """Fingerprint of the snapshot, to tell that nobody edited it."""
    digest = Checksum()
    for row in rows:
        digest.add(row)
    return digest.hexdigest()


@dataclass
class Table:
    """A small table for a summary sheet: a title, column headers and rows (first column a label)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    chart: str = "bar"  # bar | column | pie | stacked, or "" for a table with no chart


@dataclass
class ExtraSheets:
    """Sheets an inventory adds in front of the record sheets."""

    summary: list[Table]
    findings_columns: list[str]
    findings: list[dict[str, Any]]
    members: list[list[str]] | None = None  # Organization, User, Name, Role, E-mail; None: no Members sheet


ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")

DATE_COLUMNS = {"metadata_created", "metadata_modified", "created", "last_modified", "date"}


def _is_date_column(col: Column) -> bool:
    return col.field in DATE_COLUMNS or col.field.endswith("_date")


# Why a stored value is not one the sheet's column offers (None: it is fine, or not for the sheet to say)
RefusedNote = Callable[[SheetSpec, Column, str], "str | None"]


def write_workbook(path: Path, provenance: Provenance, specs: list[SheetSpec], renderer: Renderer,
                   packages: Records, choice_lists: list[ChoiceList], schema_raw: dict,
                   lookups: dict[str, Any], progress: Callable[[int], None] | None = None,
                   extra: ExtraSheets | None = None, snapshot_packages: Records | None = None,
                   purpose: Purpose = Purpose.EXPORT, refused: RefusedNote | None = None) -> None:
    """Write the whole workbook to ``path`` (through a temporary file, so a failure
    never leaves a half-written workbook behind). ``refused`` notes, on its cell, a stored value the
    catalogue's form no longer takes."""
    with replaced_atomically(Path(path)) as tmp:
        _write(tmp, provenance, specs, renderer, packages, choice_lists, schema_raw, lookups, progress,
               extra, snapshot_packages, purpose, refused)


def _write(path: Path, provenance: Provenance, specs: list[SheetSpec], renderer: Renderer,
           packages: Records, choice_lists: list[ChoiceList], schema_raw: dict,
           lookups: dict[str, Any], progress: Callable[[int], None] | None, extra: ExtraSheets | None,
           snapshot_packages: Records | None, purpose: Purpose, refused: RefusedNote | None) -> None:
    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False,
    })
    fmt = _Formats(wb)
    _instructions(wb, fmt, provenance, specs, purpose)
    if extra is not None:
        _summary(wb, fmt, extra.summary)
        _findings(wb, fmt, extra.findings_columns, extra.findings)
        if extra.members is not None:
            _members(wb, fmt, extra.members)

    list_ranges: dict[str, str] = {}
    for spec in specs:  # the dropdowns' list names, in the order the sheets use them
        for col in spec.columns:
            if col.choices:
                list_ranges.setdefault(col.choices, f"list_{len(list_ranges) + 1}")
    sheets = [_RecordSheet(wb, fmt, spec, renderer, list_ranges, refused, dates=purpose == Purpose.INVENTORY)
              for spec in specs]
    _lists(wb, fmt, choice_lists, list_ranges)
    snapshot = _Snapshot(wb.add_worksheet(SNAPSHOT_SHEET))
    snapshot.write(snapshot_rows(provenance, schema_raw, [], lookups))
    _write_records(sheets, snapshot, packages, snapshot_packages, progress)
    snapshot.ws.hide()
    snapshot.ws.protect()

    props = {f"{PROPERTY_PREFIX}{k}": str(v) for k, v in provenance.__dict__.items()
             if k not in ("organizations", "site_checks")}
    props[f"{PROPERTY_PREFIX}checksum"] = snapshot.digest.hexdigest()
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
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.plain = wb.add_format({"text_wrap": True, "valign": "top"})
        self.link = wb.add_format({"font_color": "#0563C1", "underline": 1, "valign": "top"})
        self.day = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top", "bg_color": "#EDEDED",
                                  "font_color": "#595959", "align": "left"})
        self.moment = wb.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top", "bg_color": "#EDEDED",
                                     "font_color": "#595959", "align": "left"})

    def cell(self, col: Column, wrap: bool = False) -> Any:
        """The format of a column's cells (wrapped for long text, or for one cell with line breaks)."""
        if col.read_only:
            return self.ro_wrap if col.wrap or wrap else self.ro
        return self.wrap if col.wrap or wrap else self.text


def _header(ws: Any, fmt: _Formats, spec: SheetSpec) -> None:
    """Rows 1 and 2: labels (required ones marked *, help as a comment), then the field names.
    Written row by row: in constant-memory mode a row, once left, cannot be written again."""
    for c, col in enumerate(spec.columns):
        ws.set_column(c, c, col.width, fmt.cell(col))
        label = col.label + (" *" if col.required and not col.read_only else "")
        header = fmt.header_ro if col.read_only else fmt.header_req if col.required else fmt.header
        ws.write_string(0, c, label, header)
        note = column_note(col)
        if note:
            ws.write_comment(0, c, note, {"x_scale": 2.2, "y_scale": 1.6, "author": "bcdc-bulk"})
    ws.set_row(0, 45)
    for c, col in enumerate(spec.columns):
        ws.write_string(1, c, col.field, fmt.field)


def column_note(col: Column) -> str:
    """The comment on a column's label: its help, what to put in it, and whether it is read."""
    parts = [col.help] if col.help else []
    if col.read_only:
        parts.append("Read-only: filled in by the catalogue; changes here are ignored.")
    elif col.choices:
        parts.append("Pick a value from the dropdown list.")
    if col.required and not col.read_only:
        parts.append("Required.")
    return "\n\n".join(parts)


def choice_prompt(col: Column) -> str:
    """The input message of a choice cell (Excel allows 255 characters)."""
    first = col.choice_values[0] if col.choice_values else ""
    if col.action:
        return f"Pick '{first}' to remove this row's record when the workbook is applied; leave empty to keep it."
    text = f"Pick one from the list (click the arrow), e.g. '{first}'. Typed values are checked before anything is sent."
    return text[:255]


def _row_height(row: dict[str, str], spec: SheetSpec) -> float | None:
    """Height for a row whose text runs over several lines (a few shown), or None."""
    lines = 1
    for col in spec.columns:
        text = row.get(col.field)
        if text and ("\n" in text or (col.wrap and len(text) > col.width)):
            wrapped = sum(max(1, -(-len(line) // max(int(col.width), 1))) for line in text.split("\n"))
            lines = max(lines, wrapped)
    return 15.0 * min(lines, MAX_ROW_LINES) + 2 if lines > 1 else None


def _write_records(sheets: list[_RecordSheet], snapshot: _Snapshot, packages: Records,
                   snapshot_packages: Records | None, progress: Callable[[int], None] | None) -> None:
    """One pass over the records writes every sheet and the snapshot (a spool is read once, not once a sheet)."""
    for pkg in packages:
        for sheet in sheets:
            sheet.add(pkg)
        if snapshot_packages is None:
            snapshot.write(_package_part("package", pkg))
        if progress:
            progress(1)
    for sheet in sheets:
        sheet.finish()
    if snapshot_packages is not None:  # an undo workbook shows the values before a run, snapshots those after
        for pkg in snapshot_packages:
            snapshot.write(_package_part("package", pkg))
        for pkg in packages:
            snapshot.write(_package_part("shown", pkg))


class _RecordSheet:
    """One record sheet, written a package at a time (rows in order, as constant-memory mode wants)."""

    def __init__(self, wb: Any, fmt: _Formats, spec: SheetSpec, renderer: Renderer,
                 list_ranges: dict[str, str], refused: RefusedNote | None = None, dates: bool = False) -> None:
        self.ws = wb.add_worksheet(spec.name)
        self.fmt = fmt
        # an inventory (read and filtered, not applied) writes its date columns as dates
        self.dated = [dates and _is_date_column(col) for col in spec.columns]
        self.refused = refused
        # what each dropdown column offers: a stored value outside it gets a note on its cell
        self.offered = [set(col.choice_values) if refused and col.choices and not col.read_only else None
                        for col in spec.columns]
        self.stored = [frozenset(col.stored_values) for col in spec.columns]  # looked up per cell: a set
        self.list_ranges = list_ranges
        _header(self.ws, fmt, spec)
        self.spec, self.renderer = spec, renderer
        self.formats = [fmt.cell(col) for col in spec.columns]
        self.wrapped = [fmt.cell(col, wrap=True) for col in spec.columns]
        self.r = HEADER_ROWS

    def add(self, pkg: dict[str, Any]) -> None:
        """The package's rows on this sheet."""
        spec, renderer, ws = self.spec, self.renderer, self.ws
        if spec.kind == "dataset":
            rows, stored = [renderer.dataset_row(pkg)], [pkg]
        elif spec.kind == "resource":
            rows, stored = renderer.resource_rows(pkg), list(pkg.get("resources") or [])
        else:
            rows = renderer.group_rows(pkg, spec)
            stored = [{}] * len(rows)
        for row, values in zip(rows, stored, strict=True):
            height = _row_height(row, spec)
            if height:
                ws.set_row(self.r, height)
            for c, col in enumerate(spec.columns):
                text = row.get(col.field)
                if text and self.dated[c] and self._write_date(c, text):
                    continue
                if text:
                    ws.write_string(self.r, c, display_text(text), self.wrapped[c] if "\n" in text else self.formats[c])
                    if self.offered[c] is not None and self._refused(c, col, text, values.get(col.field)):
                        self._note_refused(c, col, text)
            self.r += 1

    def _write_date(self, c: int, text: str) -> bool:
        """A date or moment written as one, so a date filter and sorting work on it; False if not one."""
        found = ISO_MOMENT.match(text)
        if not found:
            return False
        try:
            moment = dt.datetime.fromisoformat(found.group(0))
        except ValueError:
            return False
        self.ws.write_datetime(self.r, c, moment.replace(tzinfo=None),
                               self.fmt.moment if found.group(2) else self.fmt.day)
        return True

    def _refused(self, c: int, col: Column, text: str, value: Any) -> bool:
        """Whether a stored value is not one its list has: by the value itself where the sheet has it
        (a value stored as its label looks right in the cell), else by the cell's text."""
        if isinstance(value, str) and value and self.stored[c]:
            return value not in self.stored[c]
        return text not in (self.offered[c] or ())

    def _note_refused(self, c: int, col: Column, text: str) -> None:
        note = self.refused(self.spec, col, text) if self.refused else None
        if note:
            self.ws.write_comment(self.r, c, note, {"x_scale": 2.2, "y_scale": 1.6})

    def finish(self) -> None:
        """Dropdowns down to the spare rows, frozen names, the filter."""
        spec, ws = self.spec, self.ws
        last_row = self.r + SPARE_ROWS
        for c, col in enumerate(spec.columns):
            if col.choices:
                # no error alert: a label or the catalogue's own code may be typed by hand, and validate
                # names anything else with the nearest choice
                ws.data_validation(HEADER_ROWS, c, last_row, c, {
                    "validate": "list", "source": f"={self.list_ranges[col.choices]}", "ignore_blank": True,
                    "show_error": False, "input_title": col.label[:32], "input_message": choice_prompt(col),
                })
        ws.freeze_panes(HEADER_ROWS, spec.frozen_columns)
        ws.autofilter(1, 0, max(self.r - 1, 1), len(spec.columns) - 1)


class _Snapshot:
    """The hidden snapshot sheet, written and fingerprinted row by row."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.digest, self.r = ws, Checksum(), 0

    def write(self, rows: Iterable[tuple[str, str, int, str]]) -> None:
        """Append rows."""
        for row in rows:
            self.digest.add(row)
            kind, key, chunk, text = row
            self.ws.write_string(self.r, 0, kind)
            self.ws.write_string(self.r, 1, key)
            self.ws.write_number(self.r, 2, chunk)
            self.ws.write_string(self.r, 3, text)
            self.r += 1


def _lists(wb: Any, fmt: _Formats, choice_lists: list[ChoiceList], list_ranges: dict[str, str]) -> None:
    """The hidden sheet the dropdowns read, one list a column, written row by row."""
    lists = wb.add_worksheet(LISTS_SHEET)
    depth = max((len(c.values) for c in choice_lists), default=0)
    for col, choice in enumerate(choice_lists):
        lists.write_string(0, col, choice.key, fmt.header)
        lists.set_column(col, col, 30)
    for row in range(depth):
        for col, choice in enumerate(choice_lists):
            if row < len(choice.values):
                lists.write_string(row + 1, col, display_text(choice.values[row]), fmt.text)
    for col, choice in enumerate(choice_lists):
        letter = xl_col_to_name(col)
        last = max(len(choice.values), 1) + 1
        wb.define_name(list_ranges[choice.key], f"='{LISTS_SHEET}'!${letter}$2:${letter}${last}")
    lists.hide()


_EDITING = [
    ("Edit", "Change values in the white columns. Columns with a dropdown arrow take one of the listed values "
             "(as the catalogue's web form shows them). Columns marked * are required. Hover over a label in "
             "row 1 to read what the field is for."),
    ("Colours", "Row 1: orange labels are required (marked *), blue ones optional, grey ones read-only. "
                "Grey columns are filled in by the catalogue; white cells are yours to edit."),
    ("Do not edit", "Grey columns are filled in by the catalogue (ids, dates, counts): changes there are ignored. "
                    "Row 2 of each sheet holds the field names the tool reads: leave it as it is. You may sort, "
                    "filter, hide, move and resize columns, and add your own columns (they are ignored)."),
    ("Add a record", "Add a row on Datasets with an empty ID, and its resources on Resources with the same "
                     "'Dataset URL name' and an empty ID. The entries of a list field (contacts, links, dates ...) "
                     "go on its own sheet, keyed by the dataset's URL name and a position (#)."),
    ("Remove", "To remove a dataset, a resource, or a contact, link or date, pick 'remove' in the row's "
               "Remove? column (who may remove what is the catalogue's rule: in the BC Data Catalogue, editors "
               "remove Draft datasets only, admins any). Deleting a row removes "
               "nothing: it is reported and ignored. A removed resource or entry can be put back by applying "
               "the undo workbook that apply writes."),
    ("Notes on cells", "A cell with a note (a red corner; hover over it) holds a value stored in the catalogue "
                       "that its form no longer takes. The note says what to write instead. The catalogue asks "
                       "for it to be fixed whenever the record is saved, so fix it when you edit that record."),
    ("Long text", "A value longer than an Excel cell can hold is shown cut, with a note; the full text is kept "
                  "and is never written back cut. Edit such values in the catalogue."),
    ("Then", "Save the workbook (as .xlsx). In the catalogue, upload it on your organization's Bulk edit tab: "
             "it is checked, you see every problem by cell and what would change, and Apply writes it. "
             "From a terminal: bcdc-bulk validate, plan and apply, each with the file's name."),
]
_INTRO = {
    Purpose.EXPORT: "Catalogue records to edit in Excel or LibreOffice. Only what you change is written back, "
                    "and only after 'bcdc-bulk validate' and 'bcdc-bulk apply'.",
    Purpose.TEMPLATE: "An empty workbook in the catalogue's layout, for new records: add one row per dataset on "
                      "Datasets and its resources on Resources, then validate and apply it like an export.",
    Purpose.INVENTORY: "An inventory of catalogue records, for reading and auditing. Summary counts the records "
                       "with charts; Findings lists every stored value today's schema rejects or warns about, "
                       "with what to change it to where the schema knows. The record sheets follow. To change "
                       "records, export them with 'bcdc-bulk export' and edit that workbook.",
    Purpose.UNDO: "The values a 'bcdc-bulk apply' run replaced. Apply this workbook to put them back: it is "
                  "checked for conflicts like any other. Resources and entries the run added are listed with "
                  "'remove' in their Remove? column (applying removes them); a resource the run removed is a new "
                  "row here (applying adds it back, with a new id). In the catalogue's web pages, upload it on "
                  "the Bulk edit tab, or use Undo in the history.",
}


INSTRUCTIONS_WIDTH = 90
MAX_ROW_LINES = 3  # a record row shows at most this many lines of a long value; the cell holds it all


def _text_height(text: str, width: int) -> float:
    """Row height (points) that shows ``text`` whole in a wrapped cell ``width`` characters wide."""
    lines = sum(max(1, -(-len(line) // width)) for line in text.split("\n"))
    return 15.0 * lines + 3


def _instructions(wb: Any, fmt: _Formats, prov: Provenance, specs: list[SheetSpec], purpose: Purpose) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, INSTRUCTIONS_WIDTH)  # column A and B fit a 1366-pixel screen
    ws.write_string(0, 0, f"bcdc-bulk {purpose.value}", fmt.title)
    ws.set_row(0, 22)
    lines = [("What this is", _INTRO[purpose])]
    if purpose is not Purpose.INVENTORY:
        lines += _EDITING
    if prov.site_checks and purpose is not Purpose.INVENTORY:
        lines.append(("Checked by the catalogue", "These fields have rules that only the catalogue checks, when you "
                      "apply (a value it refuses is reported in its cell, and the rest is written): "
                      + ", ".join(prov.site_checks) + "."))
    lines += [
        ("Sheets", ", ".join(s.name for s in specs)),
        ("", ""),
        ("Site", prov.site), ("Organization", prov.organization),
        ("Organizations included", ", ".join(prov.organizations)
         or ("(the whole catalogue)" if purpose is Purpose.INVENTORY else "(none)")), ("Exported at", prov.exported_at),
        ("Exported by", prov.user or "(anonymous)"), ("Schema version", prov.schema_version),
        ("Layout version", str(prov.layout_version)), ("bcdc-bulk version", prov.tool_version),
    ]
    for i, (key, value) in enumerate(lines, 2):
        if len(value) > INSTRUCTIONS_WIDTH:
            ws.set_row(i, _text_height(value, INSTRUCTIONS_WIDTH))
        ws.write_string(i, 0, key, fmt.bold)
        ws.write_string(i, 1, display_text(value), fmt.plain)
    ws.activate()


def _summary(wb: Any, fmt: _Formats, tables: list[Table]) -> None:
    """Counts, each table with a native chart beside it. A 'total' column is a count, never a
    series: stacked on the states it would double every bar."""
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 0, 50)  # names whole; a two-column table and its chart fit a 1366-pixel screen
    ws.set_column(1, 12, 11)
    row = 0
    for table in tables:
        ws.write_string(row, 0, table.title, fmt.title)
        ws.set_row(row + 1, 30)
        ws.write_row(row + 1, 0, table.headers, fmt.header)
        first = row + 2
        for i, values in enumerate(table.rows):
            for c, value in enumerate(values):
                if isinstance(value, (int, float)):
                    ws.write_number(first + i, c, value)
                else:
                    ws.write_string(first + i, c, display_text(str(value)))
        last = first + max(len(table.rows), 1) - 1
        chart = _chart(wb, table, row, first, last) if table.rows and table.chart else None
        if chart is not None and len(table.headers) > 3:  # a wide table: its chart below, where it shows whole
            ws.insert_chart(last + 2, 0, chart)
            row = last + 4 + max(260, 22 * len(table.rows) + 80) // 20
            continue
        if chart is not None:
            ws.insert_chart(row, len(table.headers) + 1, chart)
            row = max(last + 3, row + 2 + max(12, len(table.rows) * 22 // 20 + 4))
        else:
            row = last + 3


def _chart(wb: Any, table: Table, row: int, first: int, last: int) -> Any:
    """A native chart of one summary table (value axis from 0)."""
    stacked = table.chart == "stacked"
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"} if stacked else {"type": table.chart})
    series = [c for c, h in enumerate(table.headers) if c > 0 and h != TOTAL] if stacked else [1]
    for c in series:
        chart.add_series({"name": ["Summary", row + 1, c], "categories": ["Summary", first, 0, last, 0],
                          "values": ["Summary", first, c, last, c]})
    chart.set_title({"name": table.title})
    axis = {"min": 0, "major_gridlines": {"visible": True}}
    (chart.set_x_axis if table.chart in ("bar", "stacked") else chart.set_y_axis)(axis)
    if not stacked:
        chart.set_legend({"none": True})
    chart.set_size({"width": 540, "height": max(260, 22 * len(table.rows) + 80)})
    return chart


FINDING_FILLS = {"error": "#FFC7CE", "warning": "#FFEB9C"}


def _findings(wb: Any, fmt: _Formats, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """One row per problem a stored record has under today's schema, coloured by severity. One line a
    row (a wrapped cell would be cut at the default height); the whole text shows in the cell's edit line."""
    ws = wb.add_worksheet("Findings")
    widths = {"organization": 26, "message": 90, "title": 36, "value": 26, "dataset": 34, "where": 40,
              "change_to": 16, "id": 38, "severity": 10}
    line = wb.add_format({"valign": "top"})
    fills = {k: wb.add_format({"bg_color": v, "valign": "top"}) for k, v in FINDING_FILLS.items()}
    ws.set_row(0, 30)
    for c, name in enumerate(columns):
        ws.set_column(c, c, widths.get(name, 14), line)
        ws.write_string(0, c, FINDING_HEADINGS.get(name, name), fmt.header)
    for r, values in enumerate(rows, 1):
        for c, name in enumerate(columns):
            value = values.get(name)
            cell_fmt = fills.get(str(values.get("severity"))) if name == "severity" else line
            if name == "dataset" and values.get("link"):  # the record's page in the catalogue
                ws.write_url(r, c, values["link"], fmt.link, string=display_text(str(value)))
            elif value not in (None, ""):
                ws.write_string(r, c, display_text(str(value)), cell_fmt)
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)


MEMBER_COLUMNS = [("Organization", 36), ("User", 24), ("Name", 30), ("Role", 10), ("E-mail (shown to sysadmins)", 36)]


def _members(wb: Any, fmt: _Formats, rows: list[list[str]]) -> None:
    """Who may edit what: one row per person and organization, with a filter."""
    ws = wb.add_worksheet("Members")
    ws.set_row(0, 30)
    for c, (title, width) in enumerate(MEMBER_COLUMNS):
        ws.set_column(c, c, width)
        ws.write_string(0, c, title, fmt.header)
    for r, values in enumerate(rows, 1):
        for c, value in enumerate(values):
            if value:
                ws.write_string(r, c, display_text(value))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(rows), 1), len(MEMBER_COLUMNS) - 1)


TOTAL = "total"
FINDING_HEADINGS = {"organization": "Organization", "dataset": "Dataset", "title": "Title", "where": "Where",
                    "field": "Field", "value": "Stored value", "change_to": "Change it to", "severity": "Severity",
                    "message": "Message", "code": "Code", "id": "Record id"}
