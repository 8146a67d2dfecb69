"""The calls that carry a record's changes: what is sent to the catalogue for a Plan.

`package_revise` by default (one call a record, refused by the server when a field being written
changed since the export); `package_patch` and `resource_patch` with --method patch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bcdc_bulk.plan import FieldChange, Plan, RecordPlan

PATCH, REVISE = "patch", "revise"


@dataclass
class Call:
    """One API call of the plan, with the changes it carries."""

    action: str  # package_patch | resource_patch | resource_create | package_create | package_revise |
    # resource_delete | package_delete
    record: str  # RecordPlan.key
    data: dict[str, Any]
    changes: list[FieldChange] = field(default_factory=list)
    upload: str | None = None  # a local file sent with resource_create

    @property
    def target(self) -> str:
        """The id (or name) of what the call writes to."""
        data = self.data
        return str(data.get("id") or data.get("package_id") or (data.get("match") or {}).get("id")
                   or data.get("name") or "")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what `plan --json` prints)."""
        return {"action": self.action, "record": self.record, "data": self.data, "upload": self.upload,
                "changes": [{"field": c.label, "old": c.old, "new": c.new,
                             "cell": f"{c.cell.sheet}!{c.cell.column}{c.cell.row}" if c.cell and c.cell.row else None}
                            for c in self.changes]}


def is_upload(resource: dict[str, Any]) -> bool:
    """True when a new resource's URL is a local file to upload (no scheme://)."""
    url = str(resource.get("url") or "")
    return bool(url) and not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE)


def _structured(change: FieldChange) -> bool:
    """True for a value package_revise would merge rather than replace (a list or a dict): it merges
    a list entry by entry and keeps stored entries past the end of a shorter one, so such a value is
    filtered out first and then sent whole, or (emptied) only filtered out."""
    return isinstance(change.new, (list, dict))


def _emptied(change: FieldChange) -> bool:
    """True when a list of entries (contacts, links, a resource's extent ...) becomes empty."""
    return isinstance(change.new, list) and not change.new


def _revise_data(pid: str, dataset: list[FieldChange], by_resource: dict[str, list[FieldChange]]) -> dict[str, Any]:
    """package_revise's arguments for a record's changes (new resources apart)."""
    # match: the server refuses the call if a field being written changed since it was read
    match = {"id": pid} | {c.field: c.old for c in dataset if isinstance(c.old, str) and c.old}
    data: dict[str, Any] = {"match": match, "update": {c.field: c.new for c in dataset if not _emptied(c)}}
    removed = [f"-{c.field}" for c in dataset if _structured(c)]
    for resource_id, changes in by_resource.items():
        update = {c.field: c.new for c in changes if not _emptied(c)}
        if update:
            data[f"update__resources__{resource_id}"] = update
        removed += [f"-resources__{resource_id}__{c.field}" for c in changes if _structured(c)]
        for c in changes:
            if isinstance(c.old, str) and c.old:
                data[f"match__resources__{resource_id}__{c.field}"] = c.old
    if removed:
        data["filter"] = removed
    return data


def record_calls(rec: RecordPlan, method: str = REVISE) -> list[Call]:
    """The calls that write one record. Only changed fields are sent: in CKAN a list
    field (resources, tags, contacts) sent in a patch replaces the whole list."""
    if rec.action == "create":
        pkg = {k: v for k, v in rec.after.items() if k != "resources"}
        inline = [r for r in rec.after.get("resources") or [] if not is_upload(r)]
        calls = [Call("package_create", rec.key, dict(pkg, resources=inline), list(rec.changes))]
        for res in rec.after.get("resources") or []:
            if is_upload(res):
                calls.append(Call("resource_create", rec.key, {k: v for k, v in res.items() if k != "url"},
                                  upload=str(res["url"])))
        return calls
    pid = rec.after["id"]
    if rec.action == "delete":  # its other edits are moot
        return [Call("package_delete", rec.key, {"id": pid}, [c for c in rec.changes if c.removal])]
    # removals first: the catalogue checks the whole record on the saves that follow
    calls = [Call("resource_delete", rec.key, {"id": c.resource_id}, [c]) for c in rec.removed_resources()]
    dataset = rec.dataset_changes()
    by_resource = rec.resource_changes()
    new_resources = [rec.after["resources"][i] for i in rec.new_resources]
    new_changes = [c for c in dataset if c.field == "resources"]
    dataset = [c for c in dataset if c.field != "resources"]
    if method == REVISE:
        data = _revise_data(pid, dataset, by_resource)
        inline = [r for r in new_resources if not is_upload(r)]
        if inline:
            data["update__resources__extend"] = inline
        if dataset or by_resource or inline:
            calls.append(Call("package_revise", rec.key, data, dataset + [c for cs in by_resource.values() for c in cs]
                              + [c for c in new_changes if not is_upload(c.new)]))
    else:
        if dataset:
            calls.append(Call("package_patch", rec.key, dict({"id": pid}, **{c.field: c.new for c in dataset}),
                              dataset))
        for resource_id, changes in by_resource.items():
            calls.append(Call("resource_patch", rec.key, dict({"id": resource_id}, **{c.field: c.new for c in changes}),
                              changes))
        for res, change in zip(new_resources, new_changes, strict=True):
            if not is_upload(res):
                calls.append(Call("resource_create", rec.key, dict(res, package_id=pid), [change]))
    for res, change in zip(new_resources, new_changes, strict=True):
        if is_upload(res):
            calls.append(Call("resource_create", rec.key,
                              dict({k: v for k, v in res.items() if k != "url"}, package_id=pid), [change],
                              upload=str(res["url"])))
    return calls


def plan_calls(plan: Plan, method: str = REVISE, skip: set[str] | None = None) -> list[Call]:
    """Every call of the plan, record by record (records in ``skip`` left out)."""
    return [call for rec in plan.records if rec.key not in (skip or set()) for call in record_calls(rec, method)]
