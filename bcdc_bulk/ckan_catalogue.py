"""A CKAN catalogue: its records, schema, organizations and roles read and written through its action
API, over a transport (transports.py): HTTP with an API key (the command line) or in-process as a
signed-in user (the web extension). One class for both: only how a call travels differs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bcdc_bulk.catalogue import Caller, Member, Organization, organization_from
from bcdc_bulk.errors import CatalogueError, NotAuthorized, NotFound, TransientError
from bcdc_bulk.schema import DATASET_TYPE, Schema, core_schema, schema_from_dict
from bcdc_bulk.transports import HttpTransport, InProcessTransport, Transport

PAGE_SIZE = 1000
SEARCH_WORKERS = 3  # pages of one search fetched at once
_UNKNOWN = object()


class CkanCatalogue:
    """A live CKAN site (see catalogue.Catalogue for what each method gives)."""

    def __init__(self, transport: Transport, dataset_type: str | None = None, schema: Schema | None = None) -> None:
        self.transport = transport
        self.site = transport.site
        self.calls: list[str] = []  # the actions called, in order (what a test or a benchmark counts)
        self._orgs: list[Organization] | None = None
        self._orgs_with_parents: list[Organization] | None = None
        self._schema: Schema | None = schema  # given (--schema): the site's is not asked for
        self.dataset_type = dataset_type  # None: the site's only scheming type, else 'dataset'
        self._whoami: str | None | object = None if transport.anonymous else (transport.user or _UNKNOWN)

    def __repr__(self) -> str:  # never the key
        return f"CkanCatalogue({self.site!r})"

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """Call one action; errors come back as bcdc_bulk.errors."""
        self.calls.append(action)
        return self.transport.call(action, data, files)

    def packages_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The current packages with these ids (one search per 500 ids); deleted or unknown ones are absent."""
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            batch = ids[i:i + 500]
            page = self.call("package_search", fq="id:(" + " OR ".join(_solr_quote(x) for x in batch) + ")",
                             rows=len(batch), include_private=True, include_drafts=True)
            found.update({p["id"]: p for p in page.get("results") or [] if p.get("id") in batch})
        return found

    def package(self, ref: str) -> dict[str, Any] | None:
        """One package by id or name, as it is now (None when there is none)."""
        try:
            return self.call("package_show", id=ref)
        except NotFound:
            return None

    def schema(self) -> Schema:
        """The site's scheming schema of its dataset type; CKAN's core fields on a site without scheming."""
        if self._schema is None:
            kind = self.dataset_type or self._only_type()
            if kind is None:
                self._schema = core_schema()
            else:
                self._schema = schema_from_dict(self.call("scheming_dataset_schema_show", type=kind))
        return self._schema

    def _only_type(self) -> str | None:
        """The site's dataset type when it has one scheming schema (the BC Data Catalogue's when it is among
        several), else 'dataset'; None when the site runs no scheming."""
        try:
            types = list(self.call("scheming_dataset_schema_list"))
        except (TransientError, NotAuthorized):
            raise
        except CatalogueError:
            return None
        if len(types) == 1:
            return str(types[0])
        return DATASET_TYPE if DATASET_TYPE in types else "dataset"

    def licenses(self) -> list[dict[str, Any]]:
        """license_list of the site."""
        return list(self.call("license_list"))

    def organizations(self, parents: bool = False) -> list[Organization]:
        """Every organization (cached); with ``parents``, also the parents each names in its
        ``groups`` (a far slower listing on CKAN, so only asked for when the hierarchy is needed).

        CKAN caps organization_list with all_fields at ckan.group_and_organization_list_all_fields_max
        (25 by default) whatever limit is asked for, so it pages with offset until a short page."""
        cached = self._orgs_with_parents if parents else (self._orgs or self._orgs_with_parents)
        if cached is not None:
            return cached
        raw: list[dict[str, Any]] = []
        page_size = 0
        while True:
            page = self.call("organization_list", all_fields=True, include_groups=parents, limit=1000,
                             offset=len(raw), sort="name asc", include_dataset_count=False, include_extras=False,
                             include_users=False, include_tags=False, include_member_count=False)
            raw.extend(page)
            page_size = page_size or len(page)
            if len(page) < page_size or not page:  # a short page is the last one
                break
        orgs = sorted((organization_from(o) for o in raw), key=lambda o: o.name)
        if parents:
            self._orgs_with_parents = orgs
        else:
            self._orgs = orgs
        return orgs

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """package_search by owner_org, 1,000 a page, stable order (id asc)."""
        yield from self._search("owner_org:(" + " OR ".join(f'"{i}"' for i in org_ids) + ")")

    def all_packages(self) -> Iterator[dict[str, Any]]:
        """Every package the key may see, 1,000 a page, stable order (id asc)."""
        yield from self._search("")

    def _search(self, fq: str) -> Iterator[dict[str, Any]]:
        """All pages of a search. The first answer gives the count; the other pages are then
        fetched a few at a time (the server answers them in parallel), yielded in order."""
        def page(start: int) -> dict[str, Any]:
            return self.call("package_search", fq=fq, rows=PAGE_SIZE, start=start, sort="id asc",
                             include_private=True, include_drafts=True)

        first = page(0)
        results = first.get("results") or []
        yield from results
        count = int(first.get("count", 0))
        if not results or len(results) >= count:
            return
        starts = list(range(len(results), count, PAGE_SIZE))
        with ThreadPoolExecutor(max_workers=SEARCH_WORKERS) as pool:
            for answer in pool.map(page, starts):
                yield from answer.get("results") or []

    def user_name(self) -> str | None:
        """Who the calls are made as (None when anonymous or unknown)."""
        if self._whoami is _UNKNOWN:
            try:
                self._whoami = self._user_show()["name"]
            except CatalogueError:
                self._whoami = None
        return self._whoami  # type: ignore[return-value]

    def _user_show(self) -> dict[str, Any]:
        """The caller's user: the API key's (asked without an id), or the signed-in user's."""
        return self.call("user_show", **({"id": self.transport.user} if self.transport.user else {}))

    def members(self, org_ids: list[str]) -> list[Member] | None:
        """Each organization's members (one call each); their e-mail addresses only for a sysadmin,
        to whom CKAN's user list shows them (one call for everyone)."""
        found = []
        for oid in org_ids:
            org = self.call("organization_show", id=oid, include_users=True, include_datasets=False,
                            include_dataset_count=False, include_extras=False, include_followers=False)
            found += [Member(oid, u.get("name", ""), u.get("display_name") or u.get("name", ""),
                             u.get("capacity", ""), u.get("email") or "") for u in org.get("users") or []]
        if self.caller().sysadmin:
            emails = {u.get("name"): u.get("email") or "" for u in self.call("user_list") or []}
            found = [dataclasses.replace(m, email=emails.get(m.user, "")) for m in found]
        return found

    def caller(self) -> Caller:
        """The caller, whether a sysadmin, and their role in each organization (2 calls)."""
        if self.transport.anonymous:
            return Caller()
        user = self._user_show()
        self._whoami = user["name"]
        roles: dict[str, str] = {}
        if not user.get("sysadmin"):
            for org in self.call("organization_list_for_user", id=user["name"], permission="read"):
                roles[org["id"]] = org.get("capacity") or "member"
        return Caller(user=user["name"], sysadmin=bool(user.get("sysadmin")), roles=roles, known=True)

    def names_in_use(self, names: list[str]) -> set[str]:
        """One search per 100 names (private and draft records included)."""
        found: set[str] = set()
        for i in range(0, len(names), 100):
            batch = names[i:i + 100]
            page = self.call("package_search", fq="name:(" + " OR ".join(_solr_quote(n) for n in batch) + ")",
                             rows=len(batch), fl=["id", "name"], include_private=True, include_drafts=True)
            found |= {r["name"] for r in page.get("results") or [] if r.get("name") in batch}
        return found

    def titles_in_use(self, titles: list[str]) -> dict[str, str]:
        """One search per 20 titles; Solr matches words, so results are compared exactly."""
        found: dict[str, str] = {}
        for i in range(0, len(titles), 20):
            batch = titles[i:i + 20]
            page = self.call("package_search", fq="title:(" + " OR ".join(_solr_quote(t) for t in batch) + ")",
                             rows=PAGE_SIZE, fl=["id", "title"], include_private=True, include_drafts=True)
            found.update({r["title"]: r.get("id", "") for r in page.get("results") or [] if r.get("title") in batch})
        return found


def _solr_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def remote_catalogue(url: str, api_key: str | None = None, timeout: float = 60.0, dataset_type: str | None = None,
                     schema: Schema | None = None) -> CkanCatalogue:
    """A CKAN site over HTTP, as the API key's user (anonymous without one)."""
    return CkanCatalogue(HttpTransport(url, api_key, timeout), dataset_type, schema)


def local_catalogue(user: str, site: str) -> CkanCatalogue:
    """The CKAN this code runs inside (the web extension), as one signed-in user."""
    return CkanCatalogue(InProcessTransport(user, site))
