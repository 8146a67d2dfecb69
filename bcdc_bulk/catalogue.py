"""One interface to a catalogue: a live CKAN site, or a dump file on disk.

API errors are translated here, and only here, into bcdc_bulk.errors.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bcdc_bulk import __version__
from bcdc_bulk.errors import (
    CatalogueError,
    NotAuthorized,
    NotFound,
    ServerValidationError,
    TransientError,
)
from bcdc_bulk.schema import DATASET_TYPE, Schema, schema_from_dict, shipped_licenses, shipped_schema
from bcdc_bulk.settings import Remote

PAGE_SIZE = 1000
USER_AGENT = f"bcdc-bulk/{__version__}"


@dataclass(frozen=True)
class Organization:
    """An organization and the parents it names in ``groups`` (BCDC's hierarchy)."""

    id: str
    name: str
    title: str
    parents: tuple[str, ...] = ()


class Catalogue(Protocol):
    """What every command needs from a catalogue, live or offline."""

    site: str

    def schema(self) -> Schema:
        """The dataset schema in force."""

    def licenses(self) -> list[dict[str, Any]]:
        """The licence list (ids and titles)."""

    def organizations(self) -> list[Organization]:
        """Every organization, with its parents."""

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """Every package (private and draft included) owned by these organizations."""

    def user_name(self) -> str | None:
        """Who the calls are made as (None when anonymous or offline)."""


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
    orgs = catalogue.organizations()
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


@dataclass
class FileCatalogue:
    """A catalogue read from a ckanapi dump file (one package_show dict a line).

    Organizations come from ``organizations.jsonl`` beside the file when present,
    and from the ``organization`` of each package otherwise.
    """

    path: Path
    organizations_path: Path | None = None
    _packages: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def site(self) -> str:
        """The file's path, standing in for a site URL."""
        return str(self.path)

    def _load(self) -> list[dict[str, Any]]:
        if self._packages is None:
            packages = []
            try:
                with self.path.open(encoding="utf-8") as handle:
                    for number, line in enumerate(handle, 1):
                        if line.strip():
                            try:
                                packages.append(json.loads(line))
                            except json.JSONDecodeError as exc:
                                raise CatalogueError(
                                    f"{self.path}: line {number} is not JSON ({exc.msg}); "
                                    "a catalogue file holds one package per line (ckanapi dump format)"
                                ) from None
            except OSError as exc:
                raise CatalogueError(f"cannot read catalogue file {self.path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise CatalogueError(f"{self.path} is not a UTF-8 text catalogue file") from None
            # a dump may hold a record twice (several exports concatenated): the last one wins,
            # as it would on a server, where an id names one record
            by_id = {p.get("id") or p.get("name"): p for p in packages}
            self._packages = list(by_id.values())
        return self._packages

    def schema(self) -> Schema:
        """The schema shipped with bcdc-bulk."""
        return shipped_schema()

    def licenses(self) -> list[dict[str, Any]]:
        """The licence list shipped with bcdc-bulk."""
        return shipped_licenses()

    def organizations(self) -> list[Organization]:
        """Organizations from the companion file, then from the packages."""
        found: dict[str, Organization] = {}
        companion = self.organizations_path or self.path.with_name("organizations.jsonl")
        if companion.exists():
            for line in companion.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    org = json.loads(line)
                    found[org["name"]] = _org(org)
        for pkg in self._load():
            org = pkg.get("organization")
            if org and org.get("name") not in found:
                found[org["name"]] = _org(org)
        return sorted(found.values(), key=lambda o: o.name)

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """Packages whose owner_org is one of ``org_ids``, ordered by id."""
        wanted = set(org_ids)
        matches = [p for p in self._load() if p.get("owner_org") in wanted and p.get("state") != "deleted"]
        yield from sorted(matches, key=lambda p: p.get("id") or "")

    def all_packages(self) -> Iterator[dict[str, Any]]:
        """Every package in the file."""
        yield from self._load()

    def user_name(self) -> str | None:
        """Offline: nobody."""
        return None


def _org(raw: dict[str, Any]) -> Organization:
    parents = tuple(g.get("name") or g.get("id") for g in raw.get("groups") or [])
    return Organization(id=raw.get("id") or raw["name"], name=raw["name"],
                        title=raw.get("title") or raw["name"], parents=parents)


class RemoteCatalogue:
    """A live CKAN site reached with ckanapi."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        import ckanapi

        self.site = url.rstrip("/")
        self._ckan = ckanapi.RemoteCKAN(self.site, apikey=api_key, user_agent=USER_AGENT)
        self._timeout = timeout
        self.calls: list[str] = []
        self._orgs: list[Organization] | None = None
        self._schema: Schema | None = None
        self._whoami: str | None = None
        self._whoami_known = False
        self._has_key = bool(api_key)

    def __repr__(self) -> str:  # never show the key
        return f"RemoteCatalogue({self.site!r})"

    def call(self, action: str, **data: Any) -> Any:
        """Call one action; errors come back as bcdc_bulk.errors."""
        import ckanapi
        import requests

        self.calls.append(action)
        try:
            return self._ckan.call_action(action, data, requests_kwargs={"timeout": self._timeout})
        except ckanapi.NotAuthorized as exc:
            raise NotAuthorized(f"{self.site} refused {action}: not authorized ({_detail(exc)})") from None
        except ckanapi.NotFound as exc:
            raise NotFound(f"{action} on {self.site}: not found ({_detail(exc)})") from None
        except ckanapi.ValidationError as exc:
            errors = exc.error_dict if isinstance(exc.error_dict, dict) else {"": exc.error_dict}
            errors = {k: v for k, v in errors.items() if k != "__type"}
            raise ServerValidationError(f"{self.site} rejected the record: {_summary(errors)}", errors) from None
        except ckanapi.CKANAPIError as exc:
            status = _status(exc)
            if status in (429, 502, 503, 504):
                raise TransientError(f"{self.site} is busy or unavailable (HTTP {status})") from None
            raise CatalogueError(f"{self.site} failed on {action}: {_detail(exc)}") from None
        except requests.Timeout:
            raise TransientError(f"{self.site} did not answer within {self._timeout:.0f} s") from None
        except requests.ConnectionError:
            raise TransientError(f"cannot connect to {self.site}") from None

    def schema(self) -> Schema:
        """The live schema, or the shipped copy if the site does not publish one."""
        if self._schema is None:
            try:
                self._schema = schema_from_dict(self.call("scheming_dataset_schema_show", type=DATASET_TYPE))
            except (NotFound, CatalogueError):
                self._schema = shipped_schema()
        return self._schema

    def licenses(self) -> list[dict[str, Any]]:
        """license_list of the site."""
        return list(self.call("license_list"))

    def organizations(self) -> list[Organization]:
        """organization_list with parents (one call, cached)."""
        if self._orgs is None:
            raw = self.call("organization_list", all_fields=True, include_groups=True, limit=1000)
            self._orgs = sorted((_org(o) for o in raw), key=lambda o: o.name)
        return self._orgs

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """package_search by owner_org, 1,000 a page, stable order (id asc)."""
        fq = "owner_org:(" + " OR ".join(f'"{i}"' for i in org_ids) + ")"
        start = 0
        while True:
            page = self.call("package_search", fq=fq, rows=PAGE_SIZE, start=start, sort="id asc",
                             include_private=True, include_drafts=True)
            results = page.get("results") or []
            yield from results
            start += len(results)
            if not results or start >= page.get("count", 0):
                return

    def user_name(self) -> str | None:
        """The name of the key's user (None when anonymous)."""
        if not self._whoami_known:
            self._whoami_known = True
            if self._has_key:
                try:
                    self._whoami = self.call("user_show")["name"]
                except CatalogueError:
                    self._whoami = None
        return self._whoami


def _status(exc: Exception) -> int | None:
    """The HTTP status inside a ckanapi CKANAPIError (raised as repr([url, status, body]))."""
    match = re.match(r"""^\[['"].*?['"], (\d{3}),""", str(exc.args[0]) if exc.args else "")
    return int(match.group(1)) if match else None


def _detail(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text[:300]


def _summary(errors: dict[str, Any]) -> str:
    parts = []
    for key, value in errors.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        parts.append(f"{key}: {value}" if key else str(value))
    return ", ".join(parts)[:500]


def open_catalogue(remote: Remote, api_key: str | None = None) -> Catalogue:
    """The Catalogue behind a Remote."""
    if remote.is_file:
        assert remote.path is not None
        return FileCatalogue(remote.path)
    assert remote.url is not None
    return RemoteCatalogue(remote.url, api_key)
