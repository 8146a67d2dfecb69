"""What CKAN's ``package_revise`` does to a stored record, for the in-memory catalogue.

Written from CKAN 2.11's documented behaviour (ckan.logic.action.update.package_revise and the
helpers it calls), because the tool's correctness depends on its surprises:

- ``update`` merges: a dict is merged key by key (keys it does not name are kept), and a list is
  merged entry by entry, so a *shorter* list leaves the stored entries beyond its end in place
  and an entry that lost a key keeps it. Only a key the record does not have is set whole.
- ``filter`` removes keys (``-contacts``) or list entries; ``+`` protects, ``*`` is every key.
- String keys (``resources__1492a__format``) walk dicts by key and lists by index or by the
  start (5 characters or more) of an entry's id.

So a list is replaced exactly only by filtering it out first and then updating it.
"""
from __future__ import annotations

from typing import Any


class Unmatched(ValueError):
    """A string key names something the record does not have."""


def _step(current: Any, key: str) -> tuple[Any, Any]:
    """(child, its key or index) one step down a string key."""
    if isinstance(current, dict):
        if key not in current:
            raise Unmatched(key)
        return current[key], key
    if not isinstance(current, list):
        raise Unmatched(key)
    if len(key) >= 5:
        for i, entry in enumerate(current):
            if isinstance(entry, dict) and str(entry.get("id", "")).startswith(key):
                return entry, i
        raise Unmatched(key)
    try:
        index = int(key)
        return current[index], index
    except (ValueError, IndexError):
        raise Unmatched(key) from None


def resolve(data: Any, string_key: str) -> tuple[Any, tuple]:
    """(what the string key names, its path of keys and indexes)."""
    path: list[Any] = []
    for key in string_key.split("__"):
        data, step = _step(data, key)
        path.append(step)
    return data, tuple(path)


def _unmatched_in(current: Any, expected: Any, path: tuple) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(current, dict):
            return ["__".join(map(str, path))]
        return [m for k, v in sorted(expected.items())
                for m in (["__".join(map(str, path + (k,)))] if k not in current else
                          _unmatched_in(current[k], v, path + (k,)))]
    if isinstance(expected, list):
        if not isinstance(current, list):
            return ["__".join(map(str, path))]
        return [m for i, v in enumerate(expected)
                for m in (["__".join(map(str, path + (i,)))] if i >= len(current) else
                          _unmatched_in(current[i], v, path + (i,)))]
    return [] if current == expected else ["__".join(map(str, path))]


def unmatched(pkg: dict[str, Any], string_key: str, value: Any) -> list[str]:
    """The paths where ``match__<string_key>`` does not hold in the record."""
    try:
        current, path = resolve(pkg, string_key)
    except Unmatched:
        return [string_key]
    return _unmatched_in(current, value, path)


def filter_out(data: Any, patterns: list[str]) -> None:
    """Remove what ``filter`` patterns name (in place); ``+`` patterns protect, first match wins."""
    _filter(data, [(p.startswith("+"), p.lstrip("+-").split("__")) for p in patterns])


def _filter(data: Any, globs: list[tuple[bool, list[str]]]) -> None:
    if isinstance(data, dict):
        keys = list(data)
    elif isinstance(data, list):
        keys = list(range(len(data)))
    else:
        return
    verdict: dict[Any, bool] = {}  # key -> kept (True) or removed (False), first pattern wins
    deeper: dict[Any, list[tuple[bool, list[str]]]] = {}
    for keep, parts in globs:
        for key in _matching(data, keys, parts[0]):
            if len(parts) > 1:
                deeper.setdefault(key, []).append((keep, parts[1:]))
            else:
                verdict.setdefault(key, keep)
    removed = {k for k, keep in verdict.items() if not keep}
    for key, sub in deeper.items():
        if key not in removed:
            _filter(data[key], sub)
    if isinstance(data, dict):
        for key in removed:
            del data[key]
    else:
        data[:] = [e for i, e in enumerate(data) if i not in removed]


def _matching(data: Any, keys: list[Any], head: str) -> list[Any]:
    if head == "*":
        return keys
    try:
        return [_step(data, head)[1]]
    except Unmatched:
        return []


def merge_dict(target: dict[str, Any], update: Any) -> None:
    """``update`` merged into ``target`` as package_revise merges it."""
    if not isinstance(update, dict):
        raise Unmatched("expected a dict")
    for key, value in update.items():
        if key not in target:
            target[key] = value
        elif isinstance(target[key], dict):
            merge_dict(target[key], value)
        elif isinstance(target[key], list):
            merge_list(target[key], value)
        else:
            target[key] = value


def merge_list(target: list[Any], update: Any) -> None:
    """``update`` merged into ``target`` entry by entry; entries past its end stay."""
    if not isinstance(update, list):
        raise Unmatched("expected a list")
    for i, value in enumerate(update):
        if i >= len(target):
            target.append(value)
        elif isinstance(target[i], dict):
            merge_dict(target[i], value)
        elif isinstance(target[i], list):
            merge_list(target[i], value)
        else:
            target[i] = value


def merge_at(pkg: dict[str, Any], string_key: str, value: Any) -> list[Any]:
    """``update__<string_key>`` applied; the entries an ``__extend`` appended (else [])."""
    *parents, last = string_key.split("__")
    holder = resolve(pkg, "__".join(parents))[0] if parents else pkg
    if isinstance(holder, dict):
        merge_dict(holder, {last: value})
        return []
    if not isinstance(holder, list):
        raise Unmatched(string_key)
    if last == "extend":
        holder.extend(value)
        return list(value)
    child, index = _step(holder, last)
    if isinstance(child, dict):
        merge_dict(child, value)
    elif isinstance(child, list):
        merge_list(child, value)
    else:
        holder[index] = value
    return []
