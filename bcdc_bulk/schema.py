"""The catalogue's scheming schema as plain dataclasses.

The schema comes from the server (``scheming_dataset_schema_show``) or from the
copy shipped in the package, for offline use and for catalogue files.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

DATASET_TYPE = "bcdc_dataset"
DEFAULT_LANGUAGES = ("en", "fr")  # a multilingual field's languages when neither it nor its schema names them


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice field, with the label the web form shows."""

    value: str
    label: str


@dataclass(frozen=True)
class ChoiceText:
    """How a choice field's values read in a cell: the label the catalogue's web form shows
    ("Protected-A"), with the stored value ("PROTECTED A") accepted when typed by hand.

    A label is used only when it names one choice and is no other choice's value, so the
    mapping is exact both ways; a stored value outside the list shows (and reads back) as is.
    """

    to_label: dict[str, str]
    to_value: dict[str, str]

    @classmethod
    def of(cls, fld: Field) -> ChoiceText:
        """The mapping for one field (empty for a field without choices)."""
        values = {c.value for c in fld.choices}
        label_count: dict[str, int] = {}
        for c in fld.choices:
            label_count[c.label] = label_count.get(c.label, 0) + 1
        to_label = {c.value: c.label for c in fld.choices
                    if label_count[c.label] == 1 and (c.label == c.value or c.label not in values)}
        to_value = {v: v for v in values} | {label: value for value, label in to_label.items()}
        return cls(to_label, to_value)

    def shown(self, value: str) -> str:
        """The cell text of a stored value."""
        return self.to_label.get(value, value)

    def stored(self, text: str) -> str:
        """The stored value of a cell's text (label or value); other text is kept for validation to name."""
        return self.to_value.get(text, text)


@dataclass(frozen=True)
class Field:
    """One field of the schema (a dataset field, resource field or subfield)."""

    name: str
    label: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    choices_helper: str | None = None
    preset: str | None = None
    help_text: str = ""
    validators: tuple[str, ...] = ()
    subfields: tuple[Field, ...] = ()
    conditional_field: str | None = None
    conditional_values: tuple[str, ...] = ()
    moves: bool = False  # its choices are states, each naming the states a record may move to (validTo)
    languages: tuple[str, ...] = ()  # a multilingual (ckanext-fluent) field's own form languages
    multiple: bool = False  # several choices (a form of checkboxes or a multiple select, however preset)
    output: tuple[str, ...] = ()  # its output validators (how the site shows the stored value)

    @property
    def is_repeating(self) -> bool:
        """True for a field whose value is a list of sub-records (contacts, dates...)."""
        return bool(self.subfields)

    @property
    def is_single_entry(self) -> bool:
        """True when the server allows one entry only (single_value_subfield)."""
        return "single_value_subfield" in self.validators

    @property
    def is_multiple_choice(self) -> bool:
        """True when the value is a list of choices (checkboxes, autocomplete)."""
        return self.multiple or self.preset in ("multiple_checkbox", "autocomplete", "multiple_select")

    @cached_property
    def choice_text(self) -> ChoiceText:
        """How this field's choices read in a cell (labels shown, labels or values accepted)."""
        return ChoiceText.of(self)

    @functools.cached_property
    def fluent(self) -> str:
        """'text' or 'tags' for a multilingual field (ckanext-fluent: one value a language), else ''."""
        if "fluent_tags" in self.validators or "fluent_tags_output" in self.output:
            return "tags"
        text_out = ("fluent_text_output", "fluent_core_translated_output", "multilingual_text_output")
        return "text" if "fluent_text" in self.validators or any(o in self.output for o in text_out) else ""

    @property
    def display_label(self) -> str:
        """The label as the form shows it, falling back to the field name."""
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Schema:
    """The dataset and resource fields of one dataset type."""

    dataset_type: str
    dataset_fields: tuple[Field, ...]
    resource_fields: tuple[Field, ...]
    version: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def _dataset_index(self) -> dict[str, Field]:
        return {f.name: f for f in self.dataset_fields}

    @cached_property
    def _resource_index(self) -> dict[str, Field]:
        return {f.name: f for f in self.resource_fields}

    def languages(self, fld: Field) -> tuple[str, ...]:
        """The languages of a multilingual field: its own form languages, else the schema's (fluent's rule)."""
        return fld.languages or tuple(self.raw.get("form_languages") or DEFAULT_LANGUAGES)

    def dataset_field(self, name: str) -> Field | None:
        """The dataset field called ``name``, if the schema has it (looked up per cell: a dict)."""
        return self._dataset_index.get(name)

    def resource_field(self, name: str) -> Field | None:
        """The resource field called ``name``, if the schema has it."""
        return self._resource_index.get(name)


def _split(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(value)


LANGUAGE = "en"  # of a label or help text given in several languages, the one shown


def words(value: Any) -> str:
    """A label or help text as shown: a multilingual one ({"en": ..., "fr": ...}) in English, else its first."""
    if isinstance(value, dict):
        value = value.get(LANGUAGE) or next((v for v in value.values() if v), "")
    return str(value or "")


def _field(raw: dict[str, Any]) -> Field:
    choices = tuple(Choice(str(c["value"]), words(c.get("label")) or str(c["value"])) for c in raw.get("choices") or [])
    return Field(
        name=raw["field_name"],
        label=words(raw.get("label")),
        required=bool(raw.get("required")),
        choices=choices,
        choices_helper=raw.get("choices_helper"),
        preset=raw.get("preset"),
        help_text=words(raw.get("help_text")),
        validators=_split(raw.get("validators")),
        subfields=tuple(_field(s) for s in raw.get("repeating_subfields") or []),
        conditional_field=raw.get("conditional_field"),
        conditional_values=tuple(str(v) for v in raw.get("conditional_values") or []),
        moves=any(isinstance(c, dict) and "validTo" in c for c in raw.get("choices") or []),
        languages=tuple(str(x) for x in raw.get("form_languages") or []),
        multiple=str(raw.get("form_snippet") or "") in ("multiple_checkbox.html", "multiple_select.html")
        or "scheming_multiple_choice_output" in _split(raw.get("output_validators")),
        output=_split(raw.get("output_validators")),
    )


def schema_from_dict(raw: dict[str, Any]) -> Schema:
    """Build a Schema from a scheming schema dict (as the server or the YAML gives it)."""
    canonical = json.dumps(
        {k: raw.get(k) for k in ("dataset_type", "dataset_fields", "resource_fields")},
        sort_keys=True, ensure_ascii=True,
    )
    return Schema(
        dataset_type=raw.get("dataset_type") or DATASET_TYPE,
        dataset_fields=tuple(_field(f) for f in raw.get("dataset_fields") or []),
        resource_fields=tuple(_field(f) for f in raw.get("resource_fields") or []),
        version=hashlib.sha256(canonical.encode()).hexdigest()[:12],
        raw=raw,
    )


# ckanext-scheming's and ckanext-fluent's own presets, by what bcdc-bulk reads of them (the form's
# widgets are not its business); a schema's other presets come from the presets files given with it
BUILT_IN_PRESETS: dict[str, dict[str, Any]] = {
    **{name: {} for name in ("title", "dataset_slug", "tag_string_autocomplete", "dataset_organization",
                             "resource_url_upload", "resource_format_autocomplete", "select", "radio",
                             "multiple_checkbox", "multiple_select", "multiple_text", "date", "datetime",
                             "datetime_tz", "json_object", "markdown", "organization_url_upload",
                             "resource_url", "url")},
    **{name: {"validators": "fluent_text"} for name in ("fluent_text", "fluent_markdown", "fluent_core_translated",
                                                         "fluent_link")},
    "fluent_tags": {"validators": "fluent_tags"},
}


def schema_from_files(path: str | Path, presets: list[str | Path] | tuple = ()) -> Schema:
    """A catalogue's schema from its scheming file (YAML or JSON) and its presets files, expanded as
    ckanext-scheming expands them: a field naming a preset takes the preset's values under its own."""
    raw = _read_structured(Path(path))
    known: dict[str, dict[str, Any]] = {}
    for preset_file in presets:
        for preset in _read_structured(Path(preset_file)).get("presets") or []:
            known[preset["preset_name"]] = preset.get("values") or {}

    def expand(fld: dict[str, Any]) -> dict[str, Any]:
        name = fld.get("preset")
        if name and name not in known and name in BUILT_IN_PRESETS:
            known[name] = BUILT_IN_PRESETS[name]
        if name and name not in known:
            from bcdc_bulk.errors import BulkError

            raise BulkError(f"the schema's preset '{name}' is in none of the presets files given: add the presets "
                            "file it comes with, as in bcdc-bulk --schema SCHEMA --presets PRESETS export ...")
        out = dict(known.get(name) or {}, **fld) if name else dict(fld)
        if out.get("repeating_subfields"):
            out["repeating_subfields"] = [expand(s) for s in out["repeating_subfields"]]
        return out
    for key in ("dataset_fields", "resource_fields"):
        raw[key] = [expand(f) for f in raw.get(key) or []]
    return schema_from_dict(raw)


def _read_structured(path: Path) -> dict[str, Any]:
    """A YAML or JSON file's content (a scheming schema or presets file)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    import yaml

    return yaml.safe_load(text) or {}


CORE_DATASET = [
    ("name", "URL", True), ("title", "Title", True), ("notes", "Description", False),
    ("owner_org", "Organization", True), ("license_id", "License", False), ("url", "Source", False),
    ("version", "Version", False), ("author", "Author", False), ("author_email", "Author Email", False),
    ("maintainer", "Maintainer", False), ("maintainer_email", "Maintainer Email", False),
]
CORE_RESOURCE = [("url", "URL", False), ("name", "Name", False), ("description", "Description", False),
                 ("format", "Format", False)]


@cache
def core_schema() -> Schema:
    """CKAN's own dataset form, for a site without ckanext-scheming: its core fields, and its extras as
    key/value entries (each a row on their own sheet)."""
    def fields(spec: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
        return [{"field_name": n, "label": label, **({"required": True} if req else {})} for n, label, req in spec]
    extras = {"field_name": "extras", "label": "Extras",
              "repeating_subfields": [{"field_name": "key", "label": "Key", "required": True},
                                      {"field_name": "value", "label": "Value"}]}
    return schema_from_dict({"dataset_type": "dataset", "dataset_fields": fields(CORE_DATASET) + [extras],
                             "resource_fields": fields(CORE_RESOURCE)})


@cache
def shipped_schema() -> Schema:
    """The bcdc_dataset schema shipped with the package."""
    text = resources.files("bcdc_bulk.data").joinpath("bcdc_dataset.json").read_text(encoding="utf-8")
    return schema_from_dict(json.loads(text))


def shipped_licenses() -> list[dict[str, Any]]:
    """The BCDC licence list shipped with the package (a fresh list each call)."""
    text = resources.files("bcdc_bulk.data").joinpath("bcdc_licenses.json").read_text(encoding="utf-8")
    return json.loads(text)
