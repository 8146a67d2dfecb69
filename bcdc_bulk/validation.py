"""Validation: every problem of every edited record, before anything is written.

The scheming schema is compiled to a JSON Schema and checked with the jsonschema
package; what JSON Schema cannot say (the publish_state machine by role, unique
names and titles, where the user may write, files to upload) is checked in code
beside it. Each check knows whether the catalogue itself enforces it: those are
errors (the server would refuse the record); stricter checks are warnings.

Facts about the server this follows (ckanext-scheming + BCDC's validators):
- a field's own ``validators`` replace its preset's, so a required field with its
  own validators is only as required as those validators make it;
- ``conditional_required`` looks its condition up at the top level of the package,
  so on resources it never fires: there it is a warning;
- the catalogue checks the whole record on every write, so a legacy value in a field
  the user did not touch still blocks the save (reported as pre-existing).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from bcdc_bulk.calls import is_upload
from bcdc_bulk.catalogue import TEMPLATE_SITE, Caller, organization_labels
from bcdc_bulk.converters import Kind, field_kind, value_text
from bcdc_bulk.local_files import LocalFiles, not_on_a_server
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import Plan, RecordPlan, column_field
from bcdc_bulk.problems import (
    ERROR,
    PRE_EXISTING,
    TITLES_UNSEEN_NOTE,
    WARNING,
    Code,
    Problem,
    ValidationReport,
    say,
    severity_of,
)
from bcdc_bulk.schema import Field, Schema
from bcdc_bulk.suggesting import RETIRED, differs_only_in_form, either, nearest, retired
from bcdc_bulk.tables import REMOVE_FIELD, normalize_cell, parse_list

if TYPE_CHECKING:
    from bcdc_bulk.catalogue import Catalogue

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
TAG_RE = re.compile(r"^[\w \-.]+$", re.UNICODE)
URL_RE = re.compile(r"^(https?|ftp)://[^\s/$.?#][^\s]*$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TITLE_MIN, TITLE_MAX, NAME_MIN, NAME_MAX, TAG_MIN, TAG_MAX = 2, 100, 2, 100, 2, 100


@dataclass
class CatalogueFacts:
    """What validation needs to know about the catalogue beyond the schema."""

    licence_ids: set[str] = field(default_factory=set)
    licence_titles: dict[str, str] = field(default_factory=dict)  # id -> title, to suggest the nearest
    org_ids: set[str] = field(default_factory=set)
    org_names: dict[str, str] = field(default_factory=dict)  # id -> name
    caller: Caller = field(default_factory=Caller)
    names_taken: set[str] = field(default_factory=set)  # package names used on the server
    titles_taken: dict[str, str] = field(default_factory=dict)  # title -> id of the package using it
    titles_checked: bool = False  # titles were looked up in the catalogue (-r)

    def contact_orgs(self) -> set[str]:
        """What the catalogue offers for a contact's organization (its edc_orgs_form helper): the
        organizations where the user may create datasets; all of them when the role is unknown."""
        if not self.caller.known or self.caller.sysadmin:
            return set(self.org_ids)
        return {o for o in self.org_ids if self.caller.role_in(o) in ("editor", "admin")}


DROPDOWN_CODES = frozenset({Code.CHOICE, Code.LICENCE})  # a value typed into a column with a dropdown


@dataclass(frozen=True)
class Issue:
    """A problem at a JSON path of a record (before it is placed in a cell)."""

    path: tuple
    code: str
    message: str
    severity: str = ""  # the registry's, unless it leaves it to the schema (then always given)
    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", severity_of(self.code, self.severity))


# --- dates as the catalogue reads them ------------------------------------------------------

def ckan_reads_date(text: str) -> bool:
    """True when CKAN's isodate validator accepts the text (ISO, or any Y M D digits in order)."""
    try:
        dt.datetime.fromisoformat(text)
        return True
    except ValueError:
        pass
    parts = re.split(r"[^\d]+", text, maxsplit=5)
    try:
        if len(parts) >= 6:
            match = re.match(r"(\d{2})(\.(\d+))?$", parts[5])
            if not match:
                return False
            parts = parts[:5] + [match.group(1), ((match.group(3) or "0") + "00000")[:6]]
        dt.datetime(*[int(p) for p in parts])  # type: ignore[misc]
        return True
    except (TypeError, ValueError):
        return False


def iso_date(text: str) -> bool:
    """True for YYYY-MM-DD (optionally with a time), the form the catalogue shows.
    Text the catalogue cannot read at all passes here: ckan-date reports it, once."""
    if not ckan_reads_date(text):
        return True
    try:
        dt.datetime.fromisoformat(text)
        return bool(re.match(r"^\d{4}-\d{2}-\d{2}", text))
    except ValueError:
        return False


FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("ckan-date")(ckan_reads_date)
FORMATS.checks("iso-date")(iso_date)
FORMATS.checks("bcdc-email")(lambda v: not isinstance(v, str) or bool(EMAIL_RE.match(v.strip())))
FORMATS.checks("http-url")(lambda v: not isinstance(v, str) or bool(URL_RE.match(v.strip())))


# --- compiling the scheming schema -----------------------------------------------------------

def _effective(fld: Field) -> tuple[str, ...]:
    """The validators the server runs on a field (its own, else the preset's; else by `required`)."""
    if fld.validators:
        return tuple(v.split("(")[0] for v in fld.validators)
    return ("not_empty",) if fld.required else ("ignore_missing",)


# validators bcdc-bulk checks before anything is sent, and those that never refuse a value (they convert,
# default or pass through); any other a schema names is the catalogue's own, checked when you apply
CHECKED_VALIDATORS = frozenset({
    "not_empty", "scheming_required", "scheming_choices", "scheming_multiple_choice", "scheming_valid_json_object",
    "isodate", "name_validator", "package_name_validator", "title_validator", "owner_org_validator",
    "conditional_required", "iso_topic_category", "valid_next_state", "fluent_text", "fluent_tags",
    "ignore_missing", "ignore_empty", "ignore", "unicode_safe", "default", "strip_value", "remove_whitespace",
    "keep_extras", "if_empty_same_as", "tag_string_convert", "single_value_subfield", "convert_to_json_if_date",
    "convert_to_extras", "convert_from_extras", "scheming_multiple_choice_output", "ignore_not_sysadmin",
})


def checked_by_the_catalogue(schema: Schema) -> list[str]:
    """The labels of fields with rules (validators) only the catalogue checks, when you apply."""
    out = []
    for fld in list(schema.dataset_fields) + list(schema.resource_fields):
        for each in (fld, *fld.subfields):
            names = {v.split("(")[0] for v in each.validators}
            if names - CHECKED_VALIDATORS and each.display_label not in out:
                out.append(each.display_label)
    return out


def _required_severity(fld: Field) -> str | None:
    validators = _effective(fld)
    if "not_empty" in validators or ("scheming_required" in validators and fld.required):
        return ERROR
    return WARNING if fld.required else None


def _choice_severity(fld: Field) -> str:
    enforced = {"scheming_choices", "scheming_multiple_choice", "iso_topic_category"}
    return ERROR if enforced & set(_effective(fld)) else WARNING


def _is_url(name: str) -> bool:
    return name in ("url", "support_url", "preview_map_service_url", "preview_image_url", "link_to_imap")


def _name_rules(fld: Field, validators: set[str] | frozenset[str] | tuple, out: dict[str, Any],
                sev: dict[str, str]) -> None:
    """CKAN's length and form rules of a title and a URL name, where the schema's validators ask for them."""
    if fld.name == "title" and "title_validator" in validators:
        out.update(minLength=TITLE_MIN, maxLength=TITLE_MAX, type="string")
        sev.update(minLength=ERROR, maxLength=ERROR)
    if fld.name == "name" and "name_validator" in validators:
        out.update(minLength=NAME_MIN, maxLength=NAME_MAX, pattern=NAME_RE.pattern, type="string")
        sev.update(minLength=ERROR, maxLength=ERROR, pattern=ERROR, type=ERROR)


class Compiler:
    """Builds the JSON Schema of a package from the scheming schema and the lookups."""

    def __init__(self, schema: Schema, lookups: CatalogueFacts, headers: dict[str, str] | None = None) -> None:
        self.schema = schema
        self.lookups = lookups
        self.headers = headers or {}  # a dataset field's header where the workbook names it otherwise ('URL name')

    def field_schema(self, fld: Field, level: str) -> dict[str, Any]:
        """The JSON Schema of one field's (non-empty) value; x-* keys carry label, code and severity."""
        label = (self.headers.get(fld.name) if level == "dataset" else None) or fld.display_label
        out: dict[str, Any] = {"x-label": label, "x-field": fld.name}
        sev: dict[str, str] = {}
        validators = _effective(fld)
        kind = field_kind(fld.name, fld, level.partition(".")[2] or None)
        if fld.fluent:
            return dict(out, **self.languages_schema(fld, label))
        if fld.subfields:
            out["type"] = "array"
            out["items"] = self.object_schema(fld.subfields, level=f"{level}.{fld.name}")
            if fld.is_single_entry:
                out["maxItems"] = 1
                # the server's single_value_subfield finds no list at a resource's flattened key
                sev["maxItems"] = ERROR if level == "dataset" else WARNING
        elif kind is Kind.ORGANIZATION and (self.lookups.org_ids or level != "dataset"):
            if self.lookups.org_ids:
                owner = level == "dataset"  # the publisher; else a contact's organization
                out["enum"] = sorted(self.lookups.org_ids if owner else self.lookups.contact_orgs())
                sev["enum"] = ERROR if owner else _choice_severity(fld)
            out["x-code"] = Code.ORGANIZATION
        elif kind is Kind.LICENCE and self.lookups.licence_ids:
            out["enum"] = sorted(self.lookups.licence_ids)
            sev["enum"] = WARNING  # the server takes any licence id; the form offers only these
            out["x-code"] = Code.LICENCE
        elif kind is Kind.MULTI_CHOICE and fld.choices:
            out["x-choices"] = fld
            out["type"] = "array"
            out["items"] = {"enum": [c.value for c in fld.choices] + [""]}
            sev["enum"] = _choice_severity(fld)
            sev["type"] = ERROR
        elif kind is Kind.CHOICE:
            out["x-choices"] = fld
            out["enum"] = [c.value for c in fld.choices]
            sev["enum"] = _choice_severity(fld)
        elif fld.preset == "date":
            out["type"] = "string"
            out["allOf"] = [{"format": "ckan-date", "x-sev": ERROR if "isodate" in validators else WARNING,
                             "x-code": Code.DATE},
                            {"format": "iso-date", "x-sev": WARNING, "x-code": Code.DATE_FORMAT}]
        elif fld.preset == "json_object":
            out["type"] = "object"
            sev["type"] = ERROR if "scheming_valid_json_object" in validators else WARNING
            out["x-code"] = Code.JSON
        elif fld.name == "email":
            out["format"] = "bcdc-email"
            sev["format"] = WARNING
            out["x-code"] = Code.EMAIL
        elif _is_url(fld.name):
            out["format"] = "http-url"
            sev["format"] = WARNING
            out["x-code"] = Code.URL
        _name_rules(fld, validators, out, sev)
        out["x-sev"] = sev
        return out

    def languages_schema(self, fld: Field, label: str) -> dict[str, Any]:
        """A multilingual field: text (or keywords) a language; a required one in every form language,
        as ckanext-fluent requires it."""
        langs = list(self.schema.languages(fld))
        item: dict[str, Any] = {"type": "array", "items": {"type": "string"}} if fld.fluent == "tags" else \
            {"type": "string"}
        props = {lang: dict(item, **{"x-label": f"{label} ({lang})", "x-field": fld.name, "x-sev": {}})
                 for lang in langs}
        if fld.required:
            for lang in langs:
                props[lang].update({"minItems": 1} if fld.fluent == "tags" else {"minLength": 1})
        out: dict[str, Any] = {"type": "object", "properties": props, "x-sev": {"type": ERROR}}
        if fld.required:
            out.update(required=langs, **{"x-required": {lang: ERROR for lang in langs}})
        return out

    def object_schema(self, fields: tuple[Field, ...], level: str) -> dict[str, Any]:
        """A JSON Schema object for a dataset, a resource or a repeating entry."""
        props = {f.name: self.field_schema(f, level) for f in fields if f.name != "tag_string"}
        required = {f.name: sev for f in fields if f.name != "tag_string"
                    and (sev := _required_severity(f)) is not None}
        out: dict[str, Any] = {"type": "object", "properties": props, "required": sorted(required),
                               "x-required": required, "x-level": level}
        conditions = []
        for f in fields:
            if f.conditional_field and f.conditional_values and "conditional_required" in _effective(f):
                # the server looks the condition up at the package's top level only
                conditions.append({
                    "if": {"properties": {f.conditional_field: {"enum": list(f.conditional_values)}},
                           "required": [f.conditional_field]},
                    "then": {"required": [f.name], "x-required": {f.name: ERROR if level == "dataset" else WARNING},
                             "x-code": Code.CONDITIONAL_REQUIRED, "x-condition": f.conditional_field},
                })
        if conditions:
            out["allOf"] = conditions
        return out

    def package_schema(self) -> dict[str, Any]:
        """The JSON Schema of a whole package, resources and tags included."""
        out = self.object_schema(self.schema.dataset_fields, "dataset")
        out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        tag_field = self.schema.dataset_field("tag_string")
        tag_sev = _required_severity(tag_field) if tag_field else None
        out["properties"]["tags"] = {
            "type": "array", "x-label": "Keywords", "x-field": "tags",
            "items": {"type": "object", "properties": {"name": {
                "type": "string", "minLength": TAG_MIN, "maxLength": TAG_MAX, "pattern": TAG_RE.pattern,
                "x-label": "Keywords", "x-code": Code.TAG,
                "x-sev": {"minLength": ERROR, "maxLength": ERROR, "pattern": ERROR}}}},
            "x-sev": {},
        }
        if tag_sev:
            out["required"] = sorted(set(out["required"]) | {"tags"})
            out["x-required"]["tags"] = tag_sev
            out["properties"]["tags"]["minItems"] = 1
            out["properties"]["tags"]["x-sev"]["minItems"] = tag_sev
        contacts = out["properties"].get("contacts")
        if contacts is not None:
            contacts["minItems"] = 1
            contacts["contains"] = {"properties": {"displayed": {"contains": {"const": "displayed"}}},
                                    "required": ["displayed"]}
            contacts["x-sev"].update(minItems=WARNING, contains=WARNING)
            out["required"] = sorted(set(out["required"]) | {"contacts"})
            out["x-required"]["contacts"] = WARNING
        out["properties"]["resources"] = {"type": "array", "x-sev": {},
                                          "items": self.object_schema(self.schema.resource_fields, "resource")}
        return out


def _prune(value: Any, keep: frozenset[str] = frozenset()) -> Any:
    """Empty values removed, as the server's not_empty sees them ('' and None are missing; a value of
    spaces is a value, which the server takes).
    Fields in ``keep`` stay: their validator checks an empty value too (title_validator)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if k in keep or v not in ("", None)}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


class RecordChecker:
    """Checks one package (as it would be saved) against the compiled schema."""

    def __init__(self, schema: Schema, lookups: CatalogueFacts, headers: dict[str, str] | None = None) -> None:
        self.schema = schema
        self.lookups = lookups
        self.json_schema = Compiler(schema, lookups, headers).package_schema()
        self._validator = jsonschema.Draft202012Validator(self.json_schema, format_checker=FORMATS)
        self._keep_empty = frozenset(f.name for f in schema.dataset_fields if "title_validator" in f.validators)

    def check(self, pkg: dict[str, Any]) -> list[Issue]:
        """Every problem of the package, each at its JSON path."""
        data = _prune(_decode(pkg, self.schema), self._keep_empty)
        issues: list[Issue] = []
        for error in self._validator.iter_errors(data):
            issues.extend(self._issues(error, data))
        seen = set()
        unique = []
        for issue in issues:
            key = (issue.path, issue.code)
            if key not in seen:
                seen.add(key)
                unique.append(issue)
        return unique

    def _issues(self, error: jsonschema.ValidationError, data: dict[str, Any]) -> Iterator[Issue]:
        if error.validator in ("allOf", "anyOf") and error.context:
            for sub in error.context:
                yield from self._issues(sub, data)
            return
        path = tuple(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "required":
            required = schema.get("x-required", {})
            instance = error.instance if isinstance(error.instance, dict) else {}
            for name in error.validator_value:
                if name in instance:
                    continue
                condition = schema.get("x-condition")
                code = Code.CONTACTS if name == "contacts" and not path else schema.get("x-code", Code.REQUIRED)
                yield Issue(path + (name,), code, self._required_message(path, name, condition, data),
                            required.get(name, ERROR))
            return
        if error.validator == "format":
            sev = schema.get("x-sev", {})
            severity = sev if isinstance(sev, str) else sev.get("format", WARNING)
            code = schema.get("x-code", Code.FORMAT)
            yield Issue(path, code, self._format_message(code, error.instance), severity, error.instance)
            return
        if error.validator == "if":
            return
        parent = self._field_schema(path)
        sev = parent.get("x-sev", {}) if isinstance(parent.get("x-sev"), dict) else {}
        severity = sev.get(error.validator, ERROR)
        label = parent.get("x-label") or (str(path[-1]) if path else "record")
        code, message = self._message(error, parent, label, path)
        yield Issue(path, code, message, severity, error.instance)

    def _field_schema(self, path: tuple) -> dict[str, Any]:
        """The compiled schema of the field at ``path`` (list indexes skipped)."""
        node: dict[str, Any] = self.json_schema
        found: dict[str, Any] = {}
        for part in path:
            if isinstance(part, int):
                node = node.get("items", {})
                continue
            node = node.get("properties", {}).get(part, {})
            if node.get("x-label"):
                found = node
        return found or node

    def _label(self, path: tuple, name: str) -> str:
        node = self._field_schema(path + (name,))
        return node.get("x-label") or name

    def _required_message(self, path: tuple, name: str, condition: str | None, data: dict[str, Any]) -> str:
        label = self._label(path, name)
        if name == "tags":
            return say(Code.REQUIRED, "keywords")
        if name == "contacts" and not path:
            return say(Code.CONTACTS, "sheet")
        if condition:
            container: Any = data
            for part in path:
                container = container[part] if isinstance(container, (dict, list)) else {}
            cond_value = container.get(condition) if isinstance(container, dict) else None
            return say(Code.CONDITIONAL_REQUIRED, "resource" if path else "", label=label,
                       condition=self._label(path, condition), value=cond_value)
        return say(Code.REQUIRED, label=label)

    def _nearest_licences(self, text: str) -> list[str]:
        """The licences (as the dropdown shows them) nearest to ``text``: by title first, since a fill
        handle counts the number up and keeps the title; then by spelling and words."""
        shown = {title: f"{lid} - {title}" for lid, title in self.lookups.licence_titles.items()}
        title = text.partition(" - ")[2] or text
        for known, entry in shown.items():
            if known.casefold() == title.strip().casefold():
                return [entry]
        return [shown[t] for t in nearest(title, list(shown))]

    @staticmethod
    def _format_message(code: str, value: Any) -> str:
        shown = normalize_cell(value)
        worded = (Code.DATE, Code.DATE_FORMAT, Code.EMAIL, Code.URL)
        return say(Code(code), shown=shown) if code in worded else say(Code.FORMAT, shown=shown)

    def _message(self, error: jsonschema.ValidationError, parent: dict[str, Any], label: str,
                 path: tuple) -> tuple[str, str]:
        value = error.instance
        shown = normalize_cell(value) if not isinstance(value, (list, dict)) else value_text(value)
        kind = error.validator
        code = parent.get("x-code")
        if kind == "enum":
            return self._not_listed(error, parent, label, value, shown)
        if kind == "maxItems" and parent.get("type") == "array":
            return Code.SINGLE_ENTRY, say(Code.SINGLE_ENTRY, label=label, count=len(value))
        if kind == "minItems" and path and path[-1] == "tags":
            return Code.REQUIRED, say(Code.REQUIRED, "keywords")
        if kind == "minItems" and path and path[-1] == "contacts":
            return Code.CONTACTS, say(Code.CONTACTS)
        if kind == "contains":
            return Code.CONTACT_DISPLAYED, say(Code.CONTACT_DISPLAYED)
        if kind in ("minLength", "maxLength"):
            limit = error.validator_value
            if code == Code.TAG:
                return Code.TAG, (say(Code.TAG, "short", shown=shown, limit=limit) if kind == "minLength"
                                  else say(Code.TAG, "long", start=shown[:40], limit=limit))
            size = len(value) if isinstance(value, str) else 0
            if kind == "minLength" and isinstance(value, str) and not value.strip():
                return Code.REQUIRED, say(Code.REQUIRED, label=label)
            if kind == "maxLength":
                return Code.TOO_LONG, say(Code.TOO_LONG, label=label, limit=limit, size=size)
            return Code.TOO_SHORT, say(Code.TOO_SHORT, label=label, limit=limit)
        if kind == "pattern":
            if code == Code.TAG:
                return Code.TAG, say(Code.TAG, shown=shown)
            return Code.NAME, name_message(label, shown)
        if kind == "type":
            if code == Code.JSON:
                return Code.JSON, say(Code.JSON, label=label, shown=shown[:60])
            expected = str(error.validator_value)
            return Code.TYPE, say(Code.TYPE, expected if expected in ("array", "object", "string") else "",
                                  label=label, shown=shown[:60], expected=expected)
        return kind, say(Code.TYPE, "schema", label=label, said=error.message)

    def _not_listed(self, error: jsonschema.ValidationError, parent: dict[str, Any], label: str, value: Any,
                    shown: str) -> tuple[str, str]:
        """A value that is not one of a list's entries: an organization, a licence or a choice."""
        code = parent.get("x-code")
        if code == Code.ORGANIZATION and value in self.lookups.org_ids:
            return Code.ORGANIZATION, say(Code.ORGANIZATION, "elsewhere", label=label, org=self._org_shown(value))
        if code == Code.ORGANIZATION:
            near = nearest(shown, list(self.lookups.org_names.values()))
            return Code.ORGANIZATION, say(Code.ORGANIZATION, "near" if near else "", label=label,
                                          org=self._org_shown(value), near=either(near) if near else "")
        if code == Code.LICENCE:
            near = self._nearest_licences(shown)
            return Code.LICENCE, say(Code.LICENCE, "near" if near else "", label=label, shown=shown,
                                     near=either(near) if near else "")
        fld = parent.get("x-choices")
        if isinstance(fld, Field):
            return Code.CHOICE, choice_message(label, shown, fld)
        allowed = ", ".join(str(v) for v in error.validator_value if v)
        return Code.CHOICE, say(Code.CHOICE, "listed", label=label, shown=shown, allowed=allowed)

    def _org_shown(self, value: Any) -> str:
        return self.lookups.org_names.get(value, value) if isinstance(value, str) else str(value)


NAME_PATTERN = re.compile(r"^[a-z0-9_-]+$")


def name_message(label: str, shown: str) -> str:
    """Why a URL name is refused; a capital only at the start is most often the spreadsheet's doing."""
    lower = shown[:1].lower() + shown[1:]
    capital = shown[:1].isupper() and NAME_PATTERN.match(lower)
    return say(Code.NAME, "autocorrect" if capital else "", label=label, shown=shown, lower=lower)


LISTED = 8  # a choice list this long or shorter is named in full in a message


def choice_message(label: str, shown: str, fld: Field) -> str:
    """Why a value is not one of a field's choices, and what to choose instead, in a sentence that
    fits a cell's comment: a list named in full only when short, the nearest few otherwise."""
    labels = [fld.choice_text.shown(c.value) for c in fld.choices]
    short = len(labels) <= LISTED
    said = {"label": label, "shown": shown, "labels": ", ".join(labels), "count": len(labels)}
    same = differs_only_in_form(shown, fld)
    if same is not None and fld.choice_text.shown(same) == shown:
        # stored as the form's label, not its value: the cell looks right, so say what to type (a state
        # the catalogue cannot move on from goes to its administrators)
        return say(Code.CHOICE, "state-stored-as-label" if fld.moves else "stored-as-label", same=same, **said)
    if same is not None:
        as_shown = fld.choice_text.shown(same)
        return say(Code.CHOICE, "form" if as_shown == same else "form-shown", same=same, as_shown=as_shown, **said)
    if retired(shown, fld):
        successor = RETIRED[fld.name][shown]
        variant = "retired-successor" if successor else "retired-listed" if short else "retired"
        return say(Code.CHOICE, variant, successor=fld.choice_text.shown(successor) if successor else "", **said)
    by_text = {t.casefold(): lab for c, lab in zip(fld.choices, labels, strict=True) for t in (c.value, lab)}
    near = list(dict.fromkeys(by_text[t.casefold()] for t in nearest(shown, list(by_text))))
    if near:
        return say(Code.CHOICE, "near", near=either(near), **said)
    return say(Code.CHOICE, "all" if short else "many", **said)


def _decode(pkg: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """The package with repeating fields of older eras (JSON text, a single object) read as
    lists of entries, the shape the server works with."""
    out = dict(pkg)
    for fld in schema.dataset_fields:
        if fld.is_repeating and isinstance(out.get(fld.name), (str, dict)):
            out[fld.name] = parse_list(out[fld.name])
    resources = []
    for res in out.get("resources") or []:
        res = dict(res)
        for fld in schema.resource_fields:
            value = res.get(fld.name)
            if fld.is_repeating and isinstance(value, (str, dict)):
                res[fld.name] = parse_list(value)
            elif fld.is_multiple_choice and isinstance(value, str) and value.strip().startswith("["):
                try:
                    res[fld.name] = json.loads(value)
                except ValueError:
                    pass
        resources.append(res)
    out["resources"] = resources
    return out


# --- the checks JSON Schema cannot say ---------------------------------------------------------

def _state_machine(schema: Schema) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """(start state, moves from each state); a record with no state yet moves as a new one does."""
    raw = next((f for f in schema.raw.get("dataset_fields", []) if f.get("field_name") == "publish_state"), {})
    start = raw.get("startState", {"state": "DRAFT", "by": ["editor", "admin", "sysadmin"]})
    moves = {c["value"]: c.get("validTo", []) for c in raw.get("choices", [])}
    return start["state"], moves | {"": [start]}


def check_state(rec: RecordPlan, schema: Schema, caller: Caller) -> list[Issue]:
    """The publish_state move is one the state machine allows, for the user's role."""
    if not rec.touches("publish_state"):
        return []
    start, moves = _state_machine(schema)
    new = rec.after.get("publish_state")
    if new in (None, "") or (moves and new not in moves):
        return []  # empty or not a state at all: the required and choice checks say so
    old = rec.before.get("publish_state") if rec.before else None
    org = rec.after.get("owner_org")
    if rec.action == "create":
        if new != start:
            return [Issue(("publish_state",), Code.STATE_TRANSITION,
                          say(Code.STATE_TRANSITION, "new", start=start, new=new), value=new)]
        return []
    if old not in moves and old not in (None, ""):
        states = ", ".join(k for k in moves if k)
        return [Issue(("publish_state",), Code.STATE_STORED, say(Code.STATE_STORED, old=old, states=states),
                      value=new)]
    options = moves.get(old or "", [])
    allowed = next((o.get("by", []) for o in options if o.get("state") == new), None)
    if allowed is None:
        valid = ", ".join(o["state"] for o in options) or "none"
        return [Issue(("publish_state",), Code.STATE_TRANSITION,
                      say(Code.STATE_TRANSITION, old=old, new=new, valid=valid), value=new)]
    role = caller.role_in(org)
    # as the server decides: an admin also holds the editor's rights, a sysadmin everyone's
    ok = (("sysadmin" in allowed and role == "sysadmin") or ("admin" in allowed and role in ("admin", "sysadmin"))
          or ("editor" in allowed and role in ("editor", "admin", "sysadmin")))
    if caller.known and not ok:
        return [Issue(("publish_state",), Code.STATE_PERMISSION,
                      say(Code.STATE_PERMISSION, "role" if role else "no-role", old=old, new=new,
                          who=functools.reduce(lambda a, b: say(Code.STATE_PERMISSION, "or", first=a, second=b),
                                               allowed), role=role), ERROR, new)]
    if not caller.known and "editor" not in allowed:
        return [Issue(("publish_state",), Code.STATE_PERMISSION, say(Code.STATE_PERMISSION, "unknown", old=old, new=new),
                      WARNING, new)]
    return []


def check_permission(rec: RecordPlan, caller: Caller, org_names: dict[str, str]) -> list[Issue]:
    """The user may edit records of the record's organization (one that exists: else the
    organization check says so)."""
    if not caller.known or caller.sysadmin:
        return []
    org = rec.after.get("owner_org") if rec.touches("owner_org") else (rec.before or {}).get("owner_org")
    if org and org in org_names and caller.role_in(org) not in ("editor", "admin"):
        name = org_names.get(org, org)
        return [Issue(("owner_org",), Code.PERMISSION, say(Code.PERMISSION, user=caller.user, name=name), value=name)]
    return []


def check_delete(rec: RecordPlan, caller: Caller) -> list[Issue]:
    """The catalogue's rule: editors delete Drafts only; admins (and sysadmins) any record."""
    before = rec.before or {}
    role = caller.role_in(before.get("owner_org"))
    state = before.get("publish_state")
    if role in ("admin", "sysadmin") or (role == "editor" and state == "DRAFT"):
        return []
    if not caller.known:
        return [Issue((REMOVE_FIELD,), Code.DELETE_PERMISSION, say(Code.DELETE_PERMISSION, "unknown"), WARNING,
                      "remove")]
    return [Issue((REMOVE_FIELD,), Code.DELETE_PERMISSION,
                  say(Code.DELETE_PERMISSION, "editor" if role == "editor" else "", user=caller.user,
                      state=state or say(Code.DELETE_PERMISSION, "no-state")), ERROR, "remove")]


def _removed_paths(rec: RecordPlan) -> set[tuple]:
    """('resources', i) of each resource marked for removal: their stored values are not checked."""
    ids = {c.resource_id for c in rec.removed_resources()}
    return {("resources", i) for i, r in enumerate(rec.after.get("resources") or []) if r.get("id") in ids}


# Fields a person types on one line: a space or line break pasted at either end is almost always a slip.
ONE_LINE = frozenset({"title", "name", "url", "email", "author", "author_email", "maintainer", "maintainer_email",
                      "version", "object_name"})


def check_edges(rec: RecordPlan) -> list[Issue]:
    """A warning for each one-line value the edit gives spaces or a line break at its start or end: they
    would be sent as typed, and they are invisible in the cell."""
    issues = []
    for change in rec.changes:
        if change.removal:
            continue
        path = _change_path(rec, change)
        for sub_path, value in _typed_values(path, change.new, change.old):
            if sub_path[-1] in ONE_LINE and isinstance(value, str) and value.strip() and value != value.strip():
                issues.append(Issue(sub_path, Code.EDGE_SPACE,
                                    say(Code.EDGE_SPACE, start=value.strip()[:60], ends=_edge_words(value)), value=value))
    return issues


def _typed_values(path: tuple, new: Any, old: Any) -> list[tuple[tuple, Any]]:
    """(path, value) of a change's new text values: the value itself, or each changed entry's subfields."""
    if isinstance(new, list):
        olds = old if isinstance(old, list) else []
        return [(path + (i, key), value) for i, entry in enumerate(new) if isinstance(entry, dict)
                for key, value in entry.items()
                if not (i < len(olds) and isinstance(olds[i], dict) and olds[i].get(key) == value)]
    if isinstance(new, dict):
        return [(path + (key,), value) for key, value in new.items()]
    return [(path, new)]


def _edge_words(value: str) -> str:
    """What is at a value's edges, in the registry's words: 'spaces at its start and a line break at its end'."""
    ends = []
    if value[:1].isspace():
        ends.append(say(Code.EDGE_SPACE, "break-at-start" if value[:1] in "\r\n" else "spaces-at-start"))
    if value[-1:].isspace():
        ends.append(say(Code.EDGE_SPACE, "break-at-end" if value[-1:] in "\r\n" else "spaces-at-end"))
    return say(Code.EDGE_SPACE, "both", first=ends[0], second=ends[1]) if len(ends) == 2 else ends[0]


def check_uploads(rec: RecordPlan, files: LocalFiles) -> list[Issue]:
    """Where local files may be uploaded, a new resource whose URL is a local path names a file that
    exists; where they may not (a server), every new or changed resource URL is a web address, and no
    file is looked at."""
    if not files.allowed:
        return _web_addresses_only(rec)
    issues = []
    for index in rec.new_resources:
        resource = rec.after["resources"][index]
        if is_upload(resource):
            url = str(resource["url"])
            path = files.path(url)
            if not path.is_file():
                issues.append(Issue(("resources", index, "url"), Code.UPLOAD_MISSING,
                                    say(Code.UPLOAD_MISSING, url=url, folder=path.parent), value=url))
    return issues


def _web_addresses_only(rec: RecordPlan) -> list[Issue]:
    changed = {c.resource_id for c in rec.changes if c.resource_id and c.field == "url" and not c.removal}
    issues = []
    for index, resource in enumerate(rec.after.get("resources") or []):
        if index in rec.new_resources or resource.get("id") in changed:
            why = not_on_a_server(resource.get("url"))
            if why:
                issues.append(Issue(("resources", index, "url"), Code.URL_NOT_WEB, why, value=resource.get("url")))
    return issues


def check_unique(plan: Plan, snapshot: dict[str, dict[str, Any]], lookups: CatalogueFacts) -> dict[str, list[Issue]]:
    """Names and titles unique across the workbook (``duplicate-*``) and the catalogue
    (``*-in-use``), by record key."""
    out: dict[str, list[Issue]] = {}
    final = dict(snapshot)
    for rec in plan.records:
        final[rec.key] = rec.after
    for attr, twice, taken in (("name", Code.DUPLICATE_NAME, Code.NAME_IN_USE),
                               ("title", Code.DUPLICATE_TITLE, Code.TITLE_IN_USE)):
        holders: dict[str, list[str]] = {}
        for key, pkg in final.items():
            value = pkg.get(attr)
            if isinstance(value, str) and value:
                holders.setdefault(value, []).append(key)
        for rec in plan.records:
            value = rec.after.get(attr)
            if not rec.touches(attr) or not isinstance(value, str) or not value:
                continue
            others = [k for k in holders.get(value, []) if k != rec.key]
            if others:
                issue = Issue((attr,), twice, say(twice, value=value, count=len(others)), value=value)
            elif (value in lookups.names_taken if attr == "name"
                  else lookups.titles_taken.get(value) not in (None, rec.after.get("id"))):
                issue = Issue((attr,), taken, say(taken, value=value), value=value)
            else:
                continue
            out.setdefault(rec.key, []).append(issue)
    return out


# --- putting it together ------------------------------------------------------------------------

def validate_plan(plan: Plan, schema: Schema, lookups: CatalogueFacts, snapshot: dict[str, dict[str, Any]],
                  files: LocalFiles | None = None) -> ValidationReport:
    """All problems of the plan's records, placed in cells; rows not changed are not checked."""
    checker = RecordChecker(schema, lookups, {f: h for (kind, f), h in plan.labels.items() if kind == "dataset"})
    report = ValidationReport(problems=list(plan.problems), records_checked=len(plan.records))
    unique = check_unique(plan, snapshot, lookups)
    if lookups.titles_checked and any(rec.action != "delete" and rec.touches("title") for rec in plan.records):
        report.notes.append(TITLES_UNSEEN_NOTE)
    for rec in plan.records:
        if rec.action == "delete":  # nothing of it is saved again: only who may delete it matters
            report.problems.extend(_place(rec, i, False) for i in check_delete(rec, lookups.caller))
            continue
        removed = _removed_paths(rec)
        issues = [i for i in checker.check(rec.after) if i.path[:2] not in removed]
        before = {(i.path, i.code) for i in checker.check(rec.before)} if rec.before else set()
        issues += check_state(rec, schema, lookups.caller)
        issues += check_permission(rec, lookups.caller, lookups.org_names)
        issues += check_uploads(rec, files or LocalFiles())
        issues += check_edges(rec)
        issues += unique.get(rec.key, [])
        edited = {_change_path(rec, c) for c in rec.changes}
        uploads = {("resources", i, "url") for i in rec.new_resources if is_upload(rec.after["resources"][i])
                   and (files is None or files.allowed)}
        not_web = {i.path for i in issues if i.code == Code.URL_NOT_WEB}
        for issue in issues:
            if issue.code == Code.URL and (issue.path in uploads or issue.path in not_web):
                continue  # a file to upload, or said already: not a web address
            pre = rec.action == "update" and (issue.path, issue.code) in before and not _touches(issue.path, edited)
            if pre and issue.severity == WARNING:
                continue  # a stricter check on an untouched legacy value: inventory lists those
            if issue.code in DROPDOWN_CODES and issue.severity == WARNING and not pre:
                # the server would take it, but what was typed into a dropdown column is not one of
                # its entries: a typo or a fill handle counting up, never to be sent unnoticed
                issue = dataclasses.replace(issue, severity=ERROR)
            elif issue.code == Code.EMAIL and not pre and "@" not in str(issue.value or ""):
                # no address at all ('call reception', 'name(at)gov.bc.ca'): nobody could write to it
                issue = dataclasses.replace(issue, severity=ERROR, message=say(Code.EMAIL, "no-at", shown=issue.value))
            report.problems.append(_place(rec, issue, pre))
    report.problems.sort(key=lambda p: (p.sheet, p.row or 0, p.column, p.code))
    return report


def _change_path(rec: RecordPlan, change: Any) -> tuple:
    if change.resource_id:
        for i, res in enumerate(rec.after.get("resources") or []):
            if res.get("id") == change.resource_id:
                return ("resources", i, change.field)
    if change.new_index is not None:
        # a new resource: it alone is edited, not its siblings (whose stored problems stay pre-existing)
        return ("resources", change.new_index)
    return (change.field,)


def _touches(path: tuple, edited: set[tuple]) -> bool:
    return any(path[:len(e)] == e or e[:len(path)] == path for e in edited)


def _place(rec: RecordPlan, issue: Issue, pre_existing: bool) -> Problem:
    cell = rec.locate(issue.path)
    message = issue.message
    if pre_existing:
        message = PRE_EXISTING.format(message=message)
    value = issue.value
    shown = value_text(value) if isinstance(value, (list, dict)) else normalize_cell(value)
    field_name = column_field(issue.path)
    return Problem(cell.sheet, cell.row, cell.column, field_name, shown[:200], issue.code, message,
                   issue.severity, rec.key, pre_existing, rec.name)


def gather_facts(book: Any, plan: Plan, catalogue: Catalogue | None) -> CatalogueFacts:
    """CatalogueFacts from the workbook's own lists, and from the catalogue when there is one:
    the user's roles, and whether new names and titles are taken on the server."""
    orgs = dict(book.lookups.get("organizations", {}))
    licences = dict(book.lookups.get("licences", {}))
    lookups = CatalogueFacts(licence_ids=set(licences), licence_titles=licences, org_ids=set(orgs), org_names=orgs)
    if catalogue is None:
        return lookups
    lookups.caller = catalogue.caller()  # without a key, roles are unknown (as offline)
    names, titles = set(), set()
    for rec in plan.records:
        for attr, bucket in (("name", names), ("title", titles)):
            value = rec.after.get(attr)
            if rec.touches(attr) and isinstance(value, str) and value:
                bucket.add(value)
    if names:
        lookups.names_taken = catalogue.names_in_use(sorted(names))
    if titles:
        lookups.titles_taken = catalogue.titles_in_use(sorted(titles))
        lookups.titles_checked = True
    return lookups


def validate_workbook(book: Any, catalogue: Catalogue | None = None,
                      local_files: bool = True) -> tuple[Plan, ValidationReport]:
    """Plan a read workbook and validate every changed or new record (``local_files``: may a new
    resource's URL name a file beside the workbook to upload? Never on a server)."""
    from bcdc_bulk.planning import build_plan

    plan = build_plan(book)
    lookups = gather_facts(book, plan, catalogue)
    assert plan.schema is not None
    files = LocalFiles(allowed=local_files, base=Path(book.path).parent)
    report = validate_plan(plan, plan.schema, lookups, book.snapshot, files)
    keep_refused_put_backs(plan, report, book.shown)
    return plan, report


def keep_refused_put_backs(plan: Plan, report: ValidationReport, shown: dict[str, dict[str, Any]]) -> None:
    """An undo workbook puts back what a run replaced. A value the catalogue no longer takes (a format
    in capitals, an older security class) cannot go back: that change leaves the plan, noted as kept,
    and the record's other changes are still made. A value a person typed over stays an error."""
    from bcdc_bulk.plan import RowNote
    from bcdc_bulk.verifying import value_now
    from bcdc_bulk.wording import Wording

    if not shown:
        return  # not an undo workbook
    records = {r.key: r for r in plan.records}
    words = Wording(plan.converters, plan.site, plan.labels)
    for problem in list(report.errors):
        rec = records.get(problem.record)
        put_back = shown.get(problem.record)
        if rec is None or put_back is None or problem.pre_existing:
            continue
        change = next((c for c in rec.changes if c.cell is not None and c.id == problem.where), None)
        if change is None or change.removal or value_now(put_back, change) != (True, change.new):
            continue
        stays = words.parts(change, rec)[0].old  # as the workbook shows it
        rec.changes.remove(change)
        _revert(rec, change)
        report.problems.remove(problem)
        plan.kept.append(RowNote(problem.sheet, problem.row, rec.name,
                                 said(Say.KEPT_VALUE, message=problem.message, stays=stays)))
    plan.records = [r for r in plan.records if r.changes or r.new_resources]


def _revert(rec: RecordPlan, change: Any) -> None:
    """The record's after-state without one change (its value as it was before)."""
    if change.resource_id:
        for res in rec.after.get("resources") or []:
            if res.get("id") == change.resource_id:
                res[change.field] = change.old
    else:
        rec.after[change.field] = change.old


def adopt_catalogue_words(book: Any, catalogue: Catalogue | None) -> None:
    """A template made offline knows no organization of any catalogue: checked or applied against one, its
    cells are read with that catalogue's organizations and licences (names typed become their ids)."""
    if catalogue is None or str(book.provenance.get("site") or "") != TEMPLATE_SITE:
        return
    orgs = catalogue.organizations()
    book.lookups = dict(book.lookups, organizations=organization_labels(orgs),
                        organization_names={o.id: o.name for o in orgs},
                        licences={str(lic["id"]): lic.get("title") or str(lic["id"]) for lic in catalogue.licenses()})


def check_site(book: Any, site: str) -> None:
    """Refuse a workbook exported from another catalogue than the one named."""
    from bcdc_bulk.errors import WorkbookError

    exported = str(book.provenance.get("site") or "").rstrip("/")
    if exported == TEMPLATE_SITE:
        return  # a template made offline (no -r) holds no records of any site: it may go to any catalogue
    if exported and exported != site.rstrip("/"):
        raise WorkbookError(said(Say.OTHER_SITE, exported=exported, site=site.rstrip("/")))
