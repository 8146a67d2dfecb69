"""Reading an exported (and edited) workbook back: the user's rows and the snapshot.

python-calamine reads several times faster than openpyxl and hands back cell
values as stored; tables.normalize_cell evens out what Excel or LibreOffice did
to untouched cells.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.layouts import layout_for
from bcdc_bulk.schema import schema_from_dict
from bcdc_bulk.tables import DATASET_KEY, PARENT_NAME, POSITION, RESOURCE_ID, Layout
from bcdc_bulk.workbook_write import HEADER_ROWS, PROPERTY_PREFIX, SNAPSHOT_SHEET, checksum


def column_letter(index: int) -> str:
    """0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class SheetRows:
    """One record sheet as read: where each field's column is, and the data rows."""

    name: str
    columns: dict[str, int]  # field -> 0-based column index
    rows: list[tuple[int, dict[str, Any]]]  # (1-based sheet row, field -> raw cell value)
    formulas: dict[int, dict[str, str]] = field(default_factory=dict)  # row -> column letter -> formula

    def letter(self, field_name: str) -> str:
        """The column letter of a field, as the user sees it."""
        return column_letter(self.columns[field_name]) if field_name in self.columns else ""


@dataclass
class ReadWorkbook:
    """Everything a later step needs from a workbook."""

    path: Path
    provenance: dict[str, Any]
    schema_raw: dict[str, Any]
    lookups: dict[str, Any]
    snapshot: dict[str, dict[str, Any]]  # package id -> package as exported
    sheets: dict[str, SheetRows] = field(default_factory=dict)
    fingerprint: str = ""  # the snapshot's checksum: names this export
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)  # package id -> the exact values its cells
    # stand for, where they are not the snapshot's (an undo workbook's cells put back what a run replaced)


def _custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """The workbook's custom document properties (docProps/custom.xml)."""
    try:
        root = ElementTree.fromstring(zf.read("docProps/custom.xml"))
    except (KeyError, ElementTree.ParseError):
        return {}
    return {prop.get("name", ""): "".join(prop.itertext()) for prop in root}


def _check_file(path: Path) -> None:
    """Refuse what is not an .xlsx file at all, saying what it looks like instead."""
    if not path.is_file():
        raise WorkbookError(f"{path} does not exist" if not path.exists() else f"{path} is not a file")
    if path.stat().st_size == 0:
        raise WorkbookError(f"{path.name} is empty (0 bytes); was it saved completely?")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookError(f"{path.name} is password-protected or an old .xls file: save it as an "
                            "unprotected Excel workbook (.xlsx) and try again")
    if not head.startswith(b"PK"):
        raise WorkbookError(f"{path.name} is not an Excel workbook (.xlsx); was it saved as CSV or another format?")


def _open(path: Path) -> Any:
    """The workbook's cells (python-calamine), or a clear refusal."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise WorkbookError(f"{path.name} cannot be read as an Excel workbook: {exc}") from None


def read_snapshot(book: Any, zf: zipfile.ZipFile) -> tuple[dict, dict, dict, dict[str, dict[str, Any]], str,
                                                           dict[str, dict[str, Any]]]:
    """(provenance, schema, lookups, packages by id, checksum, exact values the cells stand for by id)
    from the hidden snapshot sheet."""
    if SNAPSHOT_SHEET not in book.sheet_names and "Datasets" not in book.sheet_names:
        name = Path(zf.filename or "").name
        raise WorkbookError(f"{name} was not exported by bcdc-bulk (it has no Datasets sheet and no hidden snapshot); "
                            "export the records with 'bcdc-bulk export' and edit that workbook")
    if SNAPSHOT_SHEET not in book.sheet_names:
        raise WorkbookError("the hidden snapshot sheet is missing, so changes cannot be told apart; "
                            "export the records again and redo the edits in the new workbook", sheet=SNAPSHOT_SHEET)
    rows = []
    for number, row in enumerate(book.get_sheet_by_name(SNAPSHOT_SHEET).to_python(skip_empty_area=False), 1):
        if not row or all(v in ("", None) for v in row):
            continue
        try:
            kind, key, chunk, text = (row + ["", "", "", ""])[:4]
            rows.append((str(kind), str(key), int(float(chunk)), "" if text is None else str(text)))
        except (TypeError, ValueError):
            raise WorkbookError("the snapshot was edited; export the records again",
                                sheet=SNAPSHOT_SHEET, row=number) from None
    props = _custom_properties(zf)
    expected = props.get(f"{PROPERTY_PREFIX}checksum")
    if not expected or checksum(rows) != expected:
        raise WorkbookError("the hidden snapshot was changed or damaged, so changes cannot be told apart "
                            "safely; export the records again", sheet=SNAPSHOT_SHEET)
    texts: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for kind, key, chunk, text in rows:
        texts.setdefault((kind, key), []).append((chunk, text))
    values = {k: json.loads("".join(t for _, t in sorted(v))) for k, v in texts.items()}
    provenance = values.get(("meta", "provenance"), {})
    schema = values.get(("schema", "schema"), {})
    lookups = values.get(("lookups", "lookups"), {})
    packages = {key: value for (kind, key), value in values.items() if kind == "package"}
    shown = {key: value for (kind, key), value in values.items() if kind == "shown"}
    return provenance, schema, lookups, packages, expected, shown


_CELL_WITH_FORMULA = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>\s*<f[ >/]')
_FORMULA_TEXT = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>\s*<f[^>]*>([^<]*)</f>')


def sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the package (from workbook.xml and its relationships)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", ns)}
    out = {}
    for sheet in book.findall("m:sheets/m:sheet", ns):
        target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
        out[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return out


def formula_cells(zf: zipfile.ZipFile, part: str) -> dict[int, dict[str, str]]:
    """Cells of one sheet that hold a formula: row -> column letter -> formula text.
    Readers hand back a formula's last result (or nothing), never the formula itself."""
    try:
        xml = zf.read(part)
    except KeyError:
        return {}
    if b"<f" not in xml:
        return {}
    found: dict[int, dict[str, str]] = {}
    texts = {(m.group(1), m.group(2)): m.group(3) for m in _FORMULA_TEXT.finditer(xml)}
    for match in _CELL_WITH_FORMULA.finditer(xml):
        key = (match.group(1), match.group(2))
        formula = unescape(texts.get(key, b"").decode("utf-8", "replace"))
        found.setdefault(int(key[1]), {})[key[0].decode()] = "=" + formula if formula else "(a formula)"
    return found


def _sheet(book: Any, name: str) -> SheetRows:
    sheet = book.get_sheet_by_name(name)
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        cells = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        raise WorkbookError(f"cells {cells} are merged; unmerge them (each value needs its own cell) and check "
                            "their values", sheet=name, row=r0 + 1, column=column_letter(c0))
    data = sheet.to_python(skip_empty_area=False)
    if len(data) < HEADER_ROWS:
        raise WorkbookError("the header rows are missing", sheet=name, row=HEADER_ROWS)
    fields = data[HEADER_ROWS - 1]
    columns: dict[str, int] = {}
    for index, value in enumerate(fields):
        if value in (None, ""):
            continue
        key = str(value).strip()
        if key in columns:
            raise WorkbookError(f"the field name '{key}' appears twice in row {HEADER_ROWS}; each column "
                                "must keep its own field name", sheet=name, row=HEADER_ROWS,
                                column=column_letter(index))
        columns[key] = index
    rows = []
    for offset, raw in enumerate(data[HEADER_ROWS:], HEADER_ROWS + 1):
        if not raw or all(v in (None, "") for v in raw):
            continue
        rows.append((offset, {f: (raw[i] if i < len(raw) else None) for f, i in columns.items()}))
    return SheetRows(name=name, columns=columns, rows=rows)


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _refuse_ods(path: Path, zf: zipfile.ZipFile) -> None:
    """An OpenDocument file keeps no Excel properties, so its snapshot cannot be checked: say how
    to save it back, rather than call the snapshot damaged (which would make people export again)."""
    try:
        is_ods = zf.read("mimetype").strip() == ODS_MIMETYPE
    except KeyError:
        return
    if is_ods:
        raise WorkbookError(f"{path.name} was saved as an OpenDocument spreadsheet (.ods). Your edits are still in "
                            "it: open it in LibreOffice, choose File > Save As, pick the file type 'Excel 2007-365 "
                            "(.xlsx)' and 'Use Excel 2007-365!', then run this again on the .xlsx file")


def _has_entries(snapshot: dict[str, dict[str, Any]], sheet: dict[str, Any]) -> bool:
    """True when the export wrote rows on this group sheet (so its absence would drop them)."""
    group = sheet.get("group")
    for pkg in snapshot.values():
        holders = [pkg] if sheet.get("owner") == "dataset" else (pkg.get("resources") or [])
        if any(h.get(group) not in (None, "", [], "[]") for h in holders):
            return True
    return False


def _missing_sheet(name: str, present: list[str], layout: Layout) -> str:
    known = {s["name"] for s in layout.sheets} | {SNAPSHOT_SHEET, "Lists", "Instructions", "Problems",
                                                  "Summary", "Findings", "Members"}
    others = [s for s in present if s not in known]
    renamed = f" (is '{others[0]}' the renamed '{name}'? give it back its name)" if len(others) == 1 else ""
    return (f"the '{name}' sheet is missing or was renamed{renamed}; bcdc-bulk reads it by its name, and without "
            "it the edits made there would be lost")


def read_workbook(path: Path) -> ReadWorkbook:
    """Read a workbook exported by bcdc-bulk; refuse one whose structure is broken."""
    path = Path(path)
    _check_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"{path.name} cannot be read as an Excel workbook: {exc}") from None
    with zf:  # opened once: its kind, properties, sheet parts, formulas
        _refuse_ods(path, zf)
        return _read(path, _open(path), zf)


def _read(path: Path, book: Any, zf: zipfile.ZipFile) -> ReadWorkbook:
    provenance, schema, lookups, snapshot, fingerprint, shown = read_snapshot(book, zf)
    layout = layout_for(schema_from_dict(schema))
    if int(provenance.get("layout_version", 0)) != layout.version:
        raise WorkbookError(f"this workbook has layout version {provenance.get('layout_version')}, this "
                            f"bcdc-bulk reads version {layout.version}: export the records again")
    result = ReadWorkbook(path=path, provenance=provenance, schema_raw=schema, lookups=lookups, snapshot=snapshot,
                          shown=shown, fingerprint=fingerprint)
    parts = sheet_paths(zf)
    for sheet in layout.sheets:
        name = sheet["name"]
        if name not in book.sheet_names:
            if sheet["kind"] in ("dataset", "resource") or _has_entries(snapshot, sheet):
                raise WorkbookError(_missing_sheet(name, book.sheet_names, layout), sheet=name)
            continue
        rows = _sheet(book, name)
        rows.formulas = formula_cells(zf, parts.get(name, ""))
        required = {"dataset": [DATASET_KEY], "resource": [PARENT_NAME, DATASET_KEY],
                    "group": [PARENT_NAME, POSITION] + ([RESOURCE_ID] if sheet.get("owner") == "resource" else [])}
        for key in required[sheet["kind"]]:
            if key not in rows.columns:
                raise WorkbookError(f"the column with field name '{key}' (row {HEADER_ROWS}) is missing or was "
                                    "renamed; put it back as exported", sheet=name, row=HEADER_ROWS)
        if sheet["kind"] in ("dataset", "resource"):
            seen: dict[str, int] = {}
            for number, values in rows.rows:
                row_id = values.get(DATASET_KEY)
                if row_id in (None, ""):
                    continue
                row_id = str(row_id).strip()
                if row_id in seen:
                    raise WorkbookError(f"id {row_id} is on rows {seen[row_id]} and {number}; each record may appear "
                                        "once", sheet=name, row=number, column=rows.letter(DATASET_KEY))
                seen[row_id] = number
        result.sheets[name] = rows
    return result
