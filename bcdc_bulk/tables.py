"""How records become sheet rows: the layout (from templates/) and cell text.

One record renders the same text every time, so later steps can re-render the
snapshot and compare it with what the user's workbook holds, cell by cell.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bcdc_bulk.converters import DISPLAYED, Converters, Kind, field_kind, stored_displayed
from bcdc_bulk.schema import Field, Schema

MAX_CELL = 32_767  # Excel's limit, counted in UTF-16 code units
TRUNCATION_MARK = " …[CUT: this text is longer than an Excel cell holds; the full text is kept. Edit it in the catalogue.]"
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
REPLACEMENT = "\ufffd"

DATASET_KEY = "id"
PARENT_NAME = "package_name"
RESOURCE_ID = "resource_id"
RESOURCE_NAME = "resource_name"
POSITION = "position"
REMOVE_FIELD = "remove"  # the column where a person marks a row for removal
REMOVE_MARK = "remove"  # what the mark says (its dropdown offers only this)
PROBLEMS_FIELD = "_problems"  # the column validate --annotate adds (reading ignores it)


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the field it holds and how it looks."""

    field: str
    label: str
    width: float = 18
    wrap: bool = False
    read_only: bool = False
    required: bool = False
    help: str = ""
    choices: str | None = None  # key of the choice list on the lookup sheet
    choice_values: tuple[str, ...] = ()  # what the dropdown offers
    stored_values: tuple[str, ...] = ()  # the schema's values of those choices, as the catalogue stores them
    key: bool = False  # identifies the row
    action: bool = False  # says what to do with the row (Remove?), not a field of the record


@dataclass
class SheetSpec:
    """One record sheet of the workbook."""

    name: str
    kind: str  # dataset | resource | group
    columns: list[Column]
    owner: str | None = None  # dataset | resource, for group sheets
    group: str | None = None  # the repeating field, for group sheets
    frozen_columns: int = 1

    def column(self, field_name: str) -> Column | None:
        """The column holding ``field_name``."""
        return next((c for c in self.columns if c.field == field_name), None)


@dataclass(frozen=True)
class Layout:
    """templates/layout.json, parsed."""

    version: int
    read_only: frozenset[str]
    sheets: tuple[dict[str, Any], ...]
    hidden: dict[str, frozenset[str]] = field(default_factory=dict)  # by sheet kind: in the snapshot, no column
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@cache
def load_layout() -> Layout:
    """The workbook layout shipped in templates/."""
    raw = json.loads(resources.files("bcdc_bulk.templates").joinpath("layout.json").read_text(encoding="utf-8"))
    return Layout(version=int(raw["layout_version"]), read_only=frozenset(raw["read_only"]),
                  sheets=tuple(raw["sheets"]),
                  hidden={kind: frozenset(names) for kind, names in raw.get("hidden", {}).items()}, raw=raw)



# --- cell text -----------------------------------------------------------------

def utf16_len(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def display_text(text: str) -> str:
    """What a cell can hold: XML-illegal characters replaced, over-long text cut and marked.

    Deterministic, so a cell left untouched always compares equal to it.
    """
    text = ILLEGAL_XML.sub(REPLACEMENT, text)
    if len(text) * 2 > MAX_CELL and utf16_len(text) > MAX_CELL:  # a code point is at most 2 units
        budget = MAX_CELL - utf16_len(TRUNCATION_MARK)
        cut, used = [], 0
        for ch in text:
            used += 2 if ord(ch) > 0xFFFF else 1
            if used > budget:
                break
            cut.append(ch)
        text = "".join(cut) + TRUNCATION_MARK
    return text


def is_lossy(value: str) -> bool:
    """True when the cell shows less than the stored value (cut or with replaced characters)."""
    return value.endswith(TRUNCATION_MARK) or REPLACEMENT in value


def normalize_cell(value: Any) -> str:
    """What a spreadsheet cell reads back as, reduced to comparable text.

    Excel and LibreOffice turn \\r\\n into \\n, keep '' as empty, and may hand back
    numbers and dates where text was typed.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


def cell_text(value: Any) -> str:
    """Exactly what a person typed into a cell, as text: spaces, tabs and Markdown line breaks
    (two spaces before a newline) kept; only line endings evened out (Excel writes \\r\\n as \\n)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    return normalize_cell(value)


def same_text(exported: str, cell: Any) -> bool:
    """True when a cell still holds exactly what was exported (numbers and dates a spreadsheet
    made of untouched text compared as the text they show)."""
    if cell == exported or (cell is None and exported == ""):
        return True  # the common case, without converting
    return cell_text(exported) == cell_text(cell)


# --- sheets ------------------------------------------------------------------------

def parse_list(value: Any) -> list[dict[str, Any]]:
    """A repeating field's entries, whichever era stored it (list, JSON text, single dict)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, dict):
        return [value] if any(v not in ("", None) for v in value.values()) else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def language_column(name: str, lang: str) -> str:
    """The field name of one language's column of a multilingual field, as ckanext-fluent's forms name it."""
    return f"{name}-{lang}"


def language_field(column: str, field_named: Callable[[str], Field | None]) -> tuple[Field, str] | None:
    """(the multilingual field, the language) a column such as 'title_translated-fr' holds; else None."""
    base, _, lang = column.rpartition("-")
    fld = field_named(base) if base else None
    return (fld, lang) if fld is not None and fld.fluent else None


def _language_help(help_text: str, fld: Field, lang: str) -> str:
    """One language's column help: the field's, and how its keywords are written."""
    said = f"In {lang}." + (" Keywords separated by commas." if fld.fluent == "tags" else "")
    return f"{help_text} {said}".strip()


def _distinct(columns: list[Column]) -> list[Column]:
    """Columns a schema labels alike (two 'Format' fields) told apart by their field names."""
    seen = Counter(c.label for c in columns)
    return [dataclasses.replace(c, label=f"{c.label} ({c.field})") if seen[c.label] > 1 else c for c in columns]


def _by_schema_order(placed: list[str], unplaced: list[str], schema_order: list[str]) -> list[str]:
    """``placed`` with each of ``unplaced`` inserted after its nearest predecessor in the schema's order
    (at the end when none is placed)."""
    out = list(placed)
    position = {name: i for i, name in enumerate(schema_order)}
    for name in unplaced:
        before = [n for n in out if position.get(n, -1) < position.get(name, len(position)) and n in position]
        anchor = max(before, key=lambda n: position[n], default=None)
        out.insert(out.index(anchor) + 1 if anchor is not None and name in position else len(out), name)
    return out


class Renderer:
    """Renders records into rows of text for a given schema, layout and org list."""

    def __init__(self, schema: Schema, layout: Layout, org_names: dict[str, str],
                 licence_titles: dict[str, str] | None = None, org_codes: dict[str, str] | None = None) -> None:
        self.schema = schema
        self.layout = layout
        self.org_names = org_names  # org id -> as a cell shows it (its title; its name in older workbooks)
        self.licence_titles = licence_titles or {}  # licence id -> title
        self.converters = Converters(schema, org_names, self.licence_titles, org_codes)

    def field_text(self, name: str, value: Any, fld: Field | None, group: str | None = None) -> str:
        """Text of one field's value (a top-level field, or a subfield of repeating group ``group``)."""
        return self.converters.of(name, fld, group).text(value)

    def languages(self, fld: Field) -> tuple[str, ...]:
        """The languages of a multilingual field (see Schema.languages)."""
        return self.schema.languages(fld)

    def _put(self, row: dict[str, str], key: str, value: Any, fld: Field | None) -> None:
        """A field's cell text in a row; a multilingual field's in one cell a language ('title-fr')."""
        if fld is not None and fld.fluent:
            by_lang = value if isinstance(value, dict) else ({self.languages(fld)[0]: value} if value else {})
            for lang in self.languages(fld):
                part = by_lang.get(lang)
                row[language_column(key, lang)] = (", ".join(str(t) for t in part) if isinstance(part, list)
                                                   else "" if part is None else str(part))
            return
        row[key] = self.field_text(key, value, fld)

    def dataset_row(self, pkg: dict[str, Any]) -> dict[str, str]:
        """Datasets sheet cells of one package (text before display_text)."""
        row: dict[str, str] = {}
        for key, value in pkg.items():
            fld = self.schema.dataset_field(key)
            if key == "resources" or (fld is not None and fld.is_repeating):
                continue
            self._put(row, key, value, fld)
        return row

    def resource_rows(self, pkg: dict[str, Any]) -> list[dict[str, str]]:
        """Resources sheet cells of one package's resources, in position order."""
        rows = []
        for res in pkg.get("resources") or []:
            row = {PARENT_NAME: pkg.get("name") or ""}
            for key, value in res.items():
                fld = self.schema.resource_field(key)
                if fld is not None and fld.is_repeating:
                    continue
                self._put(row, key, value, fld)
            rows.append(row)
        return rows

    def group_rows(self, pkg: dict[str, Any], spec: SheetSpec) -> list[dict[str, str]]:
        """Rows of one repeating-group sheet for one package."""
        assert spec.group is not None
        rows = []
        owners: list[tuple[dict[str, str], Any]] = []
        if spec.owner == "dataset":
            owners.append(({PARENT_NAME: pkg.get("name") or ""}, pkg.get(spec.group)))
            fld = self.schema.dataset_field(spec.group)
        else:
            fld = self.schema.resource_field(spec.group)
            for res in pkg.get("resources") or []:
                owners.append(({PARENT_NAME: pkg.get("name") or "", RESOURCE_ID: res.get("id") or "",
                                RESOURCE_NAME: res.get("name") or ""}, res.get(spec.group)))
        subfields = {s.name: s for s in fld.subfields} if fld else {}
        for keys, value in owners:
            for position, entry in enumerate(parse_list(value), 1):
                row = dict(keys, **{POSITION: str(position)})
                for key, sub_value in entry.items():
                    sub = subfields.get(key)
                    if sub is not None and sub.fluent:
                        self._put(row, key, sub_value, sub)
                    elif not (spec.group == "contacts" and key == DISPLAYED):
                        row[key] = self.field_text(key, sub_value, sub, spec.group)
                if spec.group == "contacts":
                    row[DISPLAYED] = self.field_text(DISPLAYED, stored_displayed(entry), None, spec.group)
                rows.append(row)
        return rows

    # --- which columns --------------------------------------------------------

    def choice_values(self, fld: Field, group: str | None) -> tuple[str, ...]:
        """What a choice column's dropdown offers, as the cells show it."""
        return self.converters.of(fld.name, fld, group).choices

    def sheet_specs(self, packages: Iterable[dict[str, Any]]) -> list[SheetSpec]:
        """The record sheets, with every field the schema or the data has. Each sheet leads with
        what names the record (frozen) and ends with the ids the tool reads."""
        specs = []
        for sheet in self.layout.sheets:
            kind = sheet["kind"]
            # key columns are structural: present even in a template with no records
            id_col = Column(DATASET_KEY, "ID", 38, read_only=True, key=True,
                            help="Filled in by the catalogue. Leave empty on a new row.")
            if kind == "dataset":
                fields = [f for f in self.schema.dataset_fields if not f.is_repeating]
                seen_keys = _keys(p for p in packages)
                lead, tail = [], [id_col]
            elif kind == "resource":
                fields = [f for f in self.schema.resource_fields if not f.is_repeating]
                seen_keys = _keys(r for p in packages for r in p.get("resources") or [])
                lead = [Column(PARENT_NAME, "Dataset URL name", 30, required=True, key=True,
                               help="The URL name of the dataset this resource belongs to.")]
                tail = [id_col]
            else:
                owner_schema = self.schema.dataset_field if sheet["owner"] == "dataset" else self.schema.resource_field
                group_field = owner_schema(sheet["group"])
                if group_field is None:
                    continue
                # only the schema's subfields: older entries' extra keys (delete, private) stay in the snapshot
                fields, seen_keys = list(group_field.subfields), set()
                lead = [Column(PARENT_NAME, "Dataset URL name", 30, required=True, key=True,
                               help="The URL name of the dataset this entry belongs to.")]
                tail = []
                if sheet["owner"] == "resource":
                    lead.append(Column(RESOURCE_NAME, "Resource name", 30, read_only=True))
                    tail.append(Column(RESOURCE_ID, "Resource ID", 38, key=True,
                                       help="Which resource this entry belongs to: its ID on the Resources sheet. "
                                            "On a new row, copy it from there; on other rows, leave it as it is."))
                lead.append(Column(POSITION, "#", 6, required=True, key=True, help="Order of the entry (1, 2, 3 ...)."))
            tail.insert(0, _remove_column(kind, sheet.get("owner")))
            specs.append(self._spec(sheet, kind, lead, tail, fields, seen_keys))
        return specs

    def _spec(self, sheet: dict[str, Any], kind: str, lead: list[Column], tail: list[Column], fields: list[Field],
              seen: set[str]) -> SheetSpec:
        by_name = {f.name: f for f in fields}
        order: list[str] = [c["field"] for c in sheet.get("columns", [])]
        layout_cols = {c["field"]: c for c in sheet.get("columns", [])}
        taken = {c.field for c in lead + tail} | self.layout.hidden.get(kind, frozenset())
        names = [n for n in order if n not in taken and (n in by_name or n in seen or n == "tags")]
        names += [f.name for f in fields if f.name not in names and f.name not in taken]
        repeating = {f.name for f in self.schema.dataset_fields + self.schema.resource_fields if f.is_repeating}
        extra = sorted(k for k in seen if k not in names and k not in taken and k not in repeating)
        if kind == "dataset":
            extra = [k for k in extra if k != "tags"]
        # fields named in the layout stay where it puts them; a schema field it does not name goes after
        # the field the schema puts before it; fields only the data has go last
        placed = _by_schema_order([n for n in names if n in layout_cols], [n for n in names if n not in layout_cols],
                                  [f.name for f in fields])
        rest = [n for n in extra if n not in layout_cols and n not in placed]
        group = sheet.get("group")
        body = [col for name in placed + rest
                for col in self._columns(name, kind, by_name.get(name), layout_cols.get(name, {}), group)]
        actions = [c for c in tail if c.action]
        # Remove? right after the columns a person edits, not past a run of grey ones
        columns = list(lead) + [c for c in body if not c.read_only] + actions + [c for c in body if c.read_only]
        columns += [c for c in tail if not c.action]
        return SheetSpec(name=sheet["name"], kind=kind, columns=_distinct(columns), owner=sheet.get("owner"),
                         group=sheet.get("group"), frozen_columns=int(sheet.get("frozen_columns", 1)))

    def _columns(self, name: str, kind: str, fld: Field | None, cfg: dict[str, Any], group: str | None) -> list[Column]:
        """A field's column; a multilingual field's, one a language ('Title (fr)')."""
        col = self._column(name, kind, fld, cfg, group)
        if fld is None or not fld.fluent:
            return [col]
        return [dataclasses.replace(col, field=language_column(name, lang), label=f"{col.label} ({lang})",
                                    help=_language_help(col.help, fld, lang)) for lang in self.languages(fld)]

    def _column(self, name: str, kind: str, fld: Field | None, cfg: dict[str, Any], group: str | None) -> Column:
        read_only = (name in self.layout.read_only and kind != "group") or (fld is None and name != "tags")
        label = cfg.get("label") or (fld.display_label if fld else name.replace("_", " ").capitalize())
        values = () if read_only or fld is None else self.choice_values(fld, group)
        help_text = (fld.help_text if fld else "") or cfg.get("help") or kind_help(name, fld, kind, group)
        if fld is not None and fld.choices_helper and not values and not read_only:
            # a list the catalogue makes when its form is shown (scheming's choices_helper): not in the schema
            help_text = (help_text + " The catalogue's form offers a list here that only the catalogue knows: "
                         "type a value from it; it is checked when you apply.").strip()
        if not values and not read_only and field_kind(name, fld, group) == Kind.ORGANIZATION:
            # a template made without a catalogue knows no organization to list
            help_text = (help_text + " This workbook was made without the catalogue, so there is no list here: type "
                         "the organization's name as the catalogue's pages show it.").strip()
        return Column(
            field=name, label=label, width=float(cfg.get("width", 18)), wrap=bool(cfg.get("wrap")),
            read_only=read_only, required=bool(fld and fld.required) or name == "tags",
            help=help_text if not read_only else (fld.help_text if fld else ""),
            choices=(f"{group}.{name}" if group else name) if values else None, choice_values=values,
            stored_values=tuple(c.value for c in fld.choices) if values and fld and not fld.is_multiple_choice else (),
        )


def sheet_fields(schema: Schema, spec: SheetSpec) -> dict[str, Field]:
    """The schema's definitions of the fields a sheet holds (a list sheet: its group's subfields)."""
    if spec.kind == "dataset":
        return {f.name: f for f in schema.dataset_fields}
    if spec.kind == "resource":
        return {f.name: f for f in schema.resource_fields}
    owner = (schema.dataset_field if spec.owner == "dataset" else schema.resource_field)(spec.group or "")
    return {f.name: f for f in owner.subfields} if owner else {}


def kind_help(name: str, fld: Field | None, kind: str, group: str | None) -> str:
    """What to type in a column whose field the schema gives no help for, from what kind of value it
    holds: how dates, keywords, addresses and names are written."""
    preset = fld.preset if fld is not None else None
    if preset == "date" or name.endswith("_date") or (group is not None and name == "date"):
        return "A date, written YYYY-MM-DD, e.g. 2024-03-31."
    if preset == "datetime":
        return "A date and time, written YYYY-MM-DD HH:MM, e.g. 2024-03-31 14:30."
    if name == "tags":
        return ("Keywords separated by commas, e.g. roads, bridges, transport. Each keyword may hold letters, "
                "digits, spaces, - _ and .")
    if "email" in name:
        return "An e-mail address, e.g. name@example.gov.bc.ca."
    if name == "url" or name.endswith("_url") or preset == "resource_url_upload":
        return "A web address, starting with https://"
    if kind == "dataset" and name == "name":
        return ("The last part of the record's web address (.../dataset/url-name): lowercase letters, digits, "
                "- and _, 2 to 100 characters, used by no other record. Changing it changes the address.")
    if kind == "dataset" and name == "title":
        return "The record's title, as the catalogue shows it. No other record may have the same title."
    if name == "notes" or preset == "markdown":
        return ("Text; Markdown works: **bold**, [a link](https://...), a blank line between paragraphs. "
                "Alt+Enter (Option+Return on a Mac) starts a new line in the cell.")
    if name == "name":
        return "The name, as the catalogue shows it."
    return ""


def _remove_column(kind: str, owner: str | None) -> Column:
    """The explicit mark that removes a row's record from the catalogue (a deleted row never does)."""
    what = {"dataset": "this dataset (editors: Drafts only; admins: any state)",
            "resource": "this resource from its dataset"}.get(kind, "this entry from its list")
    return Column(REMOVE_FIELD, "Remove?", 11, choices=REMOVE_FIELD, choice_values=(REMOVE_MARK,), action=True,
                  help=f"Choose '{REMOVE_MARK}' to delete {what} in the catalogue when the workbook is applied. "
                       "Deleting the row itself removes nothing.")


def is_marked(value: Any) -> bool:
    """True when a Remove? cell holds the mark (as picked, or typed in any case)."""
    return isinstance(value, str) and value.strip().casefold() == REMOVE_MARK


def _keys(records: Any) -> set[str]:
    keys: set[str] = set()
    for record in records:
        keys.update(record.keys())
    return keys
