"""Records made to fit any scheming schema: every field given a value of its kind (a choice from its
list, a date, text in each language for a multilingual field, an entry for a repeating field), as a
catalogue running that schema would hold them. For round trips of other catalogues' schemas."""
from __future__ import annotations

import uuid
from typing import Any

from bcdc_bulk.schema import Field, Schema

MULTILINGUAL = ("fluent", "multilingual")


def languages(schema: Schema) -> list[str]:
    """The schema's form languages (fluent's 'form_languages'), else English and French."""
    return list(schema.raw.get("form_languages") or ["en", "fr"])


def value_for(fld: Field, i: int, langs: list[str]) -> Any:
    """A value of the field's kind."""
    preset = fld.preset or ""
    if fld.subfields:
        return [{s.name: value_for(s, i, langs) for s in fld.subfields}]
    if fld.choices:
        first = fld.choices[i % len(fld.choices)].value
        return [first] if fld.is_multiple_choice else first
    if fld.fluent == "tags":
        return {lang: [f"word{i} {lang}"] for lang in fld.languages or langs}
    if fld.fluent or any(m in preset for m in MULTILINGUAL):
        return {lang: f"{fld.display_label} {i} ({lang})" for lang in fld.languages or langs}
    if "date" in preset or fld.name.startswith("date") or fld.name.endswith("_date"):
        return f"2024-01-{1 + i % 28:02d}"
    if "email" in fld.name:
        return f"person{i}@example.invalid"
    if fld.name in ("url",) or fld.name.endswith("_url") or "url" in preset:
        return f"https://example.invalid/{fld.name}/{i}"
    return f"{fld.display_label or fld.name} {i}"


def records_for(schema: Schema, org: dict[str, str], count: int = 3) -> list[dict[str, Any]]:
    """``count`` records of the schema in organization ``org``, each with two resources."""
    langs = languages(schema)
    out = []
    for i in range(count):
        pkg: dict[str, Any] = {}
        for fld in schema.dataset_fields:
            if fld.name in ("id", "name", "owner_org", "resources"):
                continue
            pkg[fld.name] = value_for(fld, i, langs)
        pid = str(uuid.UUID(int=i + 1))
        pkg.update(id=pid, name=f"record-{i}", owner_org=org["id"], type=schema.dataset_type, state="active",
                   metadata_created="2024-01-01T00:00:00", metadata_modified="2024-01-02T00:00:00",
                   organization=org, tags=[{"name": f"tag{i}"}])
        pkg.setdefault("title", f"Record {i}")
        pkg["resources"] = [
            dict({f.name: value_for(f, i + r, langs) for f in schema.resource_fields if f.name not in ("id",)},
                 id=str(uuid.UUID(int=1000 + i * 10 + r)), package_id=pid, position=r)
            for r in range(2)]
        out.append(pkg)
    return out
