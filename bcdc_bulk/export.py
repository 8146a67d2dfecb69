"""Export: an organization's records (or none, for a template) to a workbook."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcdc_bulk import __version__
from bcdc_bulk.catalogue import Catalogue, resolve_org, with_suborgs
from bcdc_bulk.tables import Renderer, SheetSpec, load_layout
from bcdc_bulk.workbook_write import ChoiceList, Provenance, write_workbook

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


def export_workbook(catalogue: Catalogue, path: Path, org_ref: str | None, include_suborgs: bool = False,
                    progress: Progress | None = None, now: dt.datetime | None = None) -> ExportResult:
    """Write every package of the organization (and sub-organizations) with all
    their resources to ``path``. ``org_ref`` None writes an empty template."""
    schema = catalogue.schema()
    layout = load_layout()
    all_orgs = catalogue.organizations()
    if org_ref is not None:
        root = resolve_org(catalogue, org_ref)
        chosen = with_suborgs(catalogue, root) if include_suborgs else [root]
        packages = []
        tick = progress("Reading records", 0) if progress else None
        for pkg in catalogue.packages_of([o.id for o in chosen]):
            packages.append(pkg)
            if tick:
                tick(1)
        org_label = root.name
    else:
        chosen, packages, org_label = [], [], "(template)"
    licences = {str(lic["id"]): lic.get("title") or str(lic["id"]) for lic in catalogue.licenses()}
    renderer = Renderer(schema, layout, {o.id: o.name for o in all_orgs}, licences)
    specs = renderer.sheet_specs(packages)
    choice_lists = _choice_lists(specs)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    provenance = Provenance(
        site=catalogue.site, organization=org_label, exported_at=stamp, user=catalogue.user_name() or "",
        schema_version=schema.version, layout_version=layout.version, tool_version=__version__,
        organizations=tuple(o.name for o in chosen),
    )
    lookups: dict[str, Any] = {"organizations": {o.id: o.name for o in all_orgs}, "licences": licences}
    tick = progress("Writing workbook", len(packages)) if progress else None
    write_workbook(Path(path), provenance, specs, renderer, packages, choice_lists, schema.raw, lookups, tick)
    return ExportResult(
        path=Path(path), organizations=[o.name for o in chosen], packages=len(packages),
        resources=sum(len(p.get("resources") or []) for p in packages), sheets=[s.name for s in specs],
    )
