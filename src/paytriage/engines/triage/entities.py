"""Entity extraction with spans and confidence, over *redacted* text (so no PAN can leak into an entity).

:class:`EntityExtractor` runs the table of named, precompiled patterns
(:mod:`~paytriage.engines.triage.entity_patterns`) and the parsers that need more than a regex:
money (:mod:`~paytriage.engines.triage.amounts`), dates and times (:mod:`~paytriage.engines.triage.dates`),
decline codes said in words (:mod:`~paytriage.engines.triage.codes`), error messages and masked cards
(here). Teams add their own id formats with ``extra_id_patterns`` (``{"transaction_id": [r"..."]}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paytriage.engines.triage.amounts import find_amounts, parse_amount
from paytriage.engines.triage.codes import DECLINE_PHRASES, find_decline_words
from paytriage.engines.triage.dates import find_dates
from paytriage.engines.triage.entity import Entity, EntityKind
from paytriage.engines.triage.entity_patterns import GATES, PATTERNS
from paytriage.engines.triage.lowered import FOLD_SPECIAL, lowercase_twin, required_twin
from paytriage.engines.triage.trie import trie_pattern

__all__ = ["DECLINE_PHRASES", "PATTERNS", "Entity", "EntityExtractor", "EntityKind", "parse_amount"]

_MASKED_PAN = re.compile(r"\b(?P<bin>\d{6})\*{2,9}(?P<last4>\d{4})\b")
_ERROR_QUOTED = re.compile(
    r"(?:error|message|says|said|saying|shows?|showing|displayed|reads|returns?|returned|got|getting)\b[^\"“'\n]{0,25}"
    r"[\"“'](?P<v>[^\"”'\n]{4,160})[\"”']",
    re.IGNORECASE,
)
_ERROR_LINE = re.compile(
    r"\b(?:[A-Z]\w*(?:Error|Exception)|error|fatal error|exception)\s*:\s*(?P<v>[^\n]{4,160})"
)
_ERROR_CLASS = re.compile(r"\b(?P<v>[A-Z][A-Za-z]+(?:Error|Exception)|[a-z]+(?:_[a-z]+)*_error)\b")
_ERROR_QUOTED_LOW = required_twin(_ERROR_QUOTED)
_BARE_LANGUAGES = frozenset({"ios", "android", "php", "python", "java", "ruby"})
_Compiled = tuple[
    EntityKind, re.Pattern[str], re.Pattern[str] | None, float, str | int, re.Pattern[str] | None
]


class EntityExtractor:
    """Finds :class:`Entity` values in redacted text; one instance is reused for every ticket."""

    def __init__(self, *, extra_id_patterns: Mapping[str, Sequence[str]] | None = None) -> None:
        self.extra_id_patterns = dict(extra_id_patterns or {})
        extra = [
            (EntityKind(k), re.compile(p), None, 0.9, 0, None)
            for k, ps in self.extra_id_patterns.items()
            for p in ps
        ]
        self._patterns: list[_Compiled] = [*extra]
        for (kind, pattern, conf, group), gate in zip(PATTERNS, GATES, strict=True):
            gate_re = re.compile(trie_pattern(gate)) if gate else None
            self._patterns.append((kind, pattern, lowercase_twin(pattern), conf, group, gate_re))
        self._custom: list[Callable[[str, str, str | None], list[Entity]]] = [
            find_amounts,
            find_dates,
            _errors,
            _cards,
            find_decline_words,
        ]

    def extract(self, text: str) -> list[Entity]:
        """All entities, sorted by position; overlapping matches of the same kind keep the first."""
        found: list[Entity] = []
        low = text.lower()
        lowered = None if FOLD_SPECIAL.search(text) else low  # where lower-case twins may run
        for kind, pattern, twin, conf, group, gate in self._patterns:
            if gate is not None and gate.search(low) is None:
                continue
            matches = (
                twin.finditer(lowered) if twin is not None and lowered is not None else pattern.finditer(text)
            )
            for m in matches:
                start, end = m.span(group)
                if start < 0:
                    continue
                value: Any = text[start:end]
                if kind is EntityKind.SOFTWARE:
                    ver = m.group("ver")
                    if not ver and value.lower() in _BARE_LANGUAGES:
                        continue
                    value = {"name": value, "version": ver}
                    end = m.end("ver") if ver else end
                elif kind is EntityKind.HTTP_STATUS:
                    value = int(value)
                found.append(Entity(kind, text[start:end], start, end, value, conf))
        for fn in self._custom:
            found.extend(fn(text, low, lowered))
        return _dedupe(found)


def _errors(text: str, low: str, lowered: str | None) -> list[Entity]:
    out = []
    for pattern, twin, conf, gate in (
        (_ERROR_QUOTED, _ERROR_QUOTED_LOW, 0.85, ("'", '"', "“")),
        (_ERROR_LINE, None, 0.75, (":",)),
        (_ERROR_CLASS, None, 0.7, ("error", "exception")),
    ):
        if not any(g in low for g in gate):
            continue
        matches = twin.finditer(lowered) if twin and lowered is not None else pattern.finditer(text)
        for m in matches:
            a, b = m.span("v")
            out.append(
                Entity(EntityKind.ERROR_MESSAGE, text[a:b], a, b, text[a:b].strip().strip("'\"“”"), conf)
            )
    return out


def _cards(text: str, low: str, lowered: str | None) -> list[Entity]:
    out: list[Entity] = []
    if "**" not in text:
        return out
    for m in _MASKED_PAN.finditer(text):
        out.append(
            Entity(EntityKind.CARD_BIN, m.group("bin"), m.start("bin"), m.end("bin"), m.group("bin"), 0.95)
        )
        out.append(
            Entity(
                EntityKind.CARD_LAST4,
                m.group("last4"),
                m.start("last4"),
                m.end("last4"),
                m.group("last4"),
                0.95,
            )
        )
    return out


def _dedupe(found: list[Entity]) -> list[Entity]:
    found.sort(key=lambda e: (e.start, -e.confidence, -(e.end - e.start)))
    out: list[Entity] = []
    last_end: dict[EntityKind, int] = {}
    seen: set[tuple[EntityKind, str]] = set()
    for e in found:
        key = (e.kind, repr(e.value))
        if e.start < last_end.get(e.kind, -1) or key in seen:
            continue
        out.append(e)
        seen.add(key)
        last_end[e.kind] = e.end
    return out
