"""Plain ticket features the pattern engines consume: text, entity keys, time and impact.

The grouping engine never sees a domain ``Ticket`` or a database row, only this flat record, so
the same code runs in-process, inside a Spark task or in a test with hand-written inputs.
:func:`features_from_ticket` builds one from a domain ticket with the triage entity extractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from paytriage.domain.ticket import Ticket

__all__ = [
    "KEY_WEIGHTS",
    "KeyKind",
    "TicketFeatures",
    "entity_keys",
    "features_from_ticket",
    "tokenize",
]


class KeyKind(StrEnum):
    """Entity kinds that can tie tickets into one problem; the value is the key prefix."""

    ERROR_CODE = "error"
    BIN = "bin"
    PLUGIN = "plugin"
    ENDPOINT = "endpoint"
    BANK = "bank"
    COUNTRY = "country"
    MERCHANT = "merchant"
    CURRENCY = "currency"
    FILE_TYPE = "file"


#: How much one shared key of each kind says "same problem". A recent error code, BIN or plugin
#: version alone is enough to join (0.5 >= the grouper's default threshold 0.45); a country or a
#: merchant alone is weak (one merchant has many unrelated issues) and only adds to text evidence.
KEY_WEIGHTS: dict[KeyKind, float] = {
    KeyKind.ERROR_CODE: 0.5,
    KeyKind.PLUGIN: 0.5,
    KeyKind.BIN: 0.5,
    KeyKind.ENDPOINT: 0.30,
    KeyKind.BANK: 0.25,
    KeyKind.MERCHANT: 0.10,
    KeyKind.COUNTRY: 0.05,
    KeyKind.CURRENCY: 0.05,
    KeyKind.FILE_TYPE: 0.25,
}

#: File types people name when an upload or export fails: (pattern, normalised name), compiled once.
_FILE_TYPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?:(?<=\.)|(?<![\w-]))(?:{pattern})(?![\w-])", re.IGNORECASE), name)
    for pattern, name in (
        (r"pdf", "pdf"),
        (r"jpe?g", "jpeg"),
        (r"png", "png"),
        (r"heic|heif", "heic"),
        (r"tiff?", "tiff"),
        (r"csv", "csv"),
        (r"xlsx?", "xlsx"),
        (r"docx?", "docx"),
        (r"xml", "xml"),
        (r"mt940|camt\.?05[234]", "bank-statement"),
    )
)

_TOKEN = re.compile(r"[a-z][a-z0-9_]{2,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "has",
        "had",
        "not",
        "are",
        "was",
        "were",
        "but",
        "our",
        "can",
        "please",
        "from",
        "any",
        "all",
        "when",
        "what",
        "there",
        "their",
        "been",
        "will",
        "would",
        "could",
        "should",
        "into",
        "about",
        "also",
        "just",
        "they",
        "them",
        "its",
        "it's",
        "hello",
        "dear",
        "thanks",
        "thank",
        "regards",
        "team",
        "customer",
        "support",
        "ticket",
        "issue",
        "problem",
        "help",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of three or more characters, minus a small stop list.

    Numbers are left to the entity keys: in payments text they are ids and amounts, which would
    make every ticket look unique to a bag of words.
    """
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


@dataclass(slots=True)
class TicketFeatures:
    """One ticket as the pattern engines see it.

    ``keys`` are ``"kind:value"`` strings (see :class:`KeyKind`), e.g. ``"bin:411111"`` or
    ``"plugin:woocommerce@8.2.1"``; ``amounts_minor`` maps currency to minor units.
    """

    ticket_id: str
    text: str
    created_at: datetime
    keys: frozenset[str] = frozenset()
    customer_id: str | None = None
    merchant_id: str | None = None
    transaction_ids: tuple[str, ...] = ()
    amounts_minor: Mapping[str, int] = field(default_factory=dict)


def entity_keys(entities: Mapping[str, Iterable[str] | str | None]) -> frozenset[str]:
    """Normalise ``{kind: value(s)}`` into ``kind:value`` keys; unknown kinds are ignored.

    BINs are cut to six digits (an eight-digit BIN still shares its range); plugin versions keep
    ``name@version`` so that a bug in one release does not merge with the plugin's other tickets.
    """
    out: set[str] = set()
    known = {k.value for k in KeyKind}
    for kind, values in entities.items():
        if kind not in known or values is None:
            continue
        for raw in [values] if isinstance(values, str) else values:
            value = str(raw).strip().lower()
            if not value:
                continue
            if kind == KeyKind.BIN.value:
                value = re.sub(r"\D", "", value)[:6]
                if len(value) < 6:
                    continue
            out.add(f"{kind}:{value}")
    return frozenset(out)


def _ticket_entities(text: str) -> dict[str, list[str]]:
    """Entities from the triage extractor, mapped onto grouping key kinds."""
    from paytriage.engines.triage.entities import EntityExtractor, EntityKind

    mapping: dict[EntityKind, KeyKind] = {
        EntityKind.DECLINE_CODE: KeyKind.ERROR_CODE,
        EntityKind.ERROR_MESSAGE: KeyKind.ERROR_CODE,
        EntityKind.HTTP_STATUS: KeyKind.ERROR_CODE,
        EntityKind.CARD_BIN: KeyKind.BIN,
        EntityKind.SOFTWARE: KeyKind.PLUGIN,
        EntityKind.API_ENDPOINT: KeyKind.ENDPOINT,
        EntityKind.MERCHANT_ID: KeyKind.MERCHANT,
    }
    out: dict[str, list[str]] = {}
    for pattern, name in _FILE_TYPES:
        if pattern.search(text):
            out.setdefault(KeyKind.FILE_TYPE.value, []).append(name)
    for ent in _extractor(EntityExtractor).extract(text):
        kind = mapping.get(ent.kind)
        if kind is not None:
            out.setdefault(kind.value, []).append(_entity_value(ent.value))
    return out


_EXTRACTOR: list[Any] = []


def _extractor(cls: type[Any]) -> Any:
    if not _EXTRACTOR:
        _EXTRACTOR.append(cls())
    return _EXTRACTOR[0]


def _entity_value(value: Any) -> str:
    if isinstance(value, Mapping):
        name, version = value.get("name"), value.get("version")
        return f"{name}@{version}" if version else str(name)
    if isinstance(value, tuple | list):
        return "@".join(str(v) for v in value if v)
    return str(value)


def features_from_ticket(
    ticket: Ticket,
    *,
    extra_keys: Mapping[str, Iterable[str] | str | None] | None = None,
    transaction_ids: Sequence[str] = (),
    amounts_minor: Mapping[str, int] | None = None,
) -> TicketFeatures:
    """Features of a domain ticket: entity keys from its text plus structured fields.

    ``extra_keys`` carries what investigation already knows (bank, country, merchant) so
    grouping does not depend on the customer having typed it.
    """
    ents: dict[str, list[str]] = _ticket_entities(ticket.text)
    merchant = ticket.organization
    if merchant:
        ents.setdefault(KeyKind.MERCHANT.value, []).append(merchant)
    keys = entity_keys(ents) | entity_keys(extra_keys or {})
    return TicketFeatures(
        ticket_id=ticket.external_id if ticket.id is None else str(ticket.id),
        text=ticket.text,
        created_at=ticket.created_at,
        keys=keys,
        customer_id=ticket.requester_id or ticket.requester_email,
        merchant_id=merchant,
        transaction_ids=tuple(transaction_ids),
        amounts_minor=dict(amounts_minor or {}),
    )
