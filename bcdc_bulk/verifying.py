"""Verifying a write: the record the catalogue holds afterwards, compared with what the plan asked for.

The report says ``applied`` only when the catalogue holds every value the call carried. A server
can answer 200 and keep something else (package_revise merges a shorter list into the stored one;
a plugin drops or rewrites a field), so every change of a call is compared with the stored record
the write returned (or, where it returned none, read back), and what differs is said in words.
"""
from __future__ import annotations

from typing import Any

from bcdc_bulk.converters import same_value
from bcdc_bulk.invisible import invisible_difference
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import FieldChange, quoted


def value_now(pkg: dict[str, Any], change: FieldChange) -> tuple[bool, Any]:
    """(found, value) of a changed field in the package as it is now (a removed resource: found,
    None when it is gone; a resource that is gone: not found)."""
    if change.removal and change.resource_id:
        there = any(r.get("id") == change.resource_id for r in pkg.get("resources") or [])
        return True, change.old if there else None
    if change.resource_id:
        res = next((r for r in pkg.get("resources") or [] if r.get("id") == change.resource_id), None)
        return (False, None) if res is None else (True, res.get(change.field))
    return True, pkg.get(change.field)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def holds(stored: Any, asked: Any) -> bool:
    """True when the stored value is what was asked for: the same text to the character, the same
    entries in the same order; an absent key counts as empty."""
    if same_value(stored, asked) or (_empty(stored) and _empty(asked)):
        return True
    if isinstance(asked, dict) and isinstance(stored, dict):
        return all(holds(stored.get(k), asked.get(k)) for k in set(asked) | set(stored))
    if isinstance(asked, list) and isinstance(stored, list):
        return len(asked) == len(stored) and all(holds(s, a) for s, a in zip(stored, asked, strict=True))
    return False


def _resource(stored: dict[str, Any], resource_id: str) -> dict[str, Any] | None:
    return next((r for r in stored.get("resources") or [] if r.get("id") == resource_id), None)


def new_resource_in(stored: dict[str, Any], asked: dict[str, Any]) -> dict[str, Any] | None:
    """The stored resource a new resource became (found by its name, and its URL unless uploaded)."""
    for res in reversed(stored.get("resources") or []):
        if res.get("name") == asked.get("name") and (
                not asked.get("url") or res.get("url") == asked.get("url") or res.get("url_type") == "upload"):
            return res
    return None


def _entry_text(entry: Any) -> str:
    if isinstance(entry, dict):
        named = [str(entry[k]) for k in ("name", "title", "description", "email", "url") if entry.get(k)]
        return quoted(named[0] if named else ", ".join(str(v) for v in entry.values() if v not in ("", None, [])))
    return quoted(entry)


def _list_shortfall(label: str, stored: list[Any], asked: list[Any]) -> str:
    parts = []
    for i in range(max(len(stored), len(asked))):
        if i >= len(asked):
            parts.append(said(Say.ENTRY_NOT_GONE, label=label, number=i + 1, entry=_entry_text(stored[i])))
        elif i >= len(stored):
            parts.append(said(Say.ENTRY_MISSING, label=label, number=i + 1, entry=_entry_text(asked[i])))
        elif not holds(stored[i], asked[i]):
            parts.append(said(Say.ENTRY_DIFFERS, label=label, number=i + 1, asked=quoted(asked[i]),
                              stored=quoted(stored[i])))
    return "; ".join(parts)


def shortfall(label: str, stored: Any, asked: Any) -> str:
    """What the catalogue holds instead of what was asked, in words."""
    if isinstance(asked, list) and isinstance(stored, list) and stored and any(isinstance(e, dict) for e in stored):
        return _list_shortfall(label, stored, asked)
    if isinstance(asked, list) and not asked and isinstance(stored, list):
        return _list_shortfall(label, stored, asked)
    unseen = invisible_difference(stored, asked)
    holds_instead = said(Say.HOLDS_INSTEAD, label=label, asked=quoted(asked if asked is not None else ""),
                         stored=quoted(stored if stored is not None else ""))
    return said(Say.UNSEEN, said=holds_instead, unseen=unseen) if unseen else holds_instead


def change_shortfall(change: FieldChange, stored: dict[str, Any] | None) -> str | None:
    """None when the stored record holds this change; else what it holds instead."""
    if change.removal and change.resource_id:
        there = stored is not None and _resource(stored, change.resource_id) is not None
        name = (change.old or {}).get("name") or change.resource_id
        return said(Say.STILL_HAS_RESOURCE, name=quoted(name)) if there else None
    if change.removal:
        gone = stored is None or stored.get("state") == "deleted"
        return None if gone else said(Say.STILL_HAS_DATASET)
    if stored is None:
        return said(Say.NOT_READ_BACK)
    if change.field == "resources" and change.resource_id is None:
        return _new_resource_shortfall(change.new or {}, stored)
    container = stored if change.resource_id is None else _resource(stored, change.resource_id)
    if container is None:
        return said(Say.RESOURCE_GONE)
    if holds(container.get(change.field), change.new):
        return None
    return shortfall(change.label, container.get(change.field), change.new)


def _new_resource_shortfall(asked: dict[str, Any], stored: dict[str, Any]) -> str | None:
    found = new_resource_in(stored, asked)
    if found is None:
        return said(Say.NEW_RESOURCE_MISSING, name=quoted(asked.get("name") or ""))
    wrong = [shortfall(said(Say.NEW_RESOURCE_FIELD, key=key), found.get(key), value) for key, value in asked.items()
             if key != "url" and not holds(found.get(key), value)]
    return "; ".join(wrong) or None
