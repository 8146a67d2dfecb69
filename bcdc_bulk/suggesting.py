"""Suggesting: the entries of a list nearest to what someone typed, and the fixes that are certain.

A suggestion is a guess and is said as one ("did you mean 'a' or 'b'?"): the few entries nearest to
the text, by spelling and by words, with the abbreviations people type expanded ('BC' is British
Columbia). A fix is not a guess: it is offered only where the stored value and a choice differ in
capitals or spacing alone, or where the catalogue's older schema maps a retired value to one
current choice.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from bcdc_bulk.schema import Field

# Abbreviations people type for words the catalogue spells out.
_SAME_WORDS = {"bc": "british columbia", "b.c.": "british columbia", "gov": "government", "govt": "government",
               "gov't": "government", "license": "licence", "cc": "creative commons", "can": "canada",
               "ogl": "open government licence"}
# Values the BC Data Catalogue's older schema (2019) allowed and today's does not, with today's value
# where the mapping is certain (None where a person must choose).
RETIRED = {
    "security_class": {"LOW-PUBLIC": "PUBLIC", "LOW-SENSITIVITY": None, "MEDIUM-SENSITIVITY": None,
                       "MEDIUM-PERSONAL": None, "HIGH-SENSITIVITY": None, "HIGH-CABINET": None,
                       "HIGH-CLASSIFIED": None},
}
_CLOSE = 0.6


def _word_set(text: str) -> set[str]:
    folded = " ".join(_SAME_WORDS.get(w, w) for w in re.split(r"[\s\-–,/()]+", text.casefold()) if w)
    return set(folded.split())


def _score(typed: str, entry: str) -> float:
    spelled = difflib.SequenceMatcher(None, typed.casefold(), entry.casefold()).ratio()
    a, b = _word_set(typed), _word_set(entry)
    shared = len(a & b) / len(a | b) if a and b else 0.0
    return max(spelled, shared)


def nearest(typed: str, entries: Iterable[str], most: int = 3) -> list[str]:
    """The entries nearest to ``typed`` (best first, at most ``most``, only those about as near as
    the best); none when nothing is near."""
    scored = sorted(((_score(typed, e), e) for e in dict.fromkeys(entries) if e), key=lambda s: -s[0])
    if not scored or scored[0][0] < _CLOSE:
        return []
    best = scored[0][0]
    return [e for s, e in scored[:most] if s >= max(_CLOSE, best - 0.08)]


def either(entries: list[str]) -> str:
    """'a', 'a' or 'b', 'a', 'b' or 'c' (each in quotes)."""
    quoted = [f"'{e}'" for e in entries]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def differs_only_in_form(text: str, fld: Field) -> str | None:
    """The stored value of the choice that ``text`` matches but for capitals, spaces, - and _, if one."""
    def key(s: str) -> str:
        return re.sub(r"[\s\-_]+", "", s.casefold())

    found = {c.value for c in fld.choices if key(text) in (key(c.value), key(c.label))}
    return next(iter(found)) if len(found) == 1 and text not in found else None


def certain_fix(text: str, fld: Field) -> str | None:
    """Today's stored value for ``text`` when that is certain: the same choice in other capitals or
    spacing, or a retired value whose successor is known. None when a person must choose."""
    if not fld.choices or not isinstance(text, str) or not text:
        return None
    same = differs_only_in_form(text, fld)
    if same is not None:
        return same
    return RETIRED.get(fld.name, {}).get(text)


def retired(text: str, fld: Field) -> bool:
    """True when ``text`` was a choice of the catalogue's older schema that today's does not offer."""
    return text in RETIRED.get(fld.name, {})
