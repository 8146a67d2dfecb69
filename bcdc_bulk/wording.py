"""Wording: a planned change said in the words of the catalogue's own form.

The plan, the report's Changes column and the extension's check page all say what changes as the
editor saw it in the workbook: 'Licence: '2 - Open Government Licence - British Columbia' -> ...',
'Contacts #2 removed (Jordan Example, Custodian)', 'Resource 'Roads': Resource Storage Format ...'.
Field names, ids, stored codes and JSON are for `plan --json`, not for people.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bcdc_bulk.calls import Call
from bcdc_bulk.converters import Converters, same_value
from bcdc_bulk.plan import FieldChange, RecordPlan, quoted
from bcdc_bulk.schema import Field, words

# The subfields that name a list entry best, in order (a contact by name, a link by its URL ...).
_NAMING = ("name", "title", "url", "email", "role", "type")
_CALL_WORDS = {
    "package_revise": "Update", "package_patch": "Update", "package_create": "Create",
    "package_delete": "Remove", "resource_patch": "Update", "resource_create": "Add a resource to",
    "resource_delete": "Remove a resource of",
}


CHANGED, ADDED, REMOVED = "changed", "added", "removed"


@dataclass(frozen=True)
class Part:
    """One piece of a change: what (a field, a list entry, a resource), how, and the values as their
    cells show them (unquoted; a line says them in quotes)."""

    what: str
    how: str  # CHANGED | ADDED | REMOVED
    old: str = ""
    new: str = ""
    note: str = ""

    def __str__(self) -> str:
        if self.how == CHANGED:
            return f"{self.what}: '{self.old}' -> '{self.new}'" + (f" ({self.note})" if self.note else "")
        shown = self.old if self.how == REMOVED else self.new
        return f"{self.what} {self.how}" + (f" ({shown})" if shown else "")


class Wording:
    """Says changes in the form's words, with the schema and the workbook's organizations and
    licences (``converters``); without them, in the stored field names."""

    def __init__(self, converters: Converters | None, site: str = "",
                 labels: dict[tuple[str, str], str] | None = None) -> None:
        self.converters = converters
        self.site = site.rstrip("/")
        self.labels = labels or {}  # (sheet kind or group, field) -> the workbook's column header

    def field(self, name: str, resource: bool = False) -> Field | None:
        """The schema's definition of a dataset (or resource) field."""
        if self.converters is None:
            return None
        schema = self.converters.schema
        return schema.resource_field(name) if resource else schema.dataset_field(name)

    def label(self, name: str, resource: bool = False) -> str:
        """A field as the workbook's column (or else the form) names it ('Security Classification')."""
        header = self.labels.get(("resource" if resource else "dataset", name))
        if header:
            return header
        fld = self.field(name, resource)
        return fld.display_label if fld is not None else name

    def text(self, name: str, value: Any, resource: bool = False, sub: Field | None = None,
             group: str | None = None) -> str:
        """A value as its cell shows it ('' for nothing), line breaks as ↵ and cut at 200 characters."""
        if value in (None, "", []):
            return ""
        if self.converters is not None:
            fld = sub if group is not None else self.field(name, resource)
            value = self.converters.of(name, fld, group).text(value)
        return quoted(value)[1:-1]

    def call_title(self, call: Call, rec: RecordPlan | None) -> str:
        """The heading of a call: what it does and to which record, by title and URL name."""
        verb = _CALL_WORDS.get(call.action, call.action)
        if rec is None:
            return f"{verb} {call.target}"
        title = rec.after.get("title") or rec.after.get("title_translated")
        if isinstance(title, dict):  # a title in several languages: as the form shows it first
            title = words(title)
        what = f"{verb} {quoted(title or rec.name or rec.key)}"
        name = rec.after.get("name") or rec.name
        return f"{what} ({name})" if name else what

    def describe(self, change: FieldChange, rec: RecordPlan | None = None) -> str:
        """One change on one line (several entries of a list joined by '; ')."""
        return "; ".join(self.lines(change, rec))

    def lines(self, change: FieldChange, rec: RecordPlan | None = None) -> list[str]:
        """A change in the form's words: one line, or one per entry of a list that changes."""
        return [str(part) for part in self.parts(change, rec)]

    def parts(self, change: FieldChange, rec: RecordPlan | None = None) -> list[Part]:
        """What a change does, piece by piece: a field's old and new value, or an entry (of a list, or
        a resource) added or removed, named as the workbook shows it."""
        resource = bool(change.resource_id)
        if change.removal:
            if resource:
                return [Part(f"Resource {self._resource_name(change.resource_id, rec, change.old)}", REMOVED)]
            return [Part("The dataset", REMOVED)]
        if change.field == "resources" and not resource:
            return [self._new_resource(change.new)]
        head = self._head(change, rec)
        fld = self.field(change.field, resource)
        if fld is not None and fld.is_repeating and (isinstance(change.new, list) or isinstance(change.old, list)):
            return self._entries(head, change, fld)
        if fld is not None and fld.fluent and isinstance(change.new, dict):
            return _languages(head, change.old, change.new)
        note = ""
        if change.field == "name" and not resource and change.old:
            note = (f"the record's web address changes to {self.site}/dataset/{change.new}; "
                    "links to the old address stop working")
        return [Part(head, CHANGED, self.text(change.field, change.old, resource),
                     self.text(change.field, change.new, resource), note)]

    def _head(self, change: FieldChange, rec: RecordPlan | None) -> str:
        label = self.labels.get(("sheet", change.field)) or self.label(change.field, bool(change.resource_id))
        if change.resource_id:
            return f"Resource {self._resource_name(change.resource_id, rec)}: {label}"
        return label

    def _entries(self, head: str, change: FieldChange, fld: Field) -> list[Part]:
        """What differs entry by entry: an entry added or removed is named; a changed one says its subfield."""
        old = [e for e in (change.old or []) if isinstance(e, dict)]
        new = [e for e in (change.new or []) if isinstance(e, dict)]
        parts = []
        for i in range(max(len(old), len(new))):
            before = old[i] if i < len(old) else {}
            after = new[i] if i < len(new) else {}
            replaced = before and after and not _same_entry(before, after)
            if before and (not after or replaced):
                parts.append(Part(f"{head} #{i + 1}", REMOVED, self._entry_name(before, fld)))
            if after and (not before or replaced):
                parts.append(Part(f"{head} #{i + 1}", ADDED, new=self._entry_name(after, fld)))
            if before and after and not replaced:
                parts.extend(self._sub_change(f"{head} #{i + 1}", fld, key, before.get(key), after.get(key))
                             for key in _keys(fld, before, after) if not same_value(before.get(key), after.get(key)))
        return parts or [Part(head, CHANGED)]

    def _sub_change(self, head: str, fld: Field, key: str, old: Any, new: Any) -> Part:
        sub = next((s for s in fld.subfields if s.name == key), None)
        label = self.labels.get((fld.name, key)) or (sub.display_label if sub is not None else key)
        return Part(f"{head} {label}", CHANGED, self.text(key, old, sub=sub, group=fld.name),
                    self.text(key, new, sub=sub, group=fld.name))

    def _entry_name(self, entry: dict[str, Any], fld: Field) -> str:
        """An entry by its naming subfields, as their cells show them ('Jordan Example, Custodian')."""
        subs = {s.name: s for s in fld.subfields}
        keys = [k for k in _NAMING if entry.get(k) not in (None, "", [])]
        keys += [k for k in subs if k not in keys and entry.get(k) not in (None, "", [])]
        shown = [self.text(k, entry[k], sub=subs.get(k), group=fld.name) for k in keys[:2]]
        return ", ".join(shown) or "empty"

    def _resource_name(self, resource_id: str, rec: RecordPlan | None, old: Any = None) -> str:
        if isinstance(old, dict) and old.get("name"):
            return quoted(old["name"])
        for res in ((rec.before or {}).get("resources") or []) if rec is not None else []:
            if res.get("id") == resource_id:
                return quoted(res.get("name") or resource_id)
        return quoted(resource_id)

    def _new_resource(self, resource: Any) -> Part:
        if not isinstance(resource, dict):
            return Part("A resource", ADDED, new=quoted(resource))
        said = [f"{self.label(k, True)} '{self.text(k, resource[k], True)}'"
                for k in ("url", "format", "resource_type") if resource.get(k) not in (None, "")]
        return Part(f"Resource {quoted(resource.get('name') or '(no name)')}", ADDED, new=", ".join(said))


def _same_entry(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """True when two entries at one position are one entry edited (they share a name, address or
    URL), not one entry taken out and another put in."""
    naming = [k for k in _NAMING[:4] if before.get(k) not in (None, "") or after.get(k) not in (None, "")]
    return not naming or any(same_value(before.get(k), after.get(k)) for k in naming)


def _keys(fld: Field, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Subfield names in the form's order, then any the schema does not name."""
    order = [s.name for s in fld.subfields]
    return [k for k in order if k in before or k in after] + sorted((set(before) | set(after)) - set(order))


def _languages(head: str, old: Any, new: dict[str, Any]) -> list[Part]:
    """A multilingual field's change, a line a language that changed ('Title (fr)'), as its cells show it."""
    before = old if isinstance(old, dict) else {}

    def shown(value: Any) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else quoted(value or "")[1:-1]
    return [Part(f"{head} ({lang})", CHANGED, shown(before.get(lang)), shown(value))
            for lang, value in new.items() if not same_value(before.get(lang), value)]

