"""Inventory: the auditor's read-only workbook of a catalogue (or some organizations):
the record sheets of an export, a Summary with counts and charts, and Findings, every
stored value today's schema rejects or warns about."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcdc_bulk.catalogue import Catalogue, Organization, resolve_org
from bcdc_bulk.converters import value_text
from bcdc_bulk.export import Progress, read_packages, write_records
from bcdc_bulk.problems import ERROR
from bcdc_bulk.schema import Field, Schema
from bcdc_bulk.spool import Records, Spool
from bcdc_bulk.suggesting import certain_fix
from bcdc_bulk.tables import Renderer, normalize_cell
from bcdc_bulk.validation import Issue, Lookups, RecordChecker
from bcdc_bulk.workbook_write import TOTAL, ExtraSheets, Purpose, Table

FINDING_COLUMNS = ["organization", "dataset", "title", "where", "field", "value", "change_to", "severity", "message",
                   "code", "id"]
STATES = ["DRAFT", "PENDING PUBLISH", "PUBLISHED", "PENDING ARCHIVE", "ARCHIVED"]
AGES = [(365, "under 1 year"), (2 * 365, "1-2 years"), (5 * 365, "2-5 years"), (None, "over 5 years")]


@dataclass
class InventoryResult:
    """What an inventory wrote."""

    path: Path
    organizations: list[str]
    packages: int
    resources: int
    findings: int
    records_with_errors: int


def _counts(values: list[str]) -> list[list[Any]]:
    return [[k or "(empty)", n] for k, n in sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))]


def _age(value: Any, today: dt.date) -> str:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return "no date"
    days = (today - day).days
    for limit, label in AGES:
        if limit is None or days < limit:
            return label
    return AGES[-1][1]


def summarize(packages: Records, org_names: dict[str, str], licence_titles: dict[str, str],
              today: dt.date) -> list[Table]:
    """Counts of records by organization x publish state, security class, licence, age of the
    record, and of resources by type and format."""
    by_org: dict[str, Counter] = {}
    counted: dict[str, list[str]] = {"security": [], "licence": [], "type": [], "format": []}
    ages: Counter[str] = Counter()
    for pkg in packages:  # one pass, keeping only the values counted (the records may be on disk)
        org = org_names.get(pkg.get("owner_org") or "", pkg.get("owner_org") or "(none)")
        by_org.setdefault(org, Counter())[str(pkg.get("publish_state") or "(empty)")] += 1
        counted["security"].append(str(pkg.get("security_class") or ""))
        counted["licence"].append(licence_titles.get(str(pkg.get("license_id")), str(pkg.get("license_id") or "")))
        ages[_age(pkg.get("record_last_modified"), today)] += 1
        for res in pkg.get("resources") or []:
            counted["type"].append(str(res.get("bcdc_type") or ""))
            counted["format"].append(str(res.get("format") or ""))
    states = STATES + sorted({s for c in by_org.values() for s in c} - set(STATES))
    org_rows = [[org] + [c.get(s, 0) for s in states] + [sum(c.values())] for org, c in sorted(by_org.items())]
    return [
        Table("Datasets by organization and state", ["organization"] + states + [TOTAL], org_rows, "stacked"),
        Table("Datasets by security class", ["security class", "datasets"], _counts(counted["security"])),
        Table("Datasets by licence", ["licence", "datasets"], _counts(counted["licence"])),
        Table("Datasets by age of Record Last Modified", ["age", "datasets"],
              [[label, ages.get(label, 0)] for _, label in AGES] + [["no date", ages.get("no date", 0)]], "column"),
        Table("Resources by type", ["bcdc_type", "resources"], _counts(counted["type"])),
        Table("Resources by format", ["format", "resources"], _counts(counted["format"])),
    ]


def _where(path: tuple, pkg: dict[str, Any]) -> str:
    parts = []
    for i, part in enumerate(path):
        if isinstance(part, int):
            if path[i - 1] == "resources":
                res = (pkg.get("resources") or [{}] * (part + 1))[part]
                parts[-1] = f"resource '{res.get('name') or part + 1}'"
            else:
                parts[-1] = f"{parts[-1]} #{part + 1}"
        else:
            parts.append(part)
    return " / ".join(parts)


def _field_at(path: tuple, schema: Schema) -> Field | None:
    """The schema field a JSON path of a package points at (a subfield inside a repeating one)."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return None
    lookup = schema.resource_field if names[0] == "resources" else schema.dataset_field
    names = names[1:] if names[0] == "resources" else names
    fld = lookup(names[0]) if names else None
    for name in names[1:]:
        fld = next((s for s in fld.subfields if s.name == name), None) if fld else None
    return fld


def change_to(issue: Issue, schema: Schema) -> str:
    """What to change a stored value to, where that is certain ('WMS' -> 'wms', 'LOW-PUBLIC' -> 'Public');
    else '' (a person chooses)."""
    if not isinstance(issue.value, str) or not issue.value:
        return ""
    fld = _field_at(issue.path, schema)
    fixed = certain_fix(issue.value, fld) if fld is not None else None
    return fld.choice_text.shown(fixed) if fixed is not None and fld is not None else ""


def findings(packages: Records, schema: Schema, lookups: Lookups) -> list[dict[str, Any]]:
    """Every problem today's schema finds in the stored records, one row each."""
    checker = RecordChecker(schema, lookups)
    rows = []
    for pkg in packages:
        for issue in checker.check(pkg):
            value = issue.value
            rows.append({
                "organization": lookups.org_names.get(pkg.get("owner_org") or "", pkg.get("owner_org") or ""),
                "dataset": pkg.get("name") or "", "title": pkg.get("title") or "", "where": _where(issue.path, pkg),
                "field": next((str(p) for p in reversed(issue.path) if isinstance(p, str)), ""),
                "value": (value_text(value) if isinstance(value, (list, dict)) else normalize_cell(value))[:200],
                "change_to": change_to(issue, schema), "severity": issue.severity, "code": issue.code,
                "message": issue.message, "id": pkg.get("id") or "",
            })
    rows.sort(key=lambda r: (r["organization"], r["dataset"], r["severity"] != ERROR, r["where"]))
    return rows


def build_inventory(catalogue: Catalogue, path: Path, org_refs: list[str] | None = None,
                    progress: Progress | None = None, now: dt.datetime | None = None) -> InventoryResult:
    """Write the inventory of the given organizations (all of the catalogue when none)."""
    chosen: list[Organization] = [resolve_org(catalogue, ref) for ref in org_refs or []]
    with Spool() as packages:  # on disk, read once a sheet: a whole catalogue never sits in memory
        packages.extend(read_packages(catalogue, [o.id for o in chosen] if chosen else None, progress, streamed=True))
        return _write_inventory(catalogue, path, packages, chosen, progress, now or dt.datetime.now(dt.timezone.utc))


def _write_inventory(catalogue: Catalogue, path: Path, packages: Spool, chosen: list[Organization],
                     progress: Progress | None, now: dt.datetime) -> InventoryResult:
    found: list[dict[str, Any]] = []

    def extra(renderer: Renderer) -> ExtraSheets:
        lookups = Lookups(licence_ids=set(renderer.licence_titles), licence_titles=dict(renderer.licence_titles),
                          org_ids=set(renderer.org_names),
                          org_names=dict(renderer.org_names))
        found.extend(findings(packages, renderer.schema, lookups))
        return ExtraSheets(summarize(packages, renderer.org_names, renderer.licence_titles, now.date()),
                           FINDING_COLUMNS, found)

    label = ", ".join(o.name for o in chosen) or "(whole catalogue)"
    result = write_records(catalogue, path, packages, chosen, label, progress, now, extra, purpose=Purpose.INVENTORY)
    return InventoryResult(path=result.path, organizations=[o.name for o in chosen], packages=result.packages,
                           resources=result.resources, findings=len(found),
                           records_with_errors=len({f["id"] for f in found if f["severity"] == ERROR}))
