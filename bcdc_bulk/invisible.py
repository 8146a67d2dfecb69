"""Differences a person cannot see in a cell or on a page, said in words.

Two texts that look the same can differ in line endings, spaces at the ends, tabs or
non-breaking spaces. A message that shows both would look like no difference at all, so these
are named instead.
"""
from __future__ import annotations

import re

NBSP = "\u00a0"
_KINDS = (
    ("line endings (Windows \\r\\n, old Mac \\r or Unix \\n)", lambda t: re.sub(r"\r\n?", "\n", t)),
    ("spaces at the start or end of a line", lambda t: "\n".join(line.strip(" ") for line in t.split("\n"))),
    ("tabs where there are spaces", lambda t: t.replace("\t", " ")),
    ("non-breaking spaces where there are spaces", lambda t: t.replace(NBSP, " ")),
    ("invisible characters (zero-width spaces or joiners)", lambda t: re.sub("[\u200b-\u200d\u2060\ufeff]", "", t)),
)


def _evened(text: str, skip: int = -1) -> str:
    """The text with every invisible difference evened out (but kind ``skip``)."""
    for i, (_, even) in enumerate(_KINDS):
        text = text if i == skip else even(text)
    return text


def invisible_difference(a: object, b: object) -> str | None:
    """How two texts differ when the difference cannot be seen ('they differ only in line endings ...'),
    else None (the same, not both text, or a difference a person can see)."""
    if not isinstance(a, str) or not isinstance(b, str) or a == b or _evened(a) != _evened(b):
        return None
    kinds = [name for i, (name, _) in enumerate(_KINDS) if _evened(a, skip=i) != _evened(b, skip=i)]
    return "they differ only in " + (" and ".join(kinds) or "characters that do not show")


def visibly_same(a: object, b: object) -> bool:
    """True when two values would look the same to a person (equal, or differing only invisibly)."""
    return a == b or invisible_difference(a, b) is not None
