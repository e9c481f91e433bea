"""The table of named entity patterns: ids, codes, HTTP statuses, endpoints, software, cards, IBANs, phones.

Each entry is ``(kind, compiled pattern, confidence, group holding the value)``; earlier entries win
overlaps. :data:`GATES` holds, per entry, cheap lower-case substrings one of which must occur for
the pattern to be worth running (an empty tuple: always run).
"""

from __future__ import annotations

import re

from paytriage.engines.triage.codes import ISO20022_CODES, SNAKE_DECLINES
from paytriage.engines.triage.entity import EntityKind

__all__ = ["GATES", "PATTERNS"]


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
    (EntityKind.DECLINE_CODE, _rx(rf"\b(?P<v>{SNAKE_DECLINES})\b", 0), 0.95, "v"),
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
    (EntityKind.DECLINE_CODE, _rx(rf"\b(?P<v>{ISO20022_CODES})\b", 0), 0.7, "v"),
    (
        # gateway / processor error codes: "error code E4280", "processor response code 2046"
        EntityKind.DECLINE_CODE,
        _rx(
            r"\b(?:error|err|gateway|processor|acquirer|issuer|response)[ _]?(?:code|no\.?|number|#)\s*"
            r"(?:is|was|:|#|=)?\s*[\"']?(?P<v>[A-Z]{1,3}[-_]?[0-9]{3,6}|[0-9]{4,5})\b"
            r"(?!\s*(?:%|ms|seconds|minutes|days|[.,]\d))"
        ),
        0.75,
        "v",
    ),
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
            r"(?:[ \-](?:plugin|sdk|module|extension|library|gateway|app))?)\s*(?:(?:to|at)\s+)?"
            r"(?:version\s*|v)?(?P<ver>\d+(?:\.\d+){1,3})?\b"
        ),
        0.7,
        "v",
    ),
    (
        EntityKind.SOFTWARE,
        _rx(
            r"\b(?P<v>[\w\-.]{2,30}?)[ \-](?:plugin|sdk|module|extension|library)\s+(?:(?:to|at)\s+)?"
            r"(?:version\s*|v)?"
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
    (EntityKind.CARD_BIN, _rx(r"\b(?:bin|iin)(?:\s+range)?\s*(?:is|:|#)?\s*(?P<v>\d{6,8})\b"), 0.85, "v"),
    (
        EntityKind.CARD_BIN,
        _rx(
            r"\b(?:cards?|card numbers?|pans?)\s+(?:(?:that|which)\s+)?"
            r"(?:start|starts|starting|begin|begins|beginning)\s+(?:with\s+)?(?P<v>\d{6,8})\b"
        ),
        0.8,
        "v",
    ),
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
GATES: list[tuple[str, ...]] = [
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
    ("err", "gateway", "processor", "acquirer", "issuer", "response"),
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
    ("start", "begin"),
    ("**",),
    ("+",),
    ("phone", "tel", "mobile", "call me", "number"),
]
if len(GATES) != len(PATTERNS):  # pragma: no cover - a maintenance error, caught by any test run
    raise RuntimeError("entities: GATES must have one entry per PATTERNS entry")
