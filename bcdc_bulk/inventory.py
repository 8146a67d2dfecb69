"""Inventory: the auditor's read-only workbook of a catalogue (or some organizations):
the record sheets of an export, a Summary with counts and charts, and Findings, every
stored value today's schema rejects or warns about."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcdc_bulk.catalogue import Catalogue, Member, Organization, resolve_org
from bcdc_bulk.converters import value_text
from bcdc_bulk.export import Progress, read_packages, write_records
from bcdc_bulk.problems import ERROR
from bcdc_bulk.schema import Field, Schema
from bcdc_bulk.spool import Records, Spool
from bcdc_bulk.suggesting import certain_fix
from bcdc_bulk.tables import Renderer, normalize_cell
from bcdc_bulk.validation import CatalogueFacts, Issue, RecordChecker
from bcdc_bulk.workbook_write import TOTAL, ExtraSheets, Purpose, Table

FINDING_COLUMNS = ["severity", "organization", "dataset", "where", "value", "change_to", "message", "title", "field",
                   "code", "id"]
STATES = ["DRAFT", "PENDING PUBLISH", "PUBLISHED", "PENDING ARCHIVE", "ARCHIVED"]
FUTURE, NO_DATE = "in the future (a date to check)", "no date"
AGES = [(1, "up to 1 year"), (2, "over 1, up to 2 years"), (5, "over 2, up to 5 years"), (None, "over 5 years")]


@dataclass
class InventoryResult:
    """What an inventory wrote."""

    path: Path
    organizations: list[str]
    packages: int
    resources: int
    findings: int
    records_with_errors: int


def _counts(values: list[str], said: Callable[[str], str] | None = None) -> list[list[Any]]:
    """Counts of the values, most first; ``said`` names each distinct stored value once (values it
    names alike are counted together)."""
    counts: Counter[str] = Counter()
    for value, n in Counter(values).items():
        counts[said(value) if said else value] += n
    return [[k or "(empty)", n] for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _age(value: Any, today: dt.date) -> str:
    """How old a date is, in calendar years, each bucket's upper end included (a date exactly two
    years ago is 'over 1, up to 2 years'); a date after today is one to check."""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return NO_DATE
    if day > today:
        return FUTURE
    for years, label in AGES:
        if years is None or day >= _years_before(today, years):
            return label
    return AGES[-1][1]


def _shown(fld: Field | None, value: str) -> str:
    """A stored value as the form shows it; one the schema no longer offers, said as such."""
    if not value:
        return "(empty)"
    if fld is None or not fld.choices:
        return value
    if value in {c.value for c in fld.choices}:
        return fld.choice_text.shown(value)
    return f"{value} (no longer a choice)"


def _format_of(fld: Field | None, value: str) -> str:
    """A format counted with its listed form ('HTML' with 'html'): Findings lists the ones to fix."""
    fixed = certain_fix(value, fld) if fld is not None and value else None
    return _shown(fld, fixed if fixed is not None else value)


def summarize(packages: Records, org_names: dict[str, str], licence_titles: dict[str, str],
              today: dt.date, schema: Schema | None = None) -> list[Table]:
    """Counts of records by organization x publish state, security class, licence, age of the
    record, and of resources by type and format, in the words of the catalogue's form."""
    def fld(name: str, resource: bool = False) -> Field | None:
        return None if schema is None else (schema.resource_field(name) if resource else schema.dataset_field(name))

    def label(name: str, fallback: str, resource: bool = False) -> str:
        found = fld(name, resource)
        return found.display_label if found is not None else fallback

    by_org: dict[str, Counter] = {}
    counted: dict[str, list[str]] = {"security": [], "licence": [], "type": [], "format": []}
    ages: Counter[str] = Counter()
    seen_by: dict[str, Counter] = {name: Counter() for name in AUDIENCES}
    state, security, kind, fmt = fld("publish_state"), fld("security_class"), fld("bcdc_type", True), fld("format", True)
    for pkg in packages:  # one pass, keeping only the values counted (the records may be on disk)
        org = org_names.get(pkg.get("owner_org") or "", pkg.get("owner_org") or "(none)")
        by_org.setdefault(org, Counter())[str(pkg.get("publish_state") or "")] += 1
        counted["security"].append(str(pkg.get("security_class") or ""))
        counted["licence"].append(licence_titles.get(str(pkg.get("license_id")), str(pkg.get("license_id") or "")))
        ages[_age(pkg.get("record_last_modified"), today)] += 1
        for name in AUDIENCES:
            seen_by[name][_shown(fld(name), str(pkg.get(name) or "")) if name != "private" else
                          PRIVATE if pkg.get("private") else NOT_PRIVATE] += 1
        for res in pkg.get("resources") or []:
            counted["type"].append(str(res.get("bcdc_type") or ""))
            counted["format"].append(str(res.get("format") or ""))
    states = STATES + sorted({s for c in by_org.values() for s in c} - set(STATES))
    org_rows = [[org] + [c.get(s, 0) for s in states] + [sum(c.values())] for org, c in sorted(by_org.items())]
    age_rows = [[name, ages.get(name, 0)] for _, name in AGES] + [[n, ages[n]] for n in (FUTURE, NO_DATE) if ages[n]]
    return [
        Table("Datasets by organization and state", ["Organization"] + [_shown(state, s) for s in states] + [TOTAL],
              org_rows, "stacked"),
        Table(f"Datasets by {label('security_class', 'security class')}",
              [label("security_class", "security class"), "datasets"],
              _counts(counted["security"], lambda v: _shown(security, v))),
        Table("Datasets by licence", [label("license_id", "Licence"), "datasets"], _counts(counted["licence"])),
        _audience_table(seen_by, label),
        Table("Datasets by age of Record Last Modified", ["age", "datasets"], age_rows, "column"),
        Table("Resources by type", [label("bcdc_type", "type", True), "resources"],
              _counts(counted["type"], lambda v: _shown(kind, v))),
        Table("Resources by format (formats written in capitals counted with their listed form)",
              [label("format", "format", True), "resources"], _counts(counted["format"], lambda v: _format_of(fmt, v))),
    ]


AUDIENCES = ("metadata_visibility", "view_audience", "download_audience", "private")
PRIVATE, NOT_PRIVATE = "No: private (its organization's members only)", "Yes: not private"


def _audience_table(seen_by: dict[str, Counter], label: Callable[[str, str], str]) -> Table:
    """Who may see what, one row per question: 'Public' answers several, so each row names its question,
    and the record's private flag (CKAN's own, which the form does not show) is one of them."""
    answers = list(dict.fromkeys(a for name in AUDIENCES for a, _ in seen_by[name].most_common()))
    questions = {"private": "Listed in the catalogue's search? (CKAN's private flag)"}
    rows = [[questions.get(name) or label(name, name)] + [seen_by[name].get(a, 0) for a in answers]
            for name in AUDIENCES if sum(seen_by[name].values())]
    return Table("Who may see each dataset (each question answered separately)", ["question"] + answers, rows, "")


def _where(path: tuple, pkg: dict[str, Any], schema: Schema | None = None) -> str:
    """Where in a record a value is, in the form's words: "resource 'Roads' / Resource Storage Format"."""
    parts = []
    for i, part in enumerate(path):
        if isinstance(part, int):
            if path[i - 1] == "resources":
                res = (pkg.get("resources") or [{}] * (part + 1))[part]
                parts[-1] = f"resource '{res.get('name') or part + 1}'"
            else:
                parts[-1] = f"{parts[-1]} #{part + 1}"
        else:
            fld = _field_at(path[:i + 1], schema) if schema is not None and part != "resources" else None
            parts.append(fld.display_label if fld is not None else part)
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


def findings(packages: Records, schema: Schema, lookups: CatalogueFacts, site: str = "") -> list[dict[str, Any]]:
    """Every problem today's schema finds in the stored records, one row each."""
    checker = RecordChecker(schema, lookups)
    rows = []
    for pkg in packages:
        for issue in checker.check(pkg):
            value = issue.value
            rows.append({
                "organization": lookups.org_names.get(pkg.get("owner_org") or "", pkg.get("owner_org") or ""),
                "dataset": pkg.get("name") or "", "title": pkg.get("title") or "", "where": _where(issue.path, pkg, schema),
                "field": next((str(p) for p in reversed(issue.path) if isinstance(p, str)), ""),
                "value": (value_text(value) if isinstance(value, (list, dict)) else normalize_cell(value))[:200],
                "change_to": change_to(issue, schema), "severity": issue.severity, "code": issue.code,
                "message": issue.message, "id": pkg.get("id") or "",
                "link": f"{site.rstrip('/')}/dataset/{pkg.get('name')}" if site.startswith("http") else "",
            })
    rows.sort(key=lambda r: (r["severity"] != ERROR, r["organization"], r["dataset"], r["where"]))  # errors first
    return rows


def findings_tables(found: list[dict[str, Any]]) -> list[Table]:
    """The answers first: how many findings of each severity, and which datasets the catalogue would
    refuse to save as they are (they hold an error), most errors first."""
    severities = Counter(str(f["severity"]) for f in found)
    refused = Counter(f"{f['title']} ({f['dataset']})" for f in found if f["severity"] == ERROR)
    return [
        Table("Findings (listed on the Findings sheet)", ["severity", "findings"],
              [["error: the catalogue refuses to save the record", severities.get(ERROR, 0)],
               ["warning: worth a look", sum(n for k, n in severities.items() if k != ERROR)]], chart=""),
        Table(f"Datasets the catalogue would refuse to save as they are ({len(refused)})", ["dataset", "errors"],
              [[name, n] for name, n in sorted(refused.items(), key=lambda kv: (-kv[1], kv[0]))], chart=""),
    ]


ROLES = ("admin", "editor", "member")


def member_rows(members: list[Member], org_names: dict[str, str]) -> list[list[str]]:
    """The Members sheet: organization, user, name, role, e-mail; by organization, admins first."""
    rows = [[org_names.get(m.org_id, m.org_id), m.user, m.name, m.role, m.email] for m in members]
    return sorted(rows, key=lambda r: (r[0].casefold(), ROLES.index(r[3]) if r[3] in ROLES else 9, r[1]))


def member_tables(rows: list[list[str]], organizations: list[str]) -> list[Table]:
    """Who may edit what, counted: admins, editors and members per organization, and the
    organizations with no admin (nobody there can publish or manage members)."""
    counts: dict[str, Counter] = {org: Counter() for org in organizations}
    for org, _, _, role, _ in rows:
        counts.setdefault(org, Counter())[role] += 1
    orphans = sorted((org for org, c in counts.items() if not c.get("admin")), key=str.casefold)
    return [
        Table("Members by organization (listed on the Members sheet)", ["Organization", "admins", "editors", "members"],
              [[org] + [c.get(r, 0) for r in ROLES] for org, c in sorted(counts.items(), key=lambda kv: kv[0].casefold())],
              chart=""),
        Table(f"Organizations with no admin ({len(orphans)})", ["Organization"], [[o] for o in orphans], chart=""),
    ]


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
    org_ids = [o.id for o in (chosen or catalogue.organizations())]

    def extra(renderer: Renderer) -> ExtraSheets:
        lookups = CatalogueFacts(licence_ids=set(renderer.licence_titles), licence_titles=dict(renderer.licence_titles),
                          org_ids=set(renderer.org_names),
                          org_names=dict(renderer.org_names))
        found.extend(findings(packages, renderer.schema, lookups, catalogue.site))
        tables = findings_tables(found) + summarize(packages, renderer.org_names, renderer.licence_titles, now.date(),
                                                    renderer.schema)
        members = catalogue.members(org_ids)
        rows = member_rows(members, renderer.org_names) if members is not None else None
        if rows is not None:
            tables += member_tables(rows, [renderer.org_names.get(i, i) for i in org_ids])
        return ExtraSheets(tables,
                           FINDING_COLUMNS, found, rows)

    label = ", ".join(o.name for o in chosen) or "(whole catalogue)"
    result = write_records(catalogue, path, packages, chosen, label, progress, now, extra, purpose=Purpose.INVENTORY)
    return InventoryResult(path=result.path, organizations=[o.name for o in chosen], packages=result.packages,
                           resources=result.resources, findings=len(found),
                           records_with_errors=len({f["id"] for f in found if f["severity"] == ERROR}))
