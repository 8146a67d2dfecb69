"""Export: an organization's records (or none, for a template) to a workbook."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcdc_bulk.about import VERSION
from bcdc_bulk.catalogue import Catalogue, Organization, organization_labels, resolve_org, with_suborgs
from bcdc_bulk.layouts import layout_for
from bcdc_bulk.schema import Schema
from bcdc_bulk.spool import Records
from bcdc_bulk.tables import REMOVE_FIELD, REMOVE_MARK, Column, Renderer, SheetSpec, parse_list, sheet_fields
from bcdc_bulk.validation import checked_by_the_catalogue
from bcdc_bulk.workbook_write import ChoiceList, ExtraSheets, Provenance, Purpose, write_workbook

Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    organizations: list[str]
    packages: int
    resources: int
    sheets: list[str] = field(default_factory=list)


def _choice_lists(specs: list[SheetSpec]) -> list[ChoiceList]:
    lists: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        for col in spec.columns:
            if col.choices and col.choice_values:
                lists.setdefault(col.choices, col.choice_values)
    return [ChoiceList(key, list(values)) for key, values in lists.items()]


def export_workbook(catalogue: Catalogue, path: Path, org_ref: str | list[str] | None, include_suborgs: bool = False,
                    progress: Progress | None = None, now: dt.datetime | None = None) -> ExportResult:
    """Write every package of the organization, or of several (and their sub-organizations), with all
    their resources to ``path``. ``org_ref`` None writes an empty template."""
    if org_ref is not None:
        roots = [resolve_org(catalogue, ref) for ref in ([org_ref] if isinstance(org_ref, str) else org_ref)]
        # each organization once, in the order asked for, however the trees overlap
        chosen = list({o.id: o for root in roots
                       for o in (with_suborgs(catalogue, root) if include_suborgs else [root])}.values())
        packages = by_title(read_packages(catalogue, [o.id for o in chosen], progress))
        org_label = ", ".join(r.name for r in roots)
    else:
        chosen, packages, org_label = [], [], "(template)"
    purpose = Purpose.EXPORT if org_ref is not None else Purpose.TEMPLATE
    return write_records(catalogue, path, packages, chosen, org_label, progress, now, purpose=purpose)


def export_mine(catalogue: Catalogue, path: Path, state: str | None = None,
                progress: Progress | None = None, now: dt.datetime | None = None) -> ExportResult:
    """Write every record of the organizations where the key's user is an editor or admin (a
    sysadmin: all), only those in publish state ``state`` when given (its value or label, any case)."""
    from bcdc_bulk.errors import BulkError

    who = catalogue.caller()
    if not who.known:
        raise BulkError("--mine needs a catalogue that knows who you are: give -r a CKAN site and your API key")
    chosen = [o for o in catalogue.organizations() if who.role_in(o.id) in ("sysadmin", "editor", "admin")]
    wanted = _state_value(catalogue.schema(), state) if state else None
    packages = [p for p in read_packages(catalogue, [o.id for o in chosen], progress)
                if wanted is None or str(p.get("publish_state") or "").upper() == wanted]
    return write_records(catalogue, path, by_title(packages), chosen, f"(mine: {who.user})", progress, now)


def by_title(packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records in the order a person looks for them: by title (ignoring case), then URL name."""
    return sorted(packages, key=lambda p: (str(p.get("title") or "").casefold(), str(p.get("name") or "")))


def _state_value(schema: Schema, state: str) -> str:
    """The stored publish state for what was typed ('draft', 'Draft', 'DRAFT'), or an error naming the states."""
    from bcdc_bulk.errors import BulkError

    fld = schema.dataset_field("publish_state")
    choices = fld.choices if fld is not None else ()
    typed = {text.casefold(): c.value for c in choices for text in (c.value, c.label)}
    found = typed.get(state.strip().casefold())
    if found is None:
        raise BulkError(f"--state '{state}' is not a state of this catalogue; use one of: "
                        + ", ".join(c.label for c in choices))
    return found.upper()


def read_packages(catalogue: Catalogue, org_ids: list[str] | None, progress: Progress | None,
                  streamed: bool = False) -> Any:
    """The packages of these organizations (None: of the whole catalogue), with a progress bar: a list,
    or (``streamed``) an iterator that reads them as it goes."""
    tick = progress("Reading records", 0) if progress else None
    source = catalogue.packages_of(org_ids) if org_ids is not None else catalogue.all_packages()

    def ticking() -> Iterator[dict[str, Any]]:
        for pkg in source:
            if tick:
                tick(1)
            yield pkg
    return ticking() if streamed else list(ticking())


def write_records(catalogue: Catalogue, path: Path, packages: Records, chosen: list[Organization],
                  org_label: str, progress: Progress | None = None, now: dt.datetime | None = None,
                  extra: Callable[[Renderer], ExtraSheets] | None = None,
                  snapshot: Records | None = None, purpose: Purpose = Purpose.EXPORT) -> ExportResult:
    """Write packages to a workbook in the export layout (``extra`` adds inventory sheets;
    ``snapshot`` records other values than the cells show, for an undo workbook)."""
    schema = catalogue.schema()
    _same_type(packages, schema, catalogue.site)
    layout = layout_for(schema)
    all_orgs = catalogue.organizations()
    licences = {str(lic["id"]): lic.get("title") or str(lic["id"]) for lic in catalogue.licenses()}
    shown, names = organization_labels(all_orgs), {o.id: o.name for o in all_orgs}
    renderer = Renderer(schema, layout, shown, licences, names)
    specs = renderer.sheet_specs(packages)
    choice_lists = _choice_lists(specs)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    provenance = Provenance(
        site=catalogue.site, organization=org_label, exported_at=stamp, user=catalogue.user_name() or "",
        schema_version=schema.version, layout_version=layout.version, tool_version=VERSION,
        organizations=tuple(o.name for o in chosen), site_checks=tuple(checked_by_the_catalogue(schema)),
    )
    lookups: dict[str, Any] = {"organizations": shown, "organization_names": names, "licences": licences}
    tick = progress("Writing workbook", len(packages)) if progress else None
    write_workbook(Path(path), provenance, specs, renderer, packages, choice_lists, schema.raw, lookups, tick,
                   extra(renderer) if extra else None, snapshot, purpose, refused_note(schema))
    return ExportResult(
        path=Path(path), organizations=[o.name for o in chosen], packages=len(packages),
        resources=sum(len(p.get("resources") or []) for p in packages), sheets=[s.name for s in specs],
    )


CORE_FIELDS = frozenset({"id", "name", "title", "notes", "owner_org", "license_id", "url", "version", "author",
                         "author_email", "maintainer", "maintainer_email", "tags", "tag_string", "resources",
                         "extras", "type", "state", "private", "groups", "organization"})


def _same_type(packages: Records, schema: Schema, site: str) -> None:
    """Refuse records that hold none of the schema's own fields (another catalogue's records read with
    the BC Data Catalogue's schema, say): their workbook would show the wrong fields."""
    if not isinstance(packages, list) or not packages:
        return  # a spool (the inventory) is read once, later
    own = {f.name for f in schema.dataset_fields} - CORE_FIELDS
    if own and not any(p.get(name) not in (None, "", [], {}) for p in packages[:200] for name in own):
        from bcdc_bulk.errors import BulkError

        types = ", ".join(sorted({str(p.get("type")) for p in packages if p.get("type")})) or "unknown"
        raise BulkError(f"the records of {site} (of type {types}) hold none of the fields of the {schema.dataset_type} "
                        "schema this export would lay them out by: give their catalogue's schema before the command, "
                        "as in bcdc-bulk --schema SCHEMA.yaml --presets PRESETS.yaml export ... (or --dataset-type "
                        "for a site with several)")


def refused_note(schema: Schema) -> Callable[[SheetSpec, Column, str], str | None]:
    """The note on a cell whose stored value is not one its list offers (a format in capitals, a
    security class of the older form): what is wrong and what to write, from the schema's choices."""
    from bcdc_bulk.validation import choice_message

    fields: dict[str, dict[str, Any]] = {}
    said: dict[tuple[str, str, str], str | None] = {}  # a legacy value repeats on many rows: worded once

    def note(spec: SheetSpec, col: Column, text: str) -> str | None:
        key = (spec.name, col.field, text)
        if key not in said:
            fld = fields.setdefault(spec.name, sheet_fields(schema, spec)).get(col.field)
            if fld is None or not fld.choices or fld.is_multiple_choice:
                said[key] = None  # licences and organizations come from the catalogue; lists are checked whole
            else:
                said[key] = (f"{choice_message(fld.label or col.label, text, fld)}.\n\nThe catalogue holds it so from "
                             "before; it asks for it to be fixed whenever the record is saved, so fix it when you "
                             "edit this record.")
        return said[key]
    return note


def _marked(entry: dict[str, Any]) -> dict[str, Any]:
    return dict(entry, **{REMOVE_FIELD: REMOVE_MARK})


def _with_added_entries(schema: Schema, before: dict[str, Any], after: dict[str, Any], resource: bool) -> dict[str, Any]:
    """``before`` with the list entries the run appended, marked for removal (so the undo removes them)."""
    out = dict(before)
    for fld in (schema.resource_fields if resource else schema.dataset_fields):
        old, new = parse_list(before.get(fld.name)), parse_list(after.get(fld.name))
        if fld.is_repeating and len(new) > len(old):
            out[fld.name] = old + [_marked(e) for e in new[len(old):]]
    return out


def _restorable(schema: Schema, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The package as the undo workbook's cells show it: a resource the run removes appears as a
    new row (no id), so applying the undo workbook adds it back; a resource or list entry the run
    added appears marked for removal, so applying the undo workbook removes it."""
    after_resources = {r.get("id"): r for r in after.get("resources") or []}
    had = {r.get("id") for r in before.get("resources") or []}
    resources = [_with_added_entries(schema, r, after_resources[r.get("id")], True) if r.get("id") in after_resources
                 else {k: v for k, v in r.items() if k != "id"} for r in before.get("resources") or []]
    added = [_marked(r) for r in after.get("resources") or [] if r.get("id") not in had]
    return dict(_with_added_entries(schema, before, after, False), resources=resources + added)


def write_undo(catalogue: Catalogue, path: Path, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> ExportResult:
    """An undo workbook: its cells hold the values before a run, its snapshot the values the
    run writes, so applying it puts the catalogue back (with the same conflict checks)."""
    schema = catalogue.schema()
    before = [_restorable(schema, b, a) for b, a in pairs]
    after = [a for _, a in pairs]
    orgs = {o.id: o for o in catalogue.organizations()}
    chosen = [orgs[i] for i in sorted({str(p.get("owner_org")) for p in before}) if i in orgs]
    return write_records(catalogue, path, before, chosen, "(undo)", snapshot=after, purpose=Purpose.UNDO)
