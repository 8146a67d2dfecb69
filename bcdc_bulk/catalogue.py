"""One interface to a catalogue (the Catalogue protocol and the types it passes), and the catalogue
of a dump file on disk. A live CKAN is ckan_catalogue.py (its API errors are mapped in transports.py);
one in memory that writes as CKAN does is memory.py.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bcdc_bulk.errors import (
    BulkError,
    CatalogueError,
    NotFound,
)
from bcdc_bulk.schema import Schema, shipped_licenses, shipped_schema
from bcdc_bulk.settings import Remote

TEMPLATE_SITE = "(built-in schema)"  # the site of the empty catalogue: a template made without -r


@dataclass(frozen=True)
class Organization:
    """An organization and the parents it names in ``groups`` (BCDC's hierarchy)."""

    id: str
    name: str
    title: str
    parents: tuple[str, ...] = ()


def organization_labels(orgs: list[Organization]) -> dict[str, str]:
    """id -> how a cell shows each organization: its title, as the catalogue's form does; with its URL
    name beside it where two organizations share a title."""
    def title(o: Organization) -> str:
        return o.title or o.name

    counts = Counter(title(o).casefold() for o in orgs)
    return {o.id: title(o) if counts[title(o).casefold()] == 1 else f"{title(o)} ({o.name})" for o in orgs}


@dataclass(frozen=True)
class Member:
    """One person's role in one organization (the e-mail only where the caller may see it)."""

    org_id: str
    user: str
    name: str
    role: str  # admin | editor | member
    email: str = ""


@dataclass(frozen=True)
class Caller:
    """Who the calls are made as, and where: their role per organization id, and sysadmin.

    ``known`` is False offline or without an API key: rules that depend on the role are then warnings."""

    user: str | None = None
    sysadmin: bool = False
    roles: dict[str, str] = field(default_factory=dict)
    known: bool = False

    def role_in(self, org_id: str | None) -> str | None:
        """'sysadmin', 'admin', 'editor', 'member' or None."""
        if self.sysadmin:
            return "sysadmin"
        return self.roles.get(org_id or "")


class Catalogue(Protocol):
    """What every command needs from a catalogue, live or offline."""

    site: str

    def schema(self) -> Schema:
        """The dataset schema in force."""

    def licenses(self) -> list[dict[str, Any]]:
        """The licence list (ids and titles)."""

    def organizations(self, parents: bool = False) -> list[Organization]:
        """Every organization; with ``parents``, the parents each names in ``groups``."""

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """Every package (private and draft included) owned by these organizations."""

    def all_packages(self) -> Iterator[dict[str, Any]]:
        """Every package of the catalogue the caller may see."""

    def user_name(self) -> str | None:
        """Who the calls are made as (None when anonymous or offline)."""

    def caller(self) -> Caller:
        """Who the calls are made as and their roles (not ``known`` offline or without a key)."""

    def members(self, org_ids: list[str]) -> list[Member] | None:
        """Who holds which role in these organizations; None where the catalogue cannot say (a file)."""

    def names_in_use(self, names: list[str]) -> set[str]:
        """Which of these package names the catalogue already has."""

    def titles_in_use(self, titles: list[str]) -> dict[str, str]:
        """Which of these titles the catalogue already has: title -> id of the package using it."""

    def packages_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The packages with these ids as they are now (deleted or unknown ones absent)."""

    def package(self, ref: str) -> dict[str, Any] | None:
        """One package by id or name, as it is now (None when there is none)."""

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """A write (package_revise with ``match``, package_patch, resource_patch, package_create,
        resource_create with an upload in ``files``, package_delete, resource_delete), with the API's
        errors as bcdc_bulk.errors. Three catalogues answer: ckan_catalogue.CkanCatalogue (a live CKAN,
        over HTTP or in-process), memory.MemoryCatalogue (in memory, for tests) and FileCatalogue
        (read-only: refuses)."""


def resolve_org(catalogue: Catalogue, ref: str) -> Organization:
    """The organization named ``ref`` (its name, id or title)."""
    orgs = catalogue.organizations()
    for org in orgs:
        if ref in (org.name, org.id):
            return org
    for org in orgs:
        if org.title.lower() == ref.lower():
            return org
    raise NotFound(f"organization '{ref}' was not found on {catalogue.site}")


def with_suborgs(catalogue: Catalogue, root: Organization) -> list[Organization]:
    """The organization and all its descendants, found through ``groups``."""
    orgs = catalogue.organizations(parents=True)
    found = [root]
    seen = {root.name}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for org in orgs:
            if org.name not in seen and (parent.name in org.parents or parent.id in org.parents):
                seen.add(org.name)
                found.append(org)
                frontier.append(org)
    return found


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(byte offset, record) of each line of a ckanapi dump file, one at a time."""
    try:
        with path.open("rb") as handle:
            offset = 0
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield offset, json.loads(line.decode("utf-8"))
                    except json.JSONDecodeError as exc:
                        raise CatalogueError(f"{path}: line {number} is not JSON ({exc.msg}); a catalogue file holds "
                                             "one record per line (ckanapi dump format)") from None
                offset += len(line)
    except OSError as exc:
        raise CatalogueError(f"cannot read catalogue file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path} is not a UTF-8 text catalogue file") from None


def in_id_order(packages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The packages (deleted ones left out) by id, as a search of the catalogue gives them."""
    return sorted((p for p in packages if p.get("state") != "deleted"), key=lambda p: p.get("id") or "")


def names_among(packages: Iterable[dict[str, Any]], names: list[str]) -> set[str]:
    """Which of ``names`` these packages use."""
    wanted = set(names)
    return {p["name"] for p in packages if p.get("name") in wanted}


def titles_among(packages: Iterable[dict[str, Any]], titles: list[str]) -> dict[str, str]:
    """Which of ``titles`` these packages use: title -> id."""
    wanted = set(titles)
    return {p["title"]: p.get("id", "") for p in packages if p.get("title") in wanted}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a ckanapi dump file, one JSON object a line."""
    return [record for _, record in _lines(path)]


@dataclass
class FileCatalogue:
    """A catalogue read from a ckanapi dump file (one package_show dict a line).

    Organizations come from ``organizations.jsonl`` beside the file when present,
    and from the ``organization`` of each package otherwise. With no path it is
    the empty catalogue: the shipped schema and licences, no records.
    """

    path: Path | None
    organizations_path: Path | None = None
    given_schema: Schema | None = None  # the catalogue's schema (--schema); else the BC Data Catalogue's
    _packages: list[dict[str, Any]] | None = field(default=None, repr=False)
    _orgs: list[Organization] | None = field(default=None, repr=False)

    @property
    def site(self) -> str:
        """The file's path, standing in for a site URL."""
        return str(self.path) if self.path else TEMPLATE_SITE

    def _load(self) -> list[dict[str, Any]]:
        if self._packages is None:
            packages = read_jsonl(self.path) if self.path else []
            # a dump may hold a record twice (several exports concatenated): the last one wins,
            # as it would on a server, where an id names one record
            self._packages = list({p.get("id") or p.get("name"): p for p in packages}.values())
        return self._packages

    def schema(self) -> Schema:
        """The schema given with the file (--schema), else the one shipped with bcdc-bulk."""
        return self.given_schema or shipped_schema()

    def licenses(self) -> list[dict[str, Any]]:
        """The licence list shipped with bcdc-bulk."""
        return shipped_licenses()

    def organizations(self, parents: bool = False) -> list[Organization]:
        """Organizations from the companion file, then from the packages (cached; parents always known)."""
        if self._orgs is None:
            found: dict[str, Organization] = {}
            companion = self.organizations_path or (self.path.with_name("organizations.jsonl") if self.path else None)
            if companion is not None and companion.exists():
                for raw in read_jsonl(companion):
                    found[raw["name"]] = organization_from(raw)
            for pkg in self._records():
                raw = pkg.get("organization")
                if raw and raw.get("name") not in found:
                    found[raw["name"]] = organization_from(raw)
            self._orgs = sorted(found.values(), key=lambda o: o.name)
        return self._orgs

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """Packages whose owner_org is one of ``org_ids``, ordered by id."""
        wanted = set(org_ids)
        yield from (p for p in self._in_order() if p.get("owner_org") in wanted)

    def all_packages(self) -> Iterator[dict[str, Any]]:
        """Every package in the file (deleted ones left out), ordered by id."""
        yield from self._in_order()

    def _records(self) -> Iterator[dict[str, Any]]:
        """Every record, in file order: from memory when loaded, else read one at a time."""
        if self.path is None or self._packages is not None:
            yield from self._load()
        else:
            yield from (record for _, record in _lines(self.path))

    def _in_order(self) -> Iterator[dict[str, Any]]:
        """The packages (deleted ones left out) by id, read from the file one at a time (a dump of a whole
        catalogue is never held in memory: only where each record's line starts)."""
        if self.path is None or self._packages is not None:
            yield from in_id_order(self._load())
            return
        offsets: dict[str, int] = {}  # the last line of a record wins, as in _load
        for offset, pkg in _lines(self.path):
            offsets[str(pkg.get("id") or pkg.get("name"))] = offset
        with self.path.open("rb") as handle:
            for key in sorted(offsets):
                handle.seek(offsets[key])
                pkg = json.loads(handle.readline())
                if pkg.get("state") != "deleted":
                    yield pkg

    def user_name(self) -> str | None:
        """Offline: nobody."""
        return None

    def caller(self) -> Caller:
        """Offline: nobody, roles unknown."""
        return Caller()

    def members(self, org_ids: list[str]) -> list[Member] | None:
        """Members listed in the companion organizations.jsonl (its entries' ``users``); None when it
        lists none (a dump made without them cannot say who may edit)."""
        companion = self.organizations_path or (self.path.with_name("organizations.jsonl") if self.path else None)
        if companion is None or not companion.exists():
            return None
        raws = [raw for raw in read_jsonl(companion) if "users" in raw]
        if not raws:
            return None
        wanted = set(org_ids)
        return [Member(raw["id"], u.get("name", ""), u.get("display_name") or u.get("name", ""),
                       u.get("capacity", ""), u.get("email") or "")
                for raw in raws if raw.get("id") in wanted for u in raw.get("users") or []]

    def names_in_use(self, names: list[str]) -> set[str]:
        """Names of the file's packages among ``names``."""
        return names_among(self._load(), names)

    def titles_in_use(self, titles: list[str]) -> dict[str, str]:
        """Titles of the file's packages among ``titles``."""
        return titles_among(self._load(), titles)

    def packages_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The file's packages with these ids (deleted ones absent)."""
        wanted = set(ids)
        return {p["id"]: p for p in self._load() if p.get("id") in wanted and p.get("state") != "deleted"}

    def package(self, ref: str) -> dict[str, Any] | None:
        """One of the file's packages, by id or name."""
        return next((p for p in self._load() if ref in (p.get("id"), p.get("name"))), None)

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """A catalogue file is read-only."""
        raise BulkError(f"{self.site} is a catalogue file, which is read-only; apply to a CKAN site (-r prod, "
                        "test or a URL)")


def organization_from(raw: dict[str, Any]) -> Organization:
    parents = tuple(g.get("name") or g.get("id") for g in raw.get("groups") or [])
    return Organization(id=raw.get("id") or raw["name"], name=raw["name"],
                        title=raw.get("title") or raw["name"], parents=parents)


def open_catalogue(remote: Remote, api_key: str | None = None, schema: Schema | None = None,
                   dataset_type: str | None = None) -> Catalogue:
    """The Catalogue behind a Remote (``schema``: the catalogue's own, from a file; ``dataset_type``:
    which of a site's schemas)."""
    if remote.is_file:
        assert remote.path is not None
        return FileCatalogue(remote.path, given_schema=schema)
    assert remote.url is not None
    from bcdc_bulk.ckan_catalogue import remote_catalogue  # (it builds on this module's types)

    return remote_catalogue(remote.url, api_key, dataset_type=dataset_type, schema=schema)
