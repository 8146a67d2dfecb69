"""Which layout a schema's workbook has: the BC Data Catalogue's tuned one, or one made from the schema.

The BC Data Catalogue's `bcdc_dataset` keeps `templates/layout.json` (its column order, widths and
sheet names). Any other scheming schema gets a layout made from the schema itself: a Datasets sheet
with the dataset fields in the schema's order (URL name and title first), a Resources sheet, and a
sheet for each repeating field, of datasets and of resources, named by its label. Either way a field
the schema has and the layout does not name still gets a column (see tables.Renderer.sheet_specs),
so a field added to a catalogue's schema tomorrow appears without a release of this tool.

The layout is derived from the schema alone, so the workbook's own copy of the schema gives the
same layout when it is read back.
"""
from __future__ import annotations

import re
from typing import Any

from bcdc_bulk.schema import Field, Schema
from bcdc_bulk.tables import Layout, load_layout

TUNED = {"bcdc_dataset"}  # dataset types with a hand-made layout

# what CKAN itself fills in: read-only in any catalogue
COMPUTED = frozenset({
    "id", "package_id", "metadata_created", "metadata_modified", "created", "num_resources", "num_tags", "state",
    "type", "organization", "creator_user_id", "license_title", "license_url", "isopen", "revision_id",
    "relationships_as_object", "relationships_as_subject", "groups", "cache_url", "cache_last_updated",
    "datastore_active", "hash", "mimetype", "mimetype_inner", "size", "url_type", "position", "last_modified",
    "tracking_summary",
})
HIDDEN = {
    "dataset": frozenset({"tag_string", "license_title", "license_url", "isopen", "relationships_as_object",
                          "relationships_as_subject", "revision_id", "creator_user_id", "tracking_summary",
                          "organization", "extras", "num_tags", "type", "groups", "state", "resources"}),
    "resource": frozenset({"package_id", "cache_url", "cache_last_updated", "datastore_active", "hash", "mimetype",
                           "mimetype_inner", "url_type", "state", "position", "tracking_summary"}),
}
RESERVED = {"Instructions", "Datasets", "Resources", "Lists", "Problems", "Summary", "Findings", "Members",
            "_snapshot"}


def layout_for(schema: Schema) -> Layout:
    """The layout of a workbook of records of ``schema``."""
    return load_layout() if schema.dataset_type in TUNED else layout_from_schema(schema)


def layout_from_schema(schema: Schema) -> Layout:
    """A layout made from the schema: its fields in its order, one sheet per repeating field."""
    shipped = load_layout()
    title, res_name = _named_by(schema.dataset_fields, "title"), _named_by(schema.resource_fields, "name")
    lead = {"dataset": [{"field": "name", "label": "URL name", "width": 28}, {"field": title, "width": 36}],
            "resource": [{"field": res_name, "width": 30}, {"field": "url", "width": 40}]}
    sheets: list[dict[str, Any]] = [
        {"name": "Datasets", "kind": "dataset", "frozen_columns": 2,
         "columns": _in_schema_order(lead["dataset"], schema.dataset_fields)},
        {"name": "Resources", "kind": "resource", "frozen_columns": 2,
         "columns": _in_schema_order(lead["resource"], schema.resource_fields)},
    ]
    taken = set(RESERVED)
    for owner, fields in (("dataset", schema.dataset_fields), ("resource", schema.resource_fields)):
        for fld in fields:
            if fld.is_repeating:
                name = sheet_name(fld, owner, taken)
                taken.add(name)
                sheets.append({"name": name, "kind": "group", "owner": owner, "group": fld.name,
                               "frozen_columns": 2 if owner == "dataset" else 3})
    return Layout(version=shipped.version, read_only=COMPUTED, sheets=tuple(sheets), hidden=dict(HIDDEN),
                  raw={"generated_from": schema.dataset_type})


def _in_schema_order(lead: list[dict[str, Any]], fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    """The columns that name a record first, then every other field in the schema's order."""
    named = {c["field"] for c in lead}
    return lead + [{"field": f.name} for f in fields if f.name not in named and not f.is_repeating]


def _named_by(fields: tuple[Field, ...], core: str) -> str:
    """The field that names a record: CKAN's own (title), or the multilingual field ckanext-fluent
    keeps it in (title_translated, whose first language CKAN's title is made from)."""
    names = {f.name for f in fields}
    return f"{core}_translated" if core not in names and f"{core}_translated" in names else core


def sheet_name(fld: Field, owner: str, taken: set[str]) -> str:
    """A sheet's name from its field's label: what Excel allows (31 characters, no []:*?/\\), unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", fld.display_label).strip() or fld.name
    if owner == "resource" and f"Resource {base}"[:31] not in taken and base in taken:
        base = f"Resource {base}"
    base = " ".join(base.split())[:31]
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    return name
