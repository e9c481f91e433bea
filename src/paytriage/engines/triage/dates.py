"""Dates and times as customers write them: ISO, ``05/11/2026``, ``5th of November``, ``Nov 5``, ``today``.

Numeric dates are read day-first unless that is impossible (``11/25/2026``); ambiguous ones get a
lower confidence. A date without a year becomes ``--MM-DD`` and a relative one its word, resolved
against the ticket's creation time by the caller.
"""

from __future__ import annotations

import re
from datetime import date

from paytriage.engines.triage.entity import Entity, EntityKind
from paytriage.engines.triage.lowered import required_twin
from paytriage.engines.triage.trie import trie_pattern

__all__ = ["find_dates"]

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"\b(?P<iso>(?P<y>20\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d))(?:[T ]\d\d:\d\d(?::\d\d)?)?"
    r"|\b(?P<num>(?P<a>[0-3]?\d)[/.](?P<b>[01]?\d)[/.](?P<yy>(?:20)?\d\d))\b"
    rf"|\b(?P<dm>(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{_MONTH_RE})(?:,?\s+(?P<y2>20\d\d))?)\b"
    rf"|\b(?P<md>(?P<mon3>{_MONTH_RE})\s+(?P<d3>[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s+(?P<y3>20\d\d))?)\b"
    r"|\b(?P<rel>today|yesterday|last\s+(?:night|week|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"this\s+morning|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"(?<![\d:])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s?(?:am|pm|utc|gmt|cet))?(?![\d:])"
    r"|\b(?:1[0-2]|0?[1-9])\s?(?:am|pm)\b",
    re.IGNORECASE,
)

_MONTH_OR_RELATIVE_WORDS = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "today",
    "yesterday",
    "last ",
    "this morning",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_DATE_NUMERIC = re.compile(
    r"\b(?P<iso>(?P<y>20\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d))(?:[T ]\d\d:\d\d(?::\d\d)?)?"
    r"|\b(?P<num>(?P<a>[0-3]?\d)[/.](?P<b>[01]?\d)[/.](?P<yy>(?:20)?\d\d))\b"
)
_MONTH_OR_RELATIVE = re.compile(trie_pattern(_MONTH_OR_RELATIVE_WORDS))
_DATE_LOW, _TIME_LOW = required_twin(_DATE), required_twin(_TIME)


def _date_value(m: re.Match[str]) -> tuple[str | None, float]:
    g = m.groupdict()
    try:
        if g["iso"]:
            return date(int(g["y"]), int(g["m"]), int(g["d"])).isoformat(), 0.95
        if g["num"]:
            a, b, yy = int(g["a"]), int(g["b"]), int(g["yy"])
            year = yy + 2000 if yy < 100 else yy
            day, month, conf = (
                (a, b, 0.6) if a <= 12 and b <= 12 else ((b, a, 0.8) if b > 12 else (a, b, 0.8))
            )
            return date(year, month, day).isoformat(), conf
        if g.get("dm") or g.get("md"):
            mon = _MONTHS[(g["mon2"] or g["mon3"])[:3].lower()]
            day = int(g["d2"] or g["d3"])
            year_text = g["y2"] or g["y3"]
            if year_text:
                return date(int(year_text), mon, day).isoformat(), 0.9
            date(2000, mon, day)  # validates day/month (2000 is a leap year)
            return f"--{mon:02d}-{day:02d}", 0.75
    except ValueError:
        return None, 0.0
    return None, 0.5  # relative ("yesterday"): resolved against the ticket's creation time by the caller


def find_dates(text: str, low: str, lowered: str | None) -> list[Entity]:
    """Dates, then times; ``lowered`` is ``low`` where the lower-case twins may run, else None."""
    out = []
    full = _MONTH_OR_RELATIVE.search(low) is not None
    if not full:  # case-sensitive ("T" between date and time)
        matches = _DATE_NUMERIC.finditer(text)
    else:
        matches = _DATE_LOW.finditer(lowered) if lowered is not None else _DATE.finditer(text)
    for m in matches:
        value, conf = _date_value(m)
        if conf:
            rel = m.group("rel") if full else None
            a, b = m.span()
            out.append(Entity(EntityKind.DATE, text[a:b], a, b, value or (rel or "").lower(), conf))
    if ":" not in text and "m" not in low:
        return out
    for m in _TIME_LOW.finditer(lowered) if lowered is not None else _TIME.finditer(text):
        a, b = m.span()
        out.append(Entity(EntityKind.TIME, text[a:b], a, b, text[a:b], 0.8))
    return out
