"""PCI redaction shared by every entry point (ingest, triage, API, logs).

Rules are a data table, applied in order; each counts its hits so the audit log can say
*that* masking happened without ever holding the value. Card numbers are found by Luhn, not
by shape alone, and masked to first six and last four (``411111******1111``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RULESET_VERSION", "RedactionResult", "luhn_valid", "mask_pan", "redact"]

RULESET_VERSION = "2026-11-23"

# 12–19 digits, optionally separated by single spaces, dashes or no-break spaces.
_CARD_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ \-\u00a0]?\d){11,}(?!\d)")
_CVV = re.compile(
    r"(?P<label>\b(?:cvv2?|cvc2?|cvn|cid|csc|security\s+code|card\s+verification(?:\s+(?:value|code))?)"
    r"[\"']?\s*(?:[:=#]|is|was|-)?\s*[\"']?\s*)(?P<value>\d{3,4})(?!\d)",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_pan(digits: str) -> str:
    """First six, stars, last four."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


@dataclass(slots=True)
class RedactionResult:
    """Redacted text plus how many values each rule removed."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.counts.values())


def _mask_cards(text: str, counts: dict[str, int]) -> str:
    out: list[str] = []
    last = 0
    for m in _CARD_CANDIDATE.finditer(text):
        span = m.group(0)
        positions = [i for i, ch in enumerate(span) if ch.isdigit()]
        digits = "".join(span[i] for i in positions)
        i = 0
        cuts: list[tuple[int, int, str]] = []
        while i <= len(digits) - 12:
            for length in range(min(19, len(digits) - i), 11, -1):
                chunk = digits[i : i + length]
                if luhn_valid(chunk):
                    cuts.append((positions[i], positions[i + length - 1] + 1, mask_pan(chunk)))
                    i += length
                    break
            else:
                i += 1
        if not cuts:
            continue
        base = m.start()
        out.append(text[last:base])
        pos = 0
        for start, end, masked in cuts:
            out.append(span[pos:start])
            out.append(masked)
            pos = end
        out.append(span[pos:])
        last = m.end()
        counts["card_number"] = counts.get("card_number", 0) + len(cuts)
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _remove_cvv(text: str, counts: dict[str, int]) -> str:
    def repl(m: re.Match[str]) -> str:
        counts["cvv"] = counts.get("cvv", 0) + 1
        return m.group("label") + "[REDACTED]"

    return _CVV.sub(repl, text)


_RULES: list[tuple[str, Callable[[str, dict[str, int]], str]]] = [
    ("card_number", _mask_cards),
    ("cvv", _remove_cvv),
]


def redact(text: str) -> RedactionResult:
    """Apply every rule to ``text``."""
    counts: dict[str, int] = {}
    if not text:
        return RedactionResult(text or "", counts)
    for _name, rule in _RULES:
        text = rule(text, counts)
    return RedactionResult(text, counts)
