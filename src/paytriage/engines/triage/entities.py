"""Entity extraction with spans and confidence, over *redacted* text (so no PAN can leak into an entity).

Extractors are a table of named, precompiled patterns (:data:`PATTERNS`) plus a few parsers for
values that need more than a regex: money in any common notation, dates, decline codes said in words.
Teams add their own id formats with ``extra_id_patterns`` (``{"transaction_id": [r"..."]}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from paytriage.domain.errors import PaytriageError
from paytriage.domain.money import CURRENCY_EXPONENTS, Money
from paytriage.engines.triage.lowered import FOLD_SPECIAL, lowercase_twin
from paytriage.engines.triage.trie import trie_pattern

__all__ = ["DECLINE_PHRASES", "Entity", "EntityExtractor", "EntityKind", "parse_amount"]


class EntityKind(StrEnum):
    TRANSACTION_ID = "transaction_id"
    AMOUNT = "amount"
    DATE = "date"
    TIME = "time"
    MERCHANT_ID = "merchant_id"
    CUSTOMER_ID = "customer_id"
    DECLINE_CODE = "decline_code"
    HTTP_STATUS = "http_status"
    API_ENDPOINT = "api_endpoint"
    ERROR_MESSAGE = "error_message"
    SOFTWARE = "software"
    CARD_BIN = "card_bin"
    CARD_LAST4 = "card_last4"
    IBAN = "iban"
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted value: ``text[start:end]`` of the redacted text, normalised ``value``."""

    kind: EntityKind
    text: str
    start: int
    end: int
    value: Any
    confidence: float

    def __reduce__(self) -> tuple[Any, ...]:
        # Positional re-construction: 2x faster to unpickle than the slots default (worker pools).
        return (Entity, (self.kind, self.text, self.start, self.end, self.value, self.confidence))


#: Decline reasons said in words → ISO 8583 response code (or the gateway code when there is none).
DECLINE_PHRASES: dict[str, str] = {
    "do not honor": "05",
    "do not honour": "05",
    "insufficient funds": "51",
    "not sufficient funds": "51",
    "expired card": "54",
    "card expired": "54",
    "pick up card": "04",
    "pickup card": "04",
    "lost card": "41",
    "stolen card": "43",
    "invalid card number": "14",
    "invalid card": "14",
    "invalid amount": "13",
    "transaction not permitted": "57",
    "not permitted to cardholder": "57",
    "restricted card": "62",
    "exceeds withdrawal limit": "61",
    "withdrawal limit exceeded": "61",
    "security violation": "63",
    "suspected fraud": "59",
    "incorrect pin": "55",
    "wrong pin": "55",
    "pin tries exceeded": "75",
    "issuer unavailable": "91",
    "issuer or switch inoperative": "91",
    "system malfunction": "96",
    "refer to card issuer": "01",
    "call issuer": "01",
    "generic decline": "generic_decline",
    "card velocity exceeded": "card_velocity_exceeded",
    "incorrect cvc": "incorrect_cvc",
    "authentication required": "authentication_required",
    "card not supported": "card_not_supported",
    "currency not supported": "currency_not_supported",
    "duplicate transaction": "duplicate_transaction",
}
_SNAKE_DECLINES = (
    "approve_with_id|authentication_required|call_issuer|card_declined|card_not_supported|"
    "card_velocity_exceeded|currency_not_supported|do_not_honor|do_not_try_again|"
    "duplicate_transaction|expired_card|fraudulent|generic_decline|incorrect_cvc|incorrect_number|"
    "incorrect_pin|incorrect_zip|insufficient_funds|invalid_account|invalid_amount|invalid_cvc|"
    "invalid_expiry_year|invalid_pin|issuer_not_available|lost_card|merchant_blacklist|"
    "new_account_information_available|no_action_taken|not_permitted|pickup_card|"
    "processing_error|reenter_transaction|restricted_card|revocation_of_authorization|"
    "security_violation|service_not_allowed|stolen_card|stop_payment_order|testmode_decline|"
    "transaction_not_allowed|try_again_later|withdrawal_count_limit_exceeded"
)
_ISO20022 = (
    "AB0[1-9]|AB1[01]|AC0[1-9]|AC1[0-6]|AG0[1-9]|AG1[0-3]|AM0[1-9]|AM1[0-9]|AM2[0-3]|BE0[1-9]|"
    "BE1[0-9]|BE2[0-3]|CNOR|DNOR|DUPL|FF0[1-9]|FOCR|MD0[1-7]|MS0[23]|NARR|RC0[1-9]|RC1[0-2]|"
    "RR0[1-9]|RR1[0-2]|SL0[1-2]|TM01|CUST|AGNT|UPAY|ERIN|ACSC|ACSP|RJCT|PDNG|BLCK"
)

_SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "zł": "PLN",
    "kr": "SEK",
    "R$": "BRL",
    "A$": "AUD",
    "C$": "CAD",
    "US$": "USD",
    "CHF": "CHF",
    "₴": "UAH",
    "₪": "ILS",
    "฿": "THB",
    "₱": "PHP",
    "₦": "NGN",
}
_CODES = "|".join(sorted(CURRENCY_EXPONENTS))
_SYM = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_NUM = r"\d{1,3}(?:[.,\u00a0\u202f ' ]\d{3})+(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?"
# The shared look-behind is tested once per position (before 2026-11: once per alternative).
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?:(?P<c1>{_CODES})\s?|(?P<s1>{_SYM})\s?)(?P<n1>-?(?:{_NUM}))(?![\d])"
    rf"|(?P<n2>{_NUM})\s?(?:(?P<c2>{_CODES})\b|(?P<s2>{_SYM})(?!\w)|(?P<w2>euros?|dollars?|pounds?|yen)\b))",
)
_WORD_CURRENCY = {
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
}
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


def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# (kind, pattern, confidence, group holding the value). Order matters only for overlaps: earlier wins.
PATTERNS: list[tuple[EntityKind, re.Pattern[str], float, str | int]] = [
    (EntityKind.CUSTOMER_ID, _rx(r"\bcus_[A-Za-z0-9]{6,}\b", 0), 0.95, 0),
    (EntityKind.MERCHANT_ID, _rx(r"\bacct_[A-Za-z0-9]{6,}\b", 0), 0.95, 0),
    (
        EntityKind.TRANSACTION_ID,
        _rx(r"\b(?:ch|pi|py|re|txn|tx|trx|pay|po|tr|dp|in|seti|src|pm)_[A-Za-z0-9]{8,}\b", 0),
        0.95,
        0,
    ),
    (
        EntityKind.MERCHANT_ID,
        _rx(
            r"\b(?:merchant|mid|store|shop)(?:[ _]?(?:id|no\.?|number|#))?\s*[:#=]?\s*"
            r"(?P<v>(?=[A-Za-z_\-]*\d)[A-Za-z0-9][A-Za-z0-9_\-]{3,})"
        ),
        0.8,
        "v",
    ),
    (
        EntityKind.CUSTOMER_ID,
        _rx(
            r"\b(?:customer|client|user|account)[ _]?(?:id|no\.?|number|#)\s*[:#=]?\s*"
            r"(?P<v>(?=[A-Za-z_\-]*\d)[A-Za-z0-9][A-Za-z0-9_\-]{3,})"
        ),
        0.8,
        "v",
    ),
    (
        EntityKind.TRANSACTION_ID,
        _rx(
            r"\b(?:transaction|txn|trx|payment|charge|order|ref|reference|receipt|booking|invoice|payout|transfer)"
            r"(?:[ _]?(?:id|no\.?|number|ref|#))?\s*[:#=]?\s*"
            r"(?P<v>(?=[A-Za-z_\-]*\d)[A-Za-z0-9][A-Za-z0-9_\-]{5,})"
        ),
        0.85,
        "v",
    ),
    (
        EntityKind.TRANSACTION_ID,
        _rx(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        0.6,
        0,
    ),
    (EntityKind.DECLINE_CODE, _rx(rf"\b(?P<v>{_SNAKE_DECLINES})\b", 0), 0.95, "v"),
    (
        EntityKind.DECLINE_CODE,
        _rx(
            r"\b(?:(?:response|decline|declined|error|reason|return|rejection|iso|auth)[ _]?)?"
            r"(?:code|reason|rc)\s*(?:is|was|of|:|#|=)?\s*[\"']?(?P<v>[0-9]{2,3}|[A-Z][0-9]{1,2}"
            r"|[A-Z]{2}[0-9]{2})\b(?!\s*(?:%|ms|seconds|minutes|days|[.,]\d))"
        ),
        0.85,
        "v",
    ),
    (EntityKind.DECLINE_CODE, _rx(rf"\b(?P<v>{_ISO20022})\b", 0), 0.7, "v"),
    (
        EntityKind.HTTP_STATUS,
        _rx(
            r"(?:\bhttp(?:/[\d.]+)?|\bstatus(?:[ _]code)?|\bresponse|\breturns?|\breturned|"
            r"\bgot|\bgetting|\bgives?|\berror)\s*[:=]?\s*(?:an?\s+)?(?P<v>[1-5][0-9]{2})\b"
            r"(?!\s*(?:%|ms|eur|usd|gbp|jpy|€|\$|£|dollars|euros|pounds|[.,]\d))"
        ),
        0.85,
        "v",
    ),
    (
        EntityKind.HTTP_STATUS,
        _rx(
            r"\b(?P<v>[45][0-9]{2})\s+(?:error|bad request|unauthori[sz]ed|forbidden|not found|"
            r"conflict|unprocessable|internal server error|bad gateway|service unavailable|"
            r"gateway time-?out|too many requests|response)\b"
        ),
        0.9,
        "v",
    ),
    (EntityKind.API_ENDPOINT, _rx(r"\b(?P<v>(?:GET|POST|PUT|PATCH|DELETE)\s+/[\w\-./{}:]*)", 0), 0.95, "v"),
    (
        EntityKind.API_ENDPOINT,
        _rx(r"(?<![\w/])(?P<v>/(?:v\d+|api|webhooks?|checkout|payments?)(?:/[\w\-.{}:]+)+)"),
        0.8,
        "v",
    ),
    (EntityKind.EMAIL, _rx(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b", 0), 0.95, 0),
    (
        EntityKind.SOFTWARE,
        _rx(
            r"\b(?P<v>(?:woocommerce|shopify|magento|prestashop|wordpress|opencart|bigcommerce|wix|drupal|"
            r"stripe[\-. ]?(?:php|node|python|java|ruby|go|js)?|ios|android|react[ -]native|flutter|"
            r"node(?:\.js)?|php|python|java|\.net|ruby)"
            r"(?:[ \-](?:plugin|sdk|module|extension|library|gateway|app))?)\s*(?:version\s*|v)?"
            r"(?P<ver>\d+(?:\.\d+){1,3})?\b"
        ),
        0.7,
        "v",
    ),
    (
        EntityKind.SOFTWARE,
        _rx(
            r"\b(?P<v>[\w\-.]{2,30}?)[ \-](?:plugin|sdk|module|extension|library)\s+(?:version\s*|v)?"
            r"(?P<ver>\d+(?:\.\d+){1,3})\b"
        ),
        0.85,
        "v",
    ),
    (
        EntityKind.CARD_LAST4,
        _rx(
            r"\b(?:ending|ends|ending\s+in|last\s+(?:4|four)(?:\s+digits)?|last4|x{4,})"
            r"\s*(?:in|are|is|of|:|-)?\s*(?P<v>\d{4})\b"
        ),
        0.85,
        "v",
    ),
    (EntityKind.CARD_BIN, _rx(r"\b(?:bin|iin)\s*(?:is|:|#)?\s*(?P<v>\d{6,8})\b"), 0.85, "v"),
    (EntityKind.IBAN, _rx(r"\b(?P<v>[A-Z]{2}\*{8,30}[A-Z0-9]{4})\b", 0), 0.95, "v"),
    (
        EntityKind.PHONE,
        _rx(r"(?:(?<=\s)|^)(?P<v>\+\d{1,3}[\s.\-]?\(?\d{1,4}\)?(?:[\s.\-]?\d{2,4}){2,4})(?!\d)"),
        0.8,
        "v",
    ),
    (
        EntityKind.PHONE,
        _rx(
            r"\b(?:phone|tel|mobile|call me on|number)\s*[:#]?\s*(?P<v>\(?\d{2,5}\)?(?:[\s.\-]?\d{2,4}){2,4})"
            r"(?!\d)"
        ),
        0.75,
        "v",
    ),
]
# Cheap lower-case substring pre-filters, one per PATTERNS entry: a pattern runs only if one occurs.
_GATES: list[tuple[str, ...]] = [
    ("cus_",),
    ("acct_",),
    ("_",),
    ("merchant", "mid", "store", "shop"),
    ("customer", "client", "user", "account"),
    (
        "transaction",
        "txn",
        "trx",
        "payment",
        "charge",
        "order",
        "ref",
        "receipt",
        "booking",
        "invoice",
        "payout",
        "transfer",
    ),
    ("-",),
    ("_",),
    ("code", "reason", "rc"),
    (),
    ("http", "status", "response", "return", "got", "getting", "give", "error"),
    (
        "error",
        "bad",
        "unauthori",
        "forbidden",
        "not found",
        "conflict",
        "unprocessable",
        "internal",
        "gateway",
        "unavailable",
        "too many",
        "response",
    ),
    ("get", "post", "put", "patch", "delete"),
    ("/",),
    ("@",),
    (
        "woocommerce",
        "shopify",
        "magento",
        "prestashop",
        "wordpress",
        "opencart",
        "bigcommerce",
        "wix",
        "drupal",
        "stripe",
        "ios",
        "android",
        "react",
        "flutter",
        "node",
        "php",
        "python",
        "java",
        ".net",
        "ruby",
    ),
    ("plugin", "sdk", "module", "extension", "library"),
    ("end", "last", "xxxx"),
    ("bin", "iin"),
    ("**",),
    ("+",),
    ("phone", "tel", "mobile", "call me", "number"),
]
if len(_GATES) != len(PATTERNS):  # pragma: no cover - a maintenance error, caught by any test run
    raise RuntimeError("entities: _GATES must have one entry per PATTERNS entry")
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
_DECLINE_WORDS = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in sorted(DECLINE_PHRASES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


_DECLINE_GATE_WORDS = (
    "hono",
    "fund",
    "expired",
    "pick",
    "lost",
    "stolen",
    "invalid",
    "permitted",
    "restricted",
    "limit",
    "security",
    "fraud",
    "pin",
    "issuer",
    "malfunction",
    "decline",
    "velocity",
    "cvc",
    "authentication",
    "supported",
    "duplicate",
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
# Pre-filters as one compiled scan each, and lower-case twins of the case-insensitive patterns.
_DECLINE_GATE = re.compile(trie_pattern(_DECLINE_GATE_WORDS))
_MONTH_OR_RELATIVE = re.compile(trie_pattern(_MONTH_OR_RELATIVE_WORDS))
_DECLINE_WORDS_LOW = re.compile(r"\b" + trie_pattern(DECLINE_PHRASES) + r"\b")


def _twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    twin = lowercase_twin(pattern)
    if twin is None:  # pragma: no cover - a maintenance error, caught by any test run
        raise RuntimeError(f"entities: no lower-case twin for {pattern.pattern[:40]!r}")
    return twin


_DATE_LOW, _TIME_LOW, _ERROR_QUOTED_LOW = map(_twin, (_DATE, _TIME, _ERROR_QUOTED))
_BARE_LANGUAGES = frozenset({"ios", "android", "php", "python", "java", "ruby"})
_Compiled = tuple[
    EntityKind, re.Pattern[str], re.Pattern[str] | None, float, str | int, re.Pattern[str] | None
]


def parse_amount(number: str, currency: str) -> Money | None:
    """``"1.234,56"``/``"1,234.56"``/``"12,50"``/``"5000"`` in ``currency`` → :class:`Money`, or None."""
    s = re.sub(r"[\u00a0\u202f ' ]", "", number)
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        dec = "." if last_dot > last_comma else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        tail = s.rsplit(sep, 1)[1]
        thousands = s.count(sep) > 1 or (len(tail) == 3 and exp != 3)
        s = s.replace(sep, "" if thousands else ".")
    try:
        value = Decimal(s)
        return Money.from_decimal(value.quantize(Decimal(1).scaleb(-exp)), currency)
    except (InvalidOperation, PaytriageError):
        return None


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
        for (kind, pattern, conf, group), gate in zip(PATTERNS, _GATES, strict=True):
            gate_re = re.compile(trie_pattern(gate)) if gate else None
            self._patterns.append((kind, pattern, lowercase_twin(pattern), conf, group, gate_re))
        self._custom: list[Callable[[str, str, str | None], list[Entity]]] = [
            self._money,
            self._dates,
            self._errors,
            self._cards,
            self._decline_words,
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

    @staticmethod
    def _money(text: str, low: str, lowered: str | None) -> list[Entity]:
        out = []
        for m in _AMOUNT.finditer(text):
            g = m.groupdict()
            number = g["n1"] or g["n2"]
            sym = g["s1"] or g["s2"]
            cur = (
                g["c1"]
                or g["c2"]
                or (_SYMBOLS.get(sym) if sym else None)
                or _WORD_CURRENCY.get((g["w2"] or "").lower())
            )
            if not cur or not number:
                continue
            money = parse_amount(number.lstrip("-"), cur)
            if money is not None:
                conf = 0.9 if (g["c1"] or g["c2"]) else 0.8
                out.append(Entity(EntityKind.AMOUNT, m.group(0).strip(), m.start(), m.end(), money, conf))
        return out

    @staticmethod
    def _dates(text: str, low: str, lowered: str | None) -> list[Entity]:
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

    @staticmethod
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

    @staticmethod
    def _cards(text: str, low: str, lowered: str | None) -> list[Entity]:
        out: list[Entity] = []
        if "**" not in text:
            return out
        for m in _MASKED_PAN.finditer(text):
            out.append(
                Entity(
                    EntityKind.CARD_BIN, m.group("bin"), m.start("bin"), m.end("bin"), m.group("bin"), 0.95
                )
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

    @staticmethod
    def _decline_words(text: str, low: str, lowered: str | None) -> list[Entity]:
        if _DECLINE_GATE.search(low) is None:
            return []
        out = []
        for m in (
            _DECLINE_WORDS_LOW.finditer(lowered) if lowered is not None else _DECLINE_WORDS.finditer(text)
        ):
            a, b = m.span()
            out.append(
                Entity(EntityKind.DECLINE_CODE, text[a:b], a, b, DECLINE_PHRASES[text[a:b].lower()], 0.8)
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
