"""One converter per kind of field, between a catalogue value and the text of its cell.

The writer renders a value with ``Converter.text``, the reader turns a cell back with
``Converter.value``, the dropdown offers ``Converter.choices``, and the validator asks
``field_kind`` which rule a field follows; all of them agree because they ask here.
``same_value`` is the one meaning of "the same value" (planning, applying, undo).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bcdc_bulk.problems import TextEnum
from bcdc_bulk.schema import Field, Schema

DISPLAYED = "displayed"  # a contact subfield whose cell says 'displayed' or nothing


class Kind(TextEnum):
    """How a field's value is shown in a cell."""

    TEXT = "text"  # as stored
    CHOICE = "choice"  # one of the schema's choices, shown by its form label
    MULTI_CHOICE = "multi-choice"  # several choices, comma separated
    JSON = "json"  # a JSON object, as JSON text
    TAGS = "tags"  # keywords, comma separated names
    ORGANIZATION = "organization"  # an organization id, shown by its name
    LICENCE = "licence"  # a licence id, shown as 'id - title'
    DISPLAYED = "displayed"  # a contact's 'displayed' mark
    NAMES = "names"  # read-only lists of named things (groups, the organization object)


def field_kind(name: str, fld: Field | None, group: str | None = None) -> Kind:
    """The kind of field ``name`` (defined by ``fld``, in repeating group ``group`` or at the top)."""
    if group == "contacts" and name == "org":
        return Kind.ORGANIZATION
    if group == "contacts" and name == DISPLAYED:
        return Kind.DISPLAYED
    if group is None:
        top = {"tags": Kind.TAGS, "owner_org": Kind.ORGANIZATION, "license_id": Kind.LICENCE,
               "organization": Kind.NAMES, "groups": Kind.NAMES}.get(name)
        if top is not None:
            return top
    if fld is not None and fld.is_multiple_choice:
        return Kind.MULTI_CHOICE
    if fld is not None and fld.choices:
        return Kind.CHOICE
    if fld is not None and fld.preset == "json_object":
        return Kind.JSON
    return Kind.TEXT


def value_text(value: Any, fld: Field | None = None) -> str:
    """The canonical text of a stored value (choices by their label when ``fld`` has them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return fld.choice_text.shown(value) if fld is not None and fld.choices else value
    if fld is not None and fld.is_multiple_choice and isinstance(value, list) and all(isinstance(v, str) for v in value):
        shown = fld.choice_text.shown if fld.choices else str
        return ", ".join(shown(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def canonical(value: Any) -> str:
    """Comparable text of a value, so '"a, b"' and ['a', 'b'] tags, or None and '', compare equal."""
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, list) and all(isinstance(v, dict) and set(v) <= {"name", "display_name", "id", "state",
                                                                         "vocabulary_id"} for v in value):
        return json.dumps(sorted(v.get("name", "") for v in value))
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def same_value(a: Any, b: Any) -> bool:
    """True when two catalogue values mean the same (see canonical)."""
    return canonical(a) == canonical(b)


def stored_displayed(entry: dict[str, Any]) -> Any:
    """A contact's 'displayed' value whichever era stored it (older records said private: 'Display')."""
    if entry.get(DISPLAYED) is not None:
        return entry[DISPLAYED]
    return [DISPLAYED] if str(entry.get("private", "")).lower() == "display" else []


def _displayed_text(value: Any) -> str:
    if isinstance(value, list):
        return DISPLAYED if DISPLAYED in value else ""
    return DISPLAYED if value else ""  # composite-era true/false, or any text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _multi_text(fld: Field | None, value: Any) -> str:
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return value_text(value, fld)


def _json_value(text: str) -> Any:
    if not text.strip():
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # validation names it


@dataclass(frozen=True)
class Converter:
    """Value <-> cell text for one field, and what its dropdown offers (as the cells show it)."""

    kind: Kind
    text: Callable[[Any], str]
    value: Callable[[str], Any]
    choices: tuple[str, ...] = ()


class Converters:
    """The converters of one schema with one site's organizations and licences."""

    def __init__(self, schema: Schema, org_names: dict[str, str], licence_titles: dict[str, str],
                 org_codes: dict[str, str] | None = None) -> None:
        self.schema = schema
        self.org_names = org_names  # org id -> as a cell shows it (its title; its URL name in older workbooks)
        self.org_ids = {name: oid for oid, name in org_names.items()}
        # what else a person may type for an organization: its shown text in other capitals, its URL name, its id
        self.org_typed = {name.casefold(): oid for oid, name in org_names.items()}
        self.org_typed.update({code.casefold(): oid for oid, code in (org_codes or {}).items()})
        self.org_typed.update({oid.casefold(): oid for oid in org_names})
        self.licence_titles = licence_titles  # licence id -> title
        self._made: dict[tuple[str, bool, str | None], Converter] = {}

    def of(self, name: str, fld: Field | None, group: str | None = None) -> Converter:
        """The converter of field ``name`` (defined by ``fld``, in repeating group ``group``)."""
        # asked once a cell, made once a column (an organization list is sorted); within one schema a field
        # is named by its name and group
        key = (name, fld is not None, group)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._make(name, fld, group)
        return made

    def _make(self, name: str, fld: Field | None, group: str | None) -> Converter:
        kind = field_kind(name, fld, group)
        if kind is Kind.ORGANIZATION:
            return Converter(kind, self.org_text, self.org_id, tuple(sorted(self.org_names.values())))
        if kind is Kind.LICENCE:
            return Converter(kind, self.licence_text, self.licence_id,
                             tuple(self.licence_text(k) for k in self.licence_titles))
        if kind is Kind.TAGS:
            return Converter(kind, _tags_text, lambda text: [{"name": t} for t in _split(text)])
        if kind is Kind.DISPLAYED:
            return Converter(kind, _displayed_text, lambda text: [DISPLAYED] if text.strip() else [], (DISPLAYED,))
        if kind is Kind.NAMES:
            return Converter(kind, _names_text, str)
        if fld is None:
            return Converter(kind, value_text, str)
        shown = tuple(fld.choice_text.shown(c.value) for c in fld.choices)
        if kind is Kind.MULTI_CHOICE:
            return Converter(kind, lambda v: _multi_text(fld, v),
                             lambda text: [fld.choice_text.stored(v) for v in _split(text)], shown)
        if kind is Kind.CHOICE:
            return Converter(kind, lambda v: value_text(v, fld), fld.choice_text.stored, shown)
        if kind is Kind.JSON:
            return Converter(kind, value_text, _json_value)
        return Converter(kind, value_text, str)

    def org_text(self, value: Any) -> str:
        """An organization shown as the form shows it (by title)."""
        return self.org_names.get(value, value) if isinstance(value, str) else value_text(value)

    def org_id(self, text: str) -> str:
        """An organization as shown (or typed as its URL name, or in other capitals) back to its id; anything
        else is kept for validation to name."""
        found = self.org_ids.get(text)
        return found if found is not None else self.org_typed.get(text.strip().casefold(), text)

    def licence_text(self, value: Any) -> str:
        """A licence shown as 'id - title', so the cell says what it means."""
        if not isinstance(value, str) or not value:
            return value_text(value)
        title = self.licence_titles.get(value)
        return f"{value} - {title}" if title else value

    def licence_id(self, text: str) -> str:
        """A licence as the dropdown shows it ('2 - Open Government Licence - British Columbia'), its
        id ('2') or its title, back to the id. Anything else is kept as typed, for validation to refuse:
        a number with another licence's title (a fill handle counting up) is not a licence."""
        if text in self.licence_titles:
            return text
        head, _, title = text.partition(" - ")
        if self.licence_titles.get(head.strip()) == title.strip():
            return head.strip()
        for lid, known in self.licence_titles.items():
            if known == text:
                return lid
        return text


def _tags_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(t.get("name", "") if isinstance(t, dict) else str(t) for t in value)
    return value_text(value)


def _names_text(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("name", "")
    if isinstance(value, list):
        return ", ".join(g.get("name", "") for g in value if isinstance(g, dict))
    return value_text(value)
