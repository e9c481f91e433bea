"""PCI and secret redaction shared by every entry point (ingest, triage, API, logs).

Rules are a data table (:data:`RULES`), applied in order; each counts its hits so the audit log
can say *that* masking happened without ever holding the value. Card numbers are found by Luhn,
not by shape alone, and masked to first six and last four (``411111******1111``). Every
replacement is chosen so that it never matches again: ``redact(redact(x)) == redact(x)``.

Changelog (bump :data:`RULESET_VERSION` whenever a rule changes what it masks):

* ``2026-11-23``: track data, expiry next to a card, CVV variants, IBANs (mod-97, keep country and
  last four), API secrets (``sk_live_``, ``rk_``, ``whsec_``, bearer/basic, JWT, AWS keys), passwords
  and PINs in configs, JSON, URLs and prose; 4-4-4-4 groups with any separator; fixpoint for cards.
* ``2026-11-23``: card numbers (Luhn) and labelled CVV.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "RULES",
    "RULESET_VERSION",
    "RedactionResult",
    "Rule",
    "iban_valid",
    "luhn_valid",
    "mask_pan",
    "redact",
]

RULESET_VERSION = "2026-11-23"
REDACTED = "[REDACTED]"

# 12–19 digits, optionally separated by single spaces, dashes or (no-break/thin) spaces.
# Written digit-first ("\d(?<!\d\d)" is "(?<!\d)\d") so the regex engine can skip to the next digit.
_CARD_CANDIDATE = re.compile(r"\d(?<!\d\d)(?:[ \-\u00a0\u2009\u202f]?\d){11,}(?!\d)")
# Four groups of four (or 4-6-5 Amex) with any one non-alphanumeric separator: dots, slashes, underscores.
_CARD_GROUPED = re.compile(
    r"\d(?<![\d.]\d)\d{3}(?:([^\w\s])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?(?![\d])|"
    r"([^\w\s])\d{6}\2\d{5}(?!\d))"
)
# "+44 20 7946 0958": a "+" then groups that are not card-like fours is a phone number, not a card.
_PHONE_GROUPING = re.compile(r"(?!\d{4}[ \-]\d{4}[ \-]\d{4})\d{1,4}(?:[ \-]\d{1,8}){1,5}")
_MASKED_PAN = r"\d{6}\*{2,9}\d{4}"
_TRACK1 = re.compile(r"%?B\d{12,19}\^[^^\n]{1,26}\^\d{4}[^?\s]*\??")
_TRACK2 = re.compile(r"(?<![\w])[;]?\d{12,19}=\d{4}\d{3,}\??")
_EXPIRY_LABELLED = re.compile(
    r"(?P<label>\b(?:exp(?:iry|iration|ires)?(?:[ _](?:date|month|mm/yy))?|valid\s+(?:thru|through|until)|"
    r"good\s+thru)\b[\"']?\s*(?:[:=]|is|was)?\s*[\"']?\s*)"
    r"(?P<value>(?:0?[1-9]|1[0-2])\s*[/\-.]\s*(?:20)?\d{2})(?!\d)",
    re.IGNORECASE,
)
_EXPIRY_AFTER_CARD = re.compile(
    rf"(?P<label>{_MASKED_PAN}[\"']?\s*[,;|/]?\s*(?:[a-z\"']+\s*[:=]?\s*[\"']?){{0,2}})"
    r"(?P<value>(?:0[1-9]|1[0-2])\s*[/\-]\s*(?:20)?\d{2})(?!\d)",
    re.IGNORECASE,
)
_EXPIRY_FIELDS = re.compile(
    r"(?P<label>(?<![A-Za-z])exp(?:iry|iration)?[_ ]?(?:month|year|mm|yy|yyyy)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>\d{1,4})(?!\d)",
    re.IGNORECASE,
)
_CVV = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:cvv2?|cvc2?|cvn2?|cid|csc|cav2|security[ _]code|card[ _]verification"
    r"(?:[ _](?:value|code|number))?|(?:3|4|three|four)[- ]digits?(?:[ _]code)?(?:\s+on\s+the\s+back)?)"
    r"(?:\s+(?:number|code|no\.?))?[\"']?\s*(?:[:=#]|is|was|are|were|-)?\s*[\"']?\s*)"
    r"(?P<value>\d{3,4})(?!\d)",
    re.IGNORECASE,
)
_IBAN = re.compile(
    r"\b(?P<label>IBAN[\s:#]*)?(?P<value>[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?)\b",
    re.IGNORECASE,
)
_SECRET_PREFIXED = re.compile(
    r"\b(?P<label>(?:sk|rk)_(?:live|test)_|whsec_|sk-(?:proj-)?|ghp_|xox[bp]-)"
    r"(?P<value>[A-Za-z0-9_\-]{8,})"
)
_BEARER = re.compile(r"(?P<label>\b(?:Bearer|Basic|Token)\s+)(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_NAMED_SECRET = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:api[_\- ]?key|api[_\- ]?secret|secret[_\- ]?key|client[_\- ]?secret|"
    r"access[_\- ]?token|auth[_\- ]?token|refresh[_\- ]?token|private[_\- ]?key|aws_secret_access_key|"
    r"signing[_\- ]?secret|webhook[_\- ]?secret|secret)[\"']?\s*(?:[:=]|=>)\s*[\"']?)"
    rf"(?!{re.escape(REDACTED)})(?P<value>[^\s\"',;&<>{{}}\[\]]{{8,}})",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(
    r"(?P<label>\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:)(?!\[REDACTED\]@)(?P<value>[^\s@/]+)(?=@)", re.IGNORECASE
)
_PASSWORD = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:password|passwd|passphrase|passcode|pwd|pass)[\"']?\s*(?:[:=]|=>)\s*[\"']?)"
    rf"(?!{re.escape(REDACTED)})(?P<value>[^\s\"',;&<>]+)",
    re.IGNORECASE,
)
# In prose ("my password is hunter2!") only values that look like one: a digit or symbol, 6+ chars.
_PASSWORD_PROSE = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:password|passwd|passcode)\s+(?:is|was)\s+[\"']?)"
    r"(?P<value>(?=[^\s\"']*[\d!@#$%^&*?])[^\s\"',;]{6,})",
    re.IGNORECASE,
)
_PIN = re.compile(
    r"(?P<label>(?<![A-Za-z])pin(?:[ _]?(?:code|number))?[\"']?\s*(?:[:=]|is|was)\s*[\"']?)"
    r"(?P<value>\d{4,6})(?!\d)",
    re.IGNORECASE,
)
# Lengths of IBANs per country (ISO 13616 registry); a shape that fails it is not an IBAN.
_IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}


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


def iban_valid(iban: str) -> bool:
    """ISO 13616: registered country length and mod-97 check equal to 1."""
    s = re.sub(r"[\s\-]", "", iban).upper()
    if _IBAN_LENGTHS.get(s[:2]) != len(s) or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


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


def _bump(counts: dict[str, int], name: str, n: int = 1) -> None:
    counts[name] = counts.get(name, 0) + n


def _luhn_cuts(span: str) -> list[tuple[int, int, str]]:
    """Luhn-valid card numbers in ``span``: the whole run, else runs of whole separator-delimited groups.

    A contiguous run of more than 19 digits is some other number (an IBAN body, a tracking number),
    and a window cut out of the middle of a contiguous number is not a card number either.
    """
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", span)]
    cuts: list[tuple[int, int, str]] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):
            digits = "".join(span[a:b] for a, b in groups[i : j + 1])
            if 12 <= len(digits) <= 19 and luhn_valid(digits):
                cuts.append((groups[i][0], groups[j][1], mask_pan(digits)))
                i = j + 1
                break
        else:
            i += 1
    return cuts


def _is_identifier_body(text: str, start: int) -> bool:
    """Digits right after ``letters_`` are the body of an id such as ``pay_0000032571036e``, not a PAN.

    Processors' ids (``re_``, ``pay_``, ``txn_``, ``ch_`` ...) must survive so that logs, tickets and
    transactions still join; a card number is not written glued to ``word_``.
    """
    return start >= 2 and text[start - 1] == "_" and text[start - 2].isalpha()


def _mask_cards_once(text: str, pattern: re.Pattern[str], counts: dict[str, int]) -> tuple[str, bool]:
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        span = m.group(0)
        if m.start() > 0 and text[m.start() - 1] == "+" and _PHONE_GROUPING.fullmatch(span):
            continue
        if _is_identifier_body(text, m.start()):
            continue
        cuts = _luhn_cuts(span)
        if not cuts:
            continue
        out.append(text[last : m.start()])
        pos = 0
        for start, end, masked in cuts:
            out.append(span[pos:start])
            out.append(masked)
            pos = end
        out.append(span[pos:])
        last = m.end()
        _bump(counts, "card_number", len(cuts))
    if not out:
        return text, False
    out.append(text[last:])
    return "".join(out), True


def _mask_cards(text: str, counts: dict[str, int]) -> str:
    # A mask's visible digits can join neighbouring digits into a new Luhn-valid run; repeat to a fixpoint.
    for pattern in (_CARD_GROUPED, _CARD_CANDIDATE):
        for _ in range(8):
            text, changed = _mask_cards_once(text, pattern, counts)
            if not changed:
                break
    return text


def _sub_value(
    pattern: re.Pattern[str], name: str, replacement: str | Callable[[str], str]
) -> Callable[[str, dict[str, int]], str]:
    """A rule that replaces the ``value`` group (or the whole match) and keeps the ``label`` group."""

    def rule(text: str, counts: dict[str, int]) -> str:
        def repl(m: re.Match[str]) -> str:
            groups = m.groupdict()
            value = groups.get("value") or m.group(0)
            new = replacement(value) if callable(replacement) else replacement
            if new == value:
                return m.group(0)
            _bump(counts, name)
            return (groups.get("label") or "") + new if "value" in groups else new

        return pattern.sub(repl, text)

    return rule


def _mask_iban(text: str, counts: dict[str, int]) -> str:
    def repl(m: re.Match[str]) -> str:
        value = m.group("value")
        if not (m.group("label") or iban_valid(value)):
            return m.group(0)
        compact = re.sub(r"[\s\-]", "", value).upper()
        _bump(counts, "iban")
        return (m.group("label") or "") + compact[:2] + "*" * (len(compact) - 6) + compact[-4:]

    return _IBAN.sub(repl, text)


@dataclass(frozen=True, slots=True)
class Rule:
    """One named redaction rule: ``apply(text, counts) -> text``."""

    name: str
    description: str
    apply: Callable[[str, dict[str, int]], str]
    #: Run only if one of these lower-case substrings occurs (a cheap pre-filter); empty means always.
    gate: tuple[str, ...] = ()


#: The rule table, in the order applied (track data before cards: it contains the PAN).
RULES: tuple[Rule, ...] = (
    Rule(
        "track_data",
        "magnetic-stripe track 1/2 data",
        _sub_value(_TRACK1, "track_data", "[TRACK_DATA]"),
        ("^",),
    ),
    Rule("track_data2", "track 2 equivalent data", _sub_value(_TRACK2, "track_data", "[TRACK_DATA]"), ("=",)),
    Rule("iban", "valid (mod-97) or labelled IBANs; keep country and last four", _mask_iban),
    Rule("card_number", "Luhn-valid 12–19 digit numbers, any common separator", _mask_cards),
    Rule(
        "expiry",
        "expiry date next to a masked card",
        _sub_value(_EXPIRY_AFTER_CARD, "expiry", "[EXPIRY]"),
        ("**",),
    ),
    Rule(
        "expiry_labelled",
        "labelled expiry date",
        _sub_value(_EXPIRY_LABELLED, "expiry", "[EXPIRY]"),
        ("exp", "valid", "good thru"),
    ),
    Rule(
        "expiry_fields",
        "exp_month/exp_year fields",
        _sub_value(_EXPIRY_FIELDS, "expiry", "[EXPIRY]"),
        ("exp",),
    ),
    Rule(
        "cvv",
        "CVV/CVC/CID and security codes",
        _sub_value(_CVV, "cvv", REDACTED),
        ("cvv", "cvc", "cvn", "cid", "csc", "cav2", "security", "verification", "digit"),
    ),
    Rule(
        "url_credentials",
        "user:password@ in URLs",
        _sub_value(_URL_CREDENTIALS, "password", REDACTED),
        ("://",),
    ),
    Rule(
        "api_secret",
        "sk_live_/rk_/whsec_ style keys",
        _sub_value(_SECRET_PREFIXED, "api_secret", REDACTED),
        ("sk_", "rk_", "whsec_", "sk-", "ghp_", "xox"),
    ),
    Rule("jwt", "JSON web tokens", _sub_value(_JWT, "api_secret", "[JWT]"), ("eyj",)),
    Rule(
        "bearer",
        "Authorization bearer/basic tokens",
        _sub_value(_BEARER, "api_secret", REDACTED),
        ("bearer", "basic", "token"),
    ),
    Rule(
        "aws_key", "AWS access key ids", _sub_value(_AWS_KEY_ID, "api_secret", "[AWS_KEY]"), ("akia", "asia")
    ),
    Rule(
        "named_secret",
        "api_key=, client_secret:, token: ...",
        _sub_value(_NAMED_SECRET, "api_secret", REDACTED),
        ("key", "secret", "token"),
    ),
    Rule(
        "password",
        "password/passcode values in configs, JSON and URLs",
        _sub_value(_PASSWORD, "password", REDACTED),
        ("pass", "pwd"),
    ),
    Rule(
        "password_prose",
        "password-looking values after 'password is'",
        _sub_value(_PASSWORD_PROSE, "password", REDACTED),
        ("passw", "passc"),
    ),
    Rule("pin", "card PINs", _sub_value(_PIN, "pin", REDACTED), ("pin",)),
)


#: One compiled pre-filter per gated rule: a single C-level scan instead of a Python loop of ``in`` tests.
_GATE_RES = {r.name: re.compile("|".join(re.escape(g) for g in r.gate)) for r in RULES if r.gate}
_DIGIT = re.compile(r"\d")


def redact(text: str) -> RedactionResult:
    """Apply every rule to ``text``; ``counts`` says how many values each rule removed."""
    counts: dict[str, int] = {}
    if not text:
        return RedactionResult(text or "", counts)
    low = text.lower()
    has_digit = _DIGIT.search(text) is not None
    for rule in RULES:
        gate = _GATE_RES.get(rule.name)
        if gate is None:
            if not has_digit:  # the ungated rules (card numbers, IBANs) all need digits
                continue
        elif gate.search(low) is None:
            continue
        new = rule.apply(text, counts)
        if new is not text:
            text, low = new, new.lower()
    return RedactionResult(text, counts)
