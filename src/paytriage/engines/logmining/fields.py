"""Identifiers and structure pulled out of log lines, so the ids a line mentions become indexed columns.

Free-text and logfmt lines carry transaction, request, merchant and customer ids only inside the
message (``auth declined txn=pay_0001 merchant=m_0042``, ``Refund re_9 created for payment pay_1``).
Investigations look them up by id; stored in their own indexed columns they are an index seek, left in
the message they are a time-bounded ``LIKE`` scan. Two rule tables, tried in order:

* **keys** (``txn=``, ``payment_id=``, ``org=``, ``account=`` …): the key names the field;
* **prefixes** (``pay_``, ``ch_``, ``re_``, ``po_``, ``req_``, ``cus_``, ``acct_``, ``m_`` …): the
  id's own shape names it — the same families the triage entity extractor recognises in tickets.

A value whose prefix names a field wins over its key (``account=cus_1`` is a customer). The first id
found for a field is kept. :func:`parse_logfmt` reads ``k=v k2="v 2"`` pairs, quotes and escapes
included, and the pairs nested in a quoted ``msg="… payout_id=po_1 …"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from paytriage.domain import LogEvent, LogLevel

__all__ = [
    "KEY_FIELDS",
    "PREFIX_FIELDS",
    "RULES_VERSION",
    "IdField",
    "LineFields",
    "enrich_event",
    "extract_fields",
    "parse_logfmt",
    "split_logger",
]

#: Bump when a rule table changes; ``paytriage logs reindex`` reports it.
RULES_VERSION = "2026-11-23"


class IdField(StrEnum):
    TRANSACTION = "transaction_id"
    REQUEST = "request_id"
    MERCHANT = "merchant_id"
    CUSTOMER = "customer_id"


def _each(words: str, f: IdField) -> dict[str, IdField]:
    return dict.fromkeys(words.split(), f)


#: Key names (lower case, ``-``/``.`` read as ``_``) → the field their value fills.
KEY_FIELDS: dict[str, IdField] = {
    # Payments, refunds, payouts, transfers: each is a row of ``transactions``.
    **_each(
        "txn txn_id tx tx_id trx trx_id transaction transaction_id payment payment_id payment_intent "
        "payment_intent_id charge charge_id refund refund_id payout payout_id transfer transfer_id "
        "capture_id auth_id topup topup_id top_up_id deposit deposit_id withdrawal withdrawal_id",
        IdField.TRANSACTION,
    ),
    # The API request that carried the call.
    **_each("req req_id request request_id requestid x_request_id correlation_id", IdField.REQUEST),
    # The merchant (organisation, account on a platform).
    **_each(
        "merchant merchant_id mid org org_id organization organization_id merchant_account", IdField.MERCHANT
    ),
    # The paying customer (end user, account holder).
    **_each("customer customer_id cust cust_id cus account_holder payer payer_id", IdField.CUSTOMER),
}

#: Id prefixes (``<prefix>_<body>``) → field. Widely used by payment APIs (Stripe-style ``ch_``/``pi_``/
#: ``re_``/``po_``/``acct_``/``cus_``) and by the id generators of many platforms (``txn_``, ``req_``).
PREFIX_FIELDS: dict[str, IdField] = {
    **_each("pay py ch pi re rf po pyr tr txn tx trx dp tu wd payout refund topup", IdField.TRANSACTION),
    **_each("req request", IdField.REQUEST),
    **_each("m mer merch acct org", IdField.MERCHANT),
    **_each("cus cust cu", IdField.CUSTOMER),
}

#: ``key=value`` pairs: bare values end at whitespace (a trailing ``,;`` is punctuation, not value);
#: quoted values may hold spaces and ``\"`` escapes.
_PAIR = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]{0,40})=("(?:[^"\\]|\\.)*"|[^\s"]*)')
#: A prefixed id anywhere (``pay_0001``, ``/v1/payouts/po_9``); the body holds a digit.
_PREFIXED = re.compile(r"(?<![A-Za-z0-9_])([a-z]{1,8})_(?=[A-Za-z_]*\d)([A-Za-z0-9]{4,64})(?![A-Za-z0-9_])")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: What a stored id may look like: one token, no spaces or quotes, at most 128 characters.
_ID_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{2,127}$")
_LEVEL_KEYS = ("level", "lvl", "severity", "loglevel")
_SERVICE_KEYS = ("service", "svc", "app", "application", "component", "logger")

#: ``[LEVEL] logger - message`` after a bracketed thread (logback/log4j ``%thread %level %logger - %msg``)
#: or ``logger: message`` (Python logging's ``%(levelname)s %(name)s: %(message)s``).
_LOGGER_HEAD = re.compile(
    r"^(?:(?P<level>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|SEVERE|CRITICAL)\s+)?"
    r"(?P<logger>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)(?:\s+-|:)\s",
)


@dataclass(slots=True)
class LineFields:
    """What one line says about itself beyond its timestamp and text."""

    transaction_id: str | None = None
    request_id: str | None = None
    merchant_id: str | None = None
    customer_id: str | None = None
    level: str | None = None
    service: str | None = None

    def get(self, f: IdField) -> str | None:
        value: str | None = getattr(self, f.value)
        return value

    def offer(self, f: IdField, value: str) -> None:
        """Keep ``value`` for ``f`` unless the field already has one."""
        if getattr(self, f.value) is None and _ID_VALUE.match(value):
            setattr(self, f.value, value)


def parse_logfmt(text: str, *, nested: bool = True) -> list[tuple[str, str]]:
    """The ``key=value`` pairs of a logfmt line (or of any text holding some), in order.

    Quoted values are unquoted (``\\"`` and ``\\\\`` unescaped); with ``nested`` the pairs inside a
    quoted value follow it (``msg="payout submitted payout_id=po_1"`` gives ``payout_id``).
    """
    out: list[tuple[str, str]] = []
    for m in _PAIR.finditer(text):
        key, raw = m.group(1), m.group(2)
        if raw.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
            out.append((key, value))
            if nested and "=" in value:
                out += parse_logfmt(value, nested=False)
        else:
            out.append((key, raw.rstrip(",;")))
    return out


def _prefix_field(value: str) -> IdField | None:
    m = _PREFIXED.fullmatch(value)
    return PREFIX_FIELDS.get(m.group(1)) if m else None


def extract_fields(message: str) -> LineFields:
    """Ids, level and service named in ``message`` (keys first, then bare prefixed ids in order)."""
    found = LineFields()
    if "=" in message:
        for key, value in parse_logfmt(message):
            k = key.lower().replace("-", "_").replace(".", "_")
            if k in _LEVEL_KEYS and found.level is None and value:
                found.level = value
                continue
            if k in _SERVICE_KEYS and found.service is None and _ID_VALUE.match(value):
                found.service = value
                continue
            by_shape = _prefix_field(value)
            by_key = KEY_FIELDS.get(k)
            if by_shape is not None:
                found.offer(by_shape, value)
            elif by_key is not None and (
                by_key is not IdField.REQUEST or _UUID.match(value) or any(c.isdigit() for c in value)
            ):
                found.offer(by_key, value)
    if "_" in message:
        for m in _PREFIXED.finditer(message):
            f = PREFIX_FIELDS.get(m.group(1))
            if f is not None:
                found.offer(f, m.group(0))
    return found


def split_logger(message: str) -> tuple[str | None, str | None, str]:
    """``(level, logger, rest)`` of a message that opens with ``[LEVEL] a.b.Logger - `` (logback/log4j
    after a ``[thread]``) or ``a.b.logger: ``, else ``(None, None, message)``.

    ``rest`` keeps the logger and drops the level."""
    m = _LOGGER_HEAD.match(message)
    if m is None:
        return None, None, message
    return m.group("level"), m.group("logger"), message[m.start("logger") :]


def enrich_event(e: LogEvent, *, text_line: bool, default_service: str | None = None) -> LogEvent:
    """Fill ``e``'s empty id columns (and, for a plain-text line, its level and service) from its message.

    A text line's ``[bracket]`` taken as the service is a thread when a Java-style logger follows it
    (``[http-nio-8080-exec-7] ERROR c.p.gateway.Client - …``): the logger becomes the service, the
    thread an attribute, and a level written after the thread the level. Values the record already
    had are never overwritten.
    """
    if text_line:
        level, logger, rest = split_logger(e.message)
        if logger is not None and (e.service is None or e.service != default_service):
            if e.service is not None:
                e.attributes.setdefault("thread", e.service)
            e.service = logger[:64]
            if level is not None:
                if e.level is LogLevel.INFO:
                    e.level = LogLevel.parse(level)
                e.message = rest
    found = extract_fields(e.message)
    e.transaction_id = e.transaction_id or found.transaction_id
    e.request_id = e.request_id or found.request_id
    e.merchant_id = e.merchant_id or found.merchant_id
    e.customer_id = e.customer_id or found.customer_id
    if text_line:
        if found.level is not None and e.level is LogLevel.INFO:
            e.level = LogLevel.parse(found.level)
        if e.service is None and found.service is not None:
            e.service = found.service[:64]
    return e
