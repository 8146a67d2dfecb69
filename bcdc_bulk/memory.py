"""An in-memory catalogue that reads and writes as CKAN does (revise with ``match``, patch, create,
delete, the schema's checks, roles); FaultyCatalogue wraps one to inject faults: apply, resume, conflicts and undo run
against it in milliseconds. Contract tests run the same scenarios against a real CKAN.
"""
from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bcdc_bulk import revise
from bcdc_bulk.catalogue import Caller, Member, Organization, in_id_order, names_among, organization_labels, titles_among
from bcdc_bulk.errors import NotAuthorized, NotFound, ServerValidationError, TransientError
from bcdc_bulk.problems import ERROR
from bcdc_bulk.schema import Schema, shipped_licenses, shipped_schema

# what a fault does to one call: "503" or "429" (refused, not done), "500" (failed, not done),
# "timeout" (no answer, not done) or "lost" (done, but the answer never came back)
Faults = Callable[[str, dict[str, Any]], str | None]
WRITES = ("package_revise", "package_patch", "resource_patch", "package_create", "resource_create",
          "package_delete", "resource_delete")


class MemoryCatalogue:
    """A catalogue held in memory, acting as ``user`` with ``roles`` (organization id -> role)."""

    site = "memory://catalogue"  # standing in for the site's URL

    def __init__(self, packages: list[dict[str, Any]], organizations: list[Organization], user: str = "editor",
                 roles: dict[str, str] | None = None, sysadmin: bool = False) -> None:
        self.store: dict[str, dict[str, Any]] = {p["id"]: copy.deepcopy(p) for p in packages}
        self._orgs = sorted(organizations, key=lambda o: o.name)
        self.user, self.roles, self.sysadmin = user, dict(roles or {}), sysadmin
        self.landed: list[tuple[str, str]] = []  # (action, package id) of every write that took effect
        self.calls: list[str] = []

    # --- reads, as a search and package_show give them --------------------------------------------

    def schema(self) -> Schema:
        """The BC Data Catalogue's schema, as shipped."""
        return shipped_schema()

    def licenses(self) -> list[dict[str, Any]]:
        """The licence list shipped with bcdc-bulk."""
        return shipped_licenses()

    def organizations(self, parents: bool = False) -> list[Organization]:
        """The organizations it was made with."""
        return self._orgs

    def packages_of(self, org_ids: list[str]) -> Iterator[dict[str, Any]]:
        """Packages whose owner_org is one of ``org_ids``, by id."""
        wanted = set(org_ids)
        yield from (p for p in in_id_order(self._copies()) if p.get("owner_org") in wanted)

    def all_packages(self) -> Iterator[dict[str, Any]]:
        """Every package (deleted ones left out), by id."""
        yield from in_id_order(self._copies())

    def _copies(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(p) for p in self.store.values()]

    def user_name(self) -> str | None:
        """Who the calls are made as."""
        return self.user

    def caller(self) -> Caller:
        """The user and their roles, as organization_list_for_user gives them."""
        return Caller(user=self.user, sysadmin=self.sysadmin, roles=dict(self.roles), known=True)

    def members(self, org_ids: list[str]) -> list[Member] | None:
        """Unknown: it holds no users."""
        return None

    def names_in_use(self, names: list[str]) -> set[str]:
        """Names of its packages among ``names``."""
        return names_among(self.store.values(), names)

    def titles_in_use(self, titles: list[str]) -> dict[str, str]:
        """Titles of its packages among ``titles``."""
        return titles_among(self.store.values(), titles)

    def packages_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The current packages with these ids (deleted ones absent, as a search leaves them out)."""
        return {i: copy.deepcopy(self.store[i]) for i in ids if i in self.store and self._active(self.store[i])}

    def package(self, ref: str) -> dict[str, Any] | None:
        """One package by id or name, deleted ones included (as package_show gives them to an editor)."""
        found = self.store.get(ref) or next((p for p in self.store.values() if p.get("name") == ref), None)
        return copy.deepcopy(found) if found is not None else None

    @staticmethod
    def _active(pkg: dict[str, Any]) -> bool:
        return pkg.get("state", "active") != "deleted"

    # --- writes ---------------------------------------------------------------------------------

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """One action, as CkanCatalogue.call: CKAN's answer, or a bcdc_bulk error."""
        self.calls.append(action)
        if files and files.get("upload") is not None:  # as CKAN stores an upload: its file name, url_type upload
            data = dict(data, url_type="upload", url=Path(getattr(files["upload"], "name", "upload")).name)
        return getattr(self, "_" + action)(data)

    def _writable(self, ref: str) -> dict[str, Any]:
        pkg = self.store.get(ref) or next((p for p in self.store.values() if p.get("name") == ref), None)
        if pkg is None or not self._active(pkg):
            raise NotFound(f"no record {ref}")
        self._may_edit(pkg.get("owner_org"))
        return pkg

    def _may_edit(self, org: str | None) -> None:
        if not self.sysadmin and self.roles.get(org or "") not in ("editor", "admin"):
            raise NotAuthorized(f"{self.user} may not edit records of {org}")

    def _save(self, pkg: dict[str, Any], action: str) -> dict[str, Any]:
        """Check the whole record as the server does, then store it."""
        from bcdc_bulk.validation import CatalogueFacts, RecordChecker

        orgs = organization_labels(self.organizations())
        lookups = CatalogueFacts(licence_ids={str(x["id"]) for x in shipped_licenses()}, org_ids=set(orgs), org_names=orgs)
        errors: dict[str, list[str]] = {}
        for issue in RecordChecker(shipped_schema(), lookups).check(pkg):
            if issue.severity == ERROR:
                errors.setdefault(str(next((p for p in issue.path if isinstance(p, str)), "")), []).append(
                    issue.message)
        if errors:
            raise ServerValidationError(f"rejected: {errors}", errors)
        pkg["metadata_modified"] = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat()
        self.store[pkg["id"]] = pkg
        self.landed.append((action, pkg["id"]))
        return copy.deepcopy(pkg)

    def _package_revise(self, data: dict[str, Any]) -> dict[str, Any]:
        """As CKAN 2.11's package_revise: ``match`` checked, then ``filter``, ``update`` (lists merged
        entry by entry: a shorter list leaves the stored entries beyond it), then ``update__`` keys."""
        current = self._writable(data["match"]["id"])
        pkg = copy.deepcopy(current)
        unmatched = [k for k, v in data["match"].items() if pkg.get(k) != v]
        for key, value in data.items():
            if key.startswith("match__"):
                unmatched += revise.unmatched(pkg, key[len("match__"):], value)
        if unmatched:
            raise ServerValidationError("match failed", {"match": unmatched})
        if data.get("filter"):
            revise.filter_out(pkg, data["filter"])
            pkg["id"] = current["id"]
        try:
            revise.merge_dict(pkg, copy.deepcopy(data.get("update") or {}))
            for key in sorted((k for k in data if k.startswith("update__")), key=lambda k: not k.endswith("__extend")):
                for res in revise.merge_at(pkg, key[len("update__"):], copy.deepcopy(data[key])):
                    res.setdefault("id", str(uuid.uuid4()))
                    res["package_id"] = pkg["id"]
        except revise.Unmatched as exc:
            raise ServerValidationError(f"update failed: {exc}", {"update": [str(exc)]}) from None
        return {"package": self._save(pkg, "package_revise")}

    def _package_patch(self, data: dict[str, Any]) -> dict[str, Any]:
        pkg = copy.deepcopy(self._writable(data["id"]))
        pkg.update({k: v for k, v in data.items() if k != "id"})
        return self._save(pkg, "package_patch")

    def _resource_patch(self, data: dict[str, Any]) -> dict[str, Any]:
        owner = next((p for p in self.store.values() if any(r.get("id") == data["id"] for r in p.get("resources") or [])),
                     None)
        if owner is None:
            raise NotFound(f"no resource {data['id']}")
        pkg = copy.deepcopy(self._writable(owner["id"]))
        next(r for r in pkg["resources"] if r["id"] == data["id"]).update(data)
        saved = self._save(pkg, "resource_patch")
        return next(r for r in saved["resources"] if r["id"] == data["id"])  # CKAN answers with the resource

    def _resource_create(self, data: dict[str, Any]) -> dict[str, Any]:
        pkg = copy.deepcopy(self._writable(data["package_id"]))
        resource = dict(data, id=str(uuid.uuid4()), package_id=pkg["id"])
        pkg.setdefault("resources", []).append(resource)
        self._save(pkg, "resource_create")
        return resource

    def _package_create(self, data: dict[str, Any]) -> dict[str, Any]:
        self._may_edit(data.get("owner_org"))
        if any(p.get("name") == data.get("name") for p in self.store.values()):
            raise ServerValidationError("name in use", {"name": ["That URL is already in use."]})
        pkg = dict(copy.deepcopy(data), id=str(uuid.uuid4()), state="active")
        pkg["resources"] = [dict(r, id=str(uuid.uuid4()), package_id=pkg["id"]) for r in data.get("resources") or []]
        return self._save(pkg, "package_create")

    def _package_delete(self, data: dict[str, Any]) -> None:
        pkg = self._writable(data["id"])
        pkg["state"] = "deleted"
        self.landed.append(("package_delete", pkg["id"]))

    def _resource_delete(self, data: dict[str, Any]) -> None:
        owner = next((p for p in self.store.values() if any(r.get("id") == data["id"] for r in p.get("resources") or [])),
                     None)
        if owner is None:
            raise NotFound(f"no resource {data['id']}")
        pkg = self._writable(owner["id"])
        pkg["resources"] = [r for r in pkg["resources"] if r.get("id") != data["id"]]
        self.landed.append(("resource_delete", pkg["id"]))


class FaultyCatalogue:
    """A catalogue whose writes fail as a network or a busy server makes them fail, as ``faults``
    decides call by call; everything else is the wrapped catalogue's."""

    def __init__(self, inner: MemoryCatalogue, faults: Faults | None = None) -> None:
        self.inner = inner
        self.faults = faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        """The wrapped catalogue's call, unless a fault comes first (or loses its answer after)."""
        fault = self.faults(action, data) if self.faults and action in WRITES else None
        if fault in ("503", "429"):
            self.inner.calls.append(action)
            raise TransientError(f"busy (HTTP {fault})", status=int(fault))
        if fault in ("500", "timeout"):
            self.inner.calls.append(action)
            raise TransientError(f"failed ({fault})", status=500 if fault == "500" else None, maybe_done=True)
        answer = self.inner.call(action, files, **data)
        if fault == "lost":
            raise TransientError("the answer was lost", maybe_done=True)
        return answer
