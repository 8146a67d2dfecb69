"""One interface to a catalogue: a live CKAN site, or a dump file on disk.

API errors are translated here, and only here, into bcdc_bulk.errors.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bcdc_bulk.about import VERSION
from bcdc_bulk.errors import (
    BulkError,
    CatalogueError,
    NotAuthorized,
    NotFound,
    ServerValidationError,
    TransientError,
)
from bcdc_bulk.schema import DATASET_TYPE, Schema, core_schema, schema_from_dict, shipped_licenses, shipped_schema
from bcdc_bulk.settings import Remote

PAGE_SIZE = 1000
SEARCH_WORKERS = 3  # pages of one search fetched at once
_UNKNOWN = object()
# What each action does, in the words an editor would use in an error message.
DOING = {
    "package_search": "reading the records", "organization_list": "listing the organizations",
    "license_list": "reading the licence list", "scheming_dataset_schema_show": "reading the schema",
    "user_show": "checking who the API key belongs to", "package_show": "reading a record",
    "organization_list_for_user": "checking your roles in the organizations",
    "organization_show": "reading an organization's members", "user_list": "reading the users' e-mail addresses",
    "package_patch": "saving a dataset", "package_revise": "saving a dataset", "resource_patch": "saving a resource",
    "package_create": "creating a dataset", "resource_create": "creating a resource",
}
USER_AGENT = f"bcdc-bulk/{VERSION}"
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

    def access(self) -> dict[str, Any] | None:
        """{'user', 'sysadmin', 'roles': {org id: role}} of the caller; None when unknown (offline)."""

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
        errors as bcdc_bulk.errors. Three catalogues answer: RemoteCatalogue (a live CKAN),
        MemoryCatalogue (in memory, for tests and dry runs) and FileCatalogue (read-only: refuses)."""


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
                    found[raw["name"]] = _org(raw)
            for pkg in self._records():
                raw = pkg.get("organization")
                if raw and raw.get("name") not in found:
                    found[raw["name"]] = _org(raw)
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
            yield from sorted((p for p in self._load() if p.get("state") != "deleted"), key=lambda p: p.get("id") or "")
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

    def access(self) -> dict[str, Any] | None:
        """Offline: roles are unknown."""
        return None

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
        wanted = set(names)
        return {p["name"] for p in self._load() if p.get("name") in wanted}

    def titles_in_use(self, titles: list[str]) -> dict[str, str]:
        """Titles of the file's packages among ``titles``."""
        wanted = set(titles)
        return {p["title"]: p.get("id", "") for p in self._load() if p.get("title") in wanted}

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


def _org(raw: dict[str, Any]) -> Organization:
    parents = tuple(g.get("name") or g.get("id") for g in raw.get("groups") or [])
    return Organization(id=raw.get("id") or raw["name"], name=raw["name"],
                        title=raw.get("title") or raw["name"], parents=parents)


class RemoteCatalogue:
    """A live CKAN site reached with ckanapi."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0,
                 dataset_type: str | None = None, schema: Schema | None = None) -> None:
        import threading

        import ckanapi
        import requests

        self.site = url.rstrip("/")
        # the last response of each thread: ckanapi's errors do not carry the status or headers
        self._local = threading.local()
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self._ckan = ckanapi.RemoteCKAN(self.site, apikey=api_key, user_agent=USER_AGENT, session=session)
        self._timeout = timeout
        self.calls: list[str] = []
        self._orgs: list[Organization] | None = None
        self._orgs_with_parents: list[Organization] | None = None
        self._schema: Schema | None = schema  # given (--schema): the site's is not asked for
        self.dataset_type = dataset_type  # None: the site's only scheming type, else 'dataset'
        self._whoami: str | None | object = _UNKNOWN if api_key else None

    def __repr__(self) -> str:  # never show the key
        return f"RemoteCatalogue({self.site!r})"

    def _remember(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._local.response = response
        return response

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """Call one action; errors come back as bcdc_bulk.errors (the one place they are mapped)."""
        import ckanapi
        import requests

        self.calls.append(action)
        doing = DOING.get(action, f"calling {action}")
        where = f"the catalogue at {self.site}"
        self._local.response = None
        try:
            return self._ckan.call_action(action, data, files=files, requests_kwargs={"timeout": self._timeout})
        except ckanapi.NotAuthorized:
            raise NotAuthorized(f"{where} refused access while {doing}: the API key is missing, expired, "
                                "or has no rights here") from None
        except ckanapi.NotFound:
            raise NotFound(f"{where} has no such record (while {doing})") from None
        except ckanapi.ValidationError as exc:
            errors = exc.error_dict if isinstance(exc.error_dict, dict) else {"": exc.error_dict}
            errors = {k: v for k, v in errors.items() if k != "__type"}
            raise ServerValidationError(f"{where} rejected the record: {_summary(errors)}", errors) from None
        except ckanapi.CKANAPIError:
            response = getattr(self._local, "response", None)
            status = response.status_code if response is not None else None
            if status == 500:
                raise TransientError(f"{where} failed with an internal error (HTTP 500) while {doing}: "
                                     f"{_server_words(response)}", status=status, maybe_done=True) from None
            if status in (429, 502, 503, 504):
                raise TransientError(f"{where} is busy or unavailable (HTTP {status}) while {doing}; "
                                     "try again later", status=status, retry_after=_retry_after(response),
                                     maybe_done=status in (502, 504)) from None
            code = f"HTTP {status}" if status else "an unexpected answer"
            raise CatalogueError(f"{where} failed while {doing} ({code})") from None
        except requests.Timeout:
            raise TransientError(f"{where} did not answer within {self._timeout:.0f} s while {doing}",
                                 maybe_done=True) from None
        except requests.ConnectionError:
            raise TransientError(f"cannot connect to {self.site} (while {doing}); check the address and "
                                 "your network", maybe_done=True) from None

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
        orgs = sorted((_org(o) for o in raw), key=lambda o: o.name)
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
        from concurrent.futures import ThreadPoolExecutor

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
        """The name of the key's user (None when anonymous or unknown)."""
        if self._whoami is _UNKNOWN:
            try:
                self._whoami = self.call("user_show")["name"]
            except CatalogueError:
                self._whoami = None
        return self._whoami  # type: ignore[return-value]

    def members(self, org_ids: list[str]) -> list[Member] | None:
        """Each organization's members (one call each); their e-mail addresses only for a sysadmin,
        to whom CKAN's user list shows them (one call for everyone)."""
        found = []
        for oid in org_ids:
            org = self.call("organization_show", id=oid, include_users=True, include_datasets=False,
                            include_dataset_count=False, include_extras=False, include_followers=False)
            found += [Member(oid, u.get("name", ""), u.get("display_name") or u.get("name", ""),
                             u.get("capacity", ""), u.get("email") or "") for u in org.get("users") or []]
        who = self.access() or {}
        if who.get("sysadmin"):
            emails = {u.get("name"): u.get("email") or "" for u in self.call("user_list") or []}
            found = [dataclasses.replace(m, email=emails.get(m.user, "")) for m in found]
        return found

    def access(self) -> dict[str, Any] | None:
        """The key's user, whether a sysadmin, and their role in each organization (2 calls)."""
        if self._whoami is None:
            return {"user": None, "sysadmin": False, "roles": {}}
        user = self.call("user_show")
        self._whoami = user["name"]
        roles: dict[str, str] = {}
        if not user.get("sysadmin"):
            for org in self.call("organization_list_for_user", id=user["name"], permission="read"):
                roles[org["id"]] = org.get("capacity") or "member"
        return {"user": user["name"], "sysadmin": bool(user.get("sysadmin")), "roles": roles}

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


def _server_words(response: Any) -> str:
    """What the server said with an error (its JSON message, or the start of its page's text)."""
    import re

    try:
        error = response.json().get("error") or {}
        words = error.get("message") if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        words = re.sub(r"<[^>]+>|\s+", " ", getattr(response, "text", "") or "").strip()
    return (words or "no details given")[:200]


def _retry_after(response: Any) -> float | None:
    """Seconds the server asked to wait (Retry-After in seconds; HTTP dates are not used by CKAN)."""
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _summary(errors: dict[str, Any]) -> str:
    parts = []
    for key, value in errors.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        parts.append(f"{key}: {value}" if key else str(value))
    return ", ".join(parts)[:500]


class LocalCatalogue(RemoteCatalogue):
    """The CKAN this code runs inside (the web extension), acting as one signed-in user: their roles
    decide what may be read and written, and no API key is involved. Actions are called in-process
    through ckanapi's LocalCKAN, whose errors are CKAN's own and are mapped as RemoteCatalogue maps them."""

    def __init__(self, user: str, site: str) -> None:
        import ckanapi

        super().__init__(site)
        self._ckan = ckanapi.LocalCKAN(username=user)  # never None: that would be the site user
        self._whoami = user
        self._app = _flask_app()

    def __repr__(self) -> str:
        return f"LocalCatalogue({self._whoami!r})"

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """Call one action in-process, inside the application's context (apply's worker threads have none)."""
        import contextlib

        context = self._app.app_context() if self._app is not None and not _has_app_context() else \
            contextlib.nullcontext()
        with context:
            try:
                return super().call(action, files, **data)
            except BulkError:
                raise
            except Exception as exc:  # a crash inside an action is what HTTP would show as a 500
                _rollback()
                raise TransientError(f"the catalogue failed while {DOING.get(action, action)}: "
                                     f"{type(exc).__name__}: {str(exc)[:160]}", status=500, maybe_done=True) from None

    def access(self) -> dict[str, Any] | None:
        """The user, whether a sysadmin, and their role in each organization."""
        user = self.call("user_show", id=self._whoami)
        roles: dict[str, str] = {}
        if not user.get("sysadmin"):
            for org in self.call("organization_list_for_user", id=user["name"], permission="read"):
                roles[org["id"]] = org.get("capacity") or "member"
        return {"user": user["name"], "sysadmin": bool(user.get("sysadmin")), "roles": roles}


def _flask_app() -> Any:
    try:
        from flask import current_app

        return current_app._get_current_object()  # type: ignore[attr-defined]
    except (ImportError, RuntimeError):  # outside an application context
        return None


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


def _rollback() -> None:
    try:
        from ckan import model

        model.Session.rollback()
    except Exception:  # noqa: BLE001 (best effort: the session may already be gone)
        pass


def open_catalogue(remote: Remote, api_key: str | None = None, schema: Schema | None = None,
                   dataset_type: str | None = None) -> Catalogue:
    """The Catalogue behind a Remote (``schema``: the catalogue's own, from a file; ``dataset_type``:
    which of a site's schemas)."""
    if remote.is_file:
        assert remote.path is not None
        return FileCatalogue(remote.path, given_schema=schema)
    assert remote.url is not None
    return RemoteCatalogue(remote.url, api_key, dataset_type=dataset_type, schema=schema)
