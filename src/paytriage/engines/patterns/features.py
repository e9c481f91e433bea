"""Plain ticket features the pattern engines consume: text, entity keys, time and impact.

The grouping engine never sees a domain ``Ticket`` or a database row, only this flat record, so
the same code runs in-process, inside a Spark task or in a test with hand-written inputs.
:func:`features_from_ticket` builds one from a domain ticket, reusing the entities triage stored
when there are any (else running the triage entity extractor); :func:`map_features` builds many
in forked workers while the caller groups.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

from paytriage.domain.ticket import Ticket

__all__ = [
    "KEY_WEIGHTS",
    "KeyKind",
    "TicketFeatures",
    "default_workers",
    "entity_keys",
    "features_from_ticket",
    "keys_from_entities",
    "map_features",
    "tokenize",
    "with_intents",
]

_R = TypeVar("_R")


class KeyKind(StrEnum):
    """Entity kinds that can tie tickets into one problem; the value is the key prefix."""

    ERROR_CODE = "error"
    BIN = "bin"
    PLUGIN = "plugin"
    ENDPOINT = "endpoint"
    BANK = "bank"
    #: the acquirer or processor a transaction went through (not a bank the customer chose)
    PROCESSOR = "processor"
    COUNTRY = "country"
    MERCHANT = "merchant"
    CURRENCY = "currency"
    FILE_TYPE = "file"
    #: the intent group a text clusterer fitted on past tickets puts the ticket in (``intent:17``):
    #: customers word one failure many ways and rarely paste an identifier
    INTENT = "intent"


#: How much one shared key of each kind says "same problem". A recent error code, BIN or plugin
#: version alone is enough to join (0.5 >= the grouper's default threshold 0.45); a country or a
#: merchant alone is weak (one merchant has many unrelated issues) and only adds to text evidence.
KEY_WEIGHTS: dict[KeyKind, float] = {
    KeyKind.ERROR_CODE: 0.5,
    KeyKind.PLUGIN: 0.5,
    KeyKind.BIN: 0.5,
    KeyKind.ENDPOINT: 0.30,
    KeyKind.BANK: 0.25,
    KeyKind.PROCESSOR: 0.25,
    KeyKind.MERCHANT: 0.10,
    KeyKind.COUNTRY: 0.05,
    KeyKind.CURRENCY: 0.05,
    KeyKind.FILE_TYPE: 0.25,
    KeyKind.INTENT: 0.25,
}

#: File types people name when an upload or export fails: (pattern, normalised name).
_FILE_TYPE_NAMES: tuple[tuple[str, str], ...] = (
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
#: All of them in one pass (one group per type): a whole word, or an extension after a dot.
_FILE_TYPES = re.compile(
    r"(?:(?<=\.)|(?<![\w-]))(?:" + "|".join(f"({p})" for p, _ in _FILE_TYPE_NAMES) + r")(?![\w-])",
    re.IGNORECASE,
)
_KNOWN_KINDS = frozenset(k.value for k in KeyKind)

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
    ``term_counts`` (``Counter(tokenize(text))``, in token order) is set by batch builders so the
    sequential grouper does not tokenise again; ``None`` means "tokenise ``text``".
    """

    ticket_id: str
    text: str
    created_at: datetime
    keys: frozenset[str] = frozenset()
    customer_id: str | None = None
    merchant_id: str | None = None
    transaction_ids: tuple[str, ...] = ()
    amounts_minor: Mapping[str, int] = field(default_factory=dict)
    term_counts: Mapping[str, int] | None = None


#: "WooCommerce plugin" and "WooCommerce" name one plugin: the kind word is not part of the key.
_PLUGIN_SUFFIX = re.compile(r"[ \-_](?:plugin|sdk|module|extension|library|gateway|app)(?=@|$)")


def entity_keys(entities: Mapping[str, Iterable[str] | str | None]) -> frozenset[str]:
    """Normalise ``{kind: value(s)}`` into ``kind:value`` keys; unknown kinds are ignored.

    BINs are cut to six digits (an eight-digit BIN still shares its range); plugin versions keep
    ``name@version`` so that a bug in one release does not merge with the plugin's other tickets.
    """
    out: set[str] = set()
    known = _KNOWN_KINDS
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
            elif kind == KeyKind.PLUGIN.value:
                value = _PLUGIN_SUFFIX.sub("", value)
            out.add(f"{kind}:{value}")
    return frozenset(out)


#: Triage entity kinds (``EntityKind`` values) that are grouping keys, and the key kind each becomes.
_ENTITY_KEY_KINDS: dict[str, KeyKind] = {
    "decline_code": KeyKind.ERROR_CODE,
    "error_message": KeyKind.ERROR_CODE,
    "http_status": KeyKind.ERROR_CODE,
    "card_bin": KeyKind.BIN,
    "software": KeyKind.PLUGIN,
    "api_endpoint": KeyKind.ENDPOINT,
    "merchant_id": KeyKind.MERCHANT,
}


def _file_types(text: str, out: dict[str, list[str]]) -> None:
    names = {_FILE_TYPE_NAMES[m.lastindex - 1][1] for m in _FILE_TYPES.finditer(text) if m.lastindex}
    if names:
        out.setdefault(KeyKind.FILE_TYPE.value, []).extend(sorted(names))


def keys_from_entities(text: str, entities: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Grouping keys from the entities triage already stored with a case (``{"kind", "value"}``
    dicts as in ``TriageResult.to_dict()``), plus the file types named in ``text``.

    Why: extraction is most of the cost of building features, and triage has done it once already;
    reading its stored output gives the same keys without running the extractor again."""
    out: dict[str, list[str]] = {}
    _file_types(text, out)
    for ent in entities:
        kind = _ENTITY_KEY_KINDS.get(str(ent.get("kind")))
        value = ent.get("value")
        if value is None:
            value = ent.get("text")
        if kind is not None and value is not None:
            out.setdefault(kind.value, []).append(_entity_value(value))
    return out


def _ticket_entities(text: str) -> dict[str, list[str]]:
    """Entities from the triage extractor, mapped onto grouping key kinds."""
    from paytriage.engines.triage.entities import EntityExtractor

    out: dict[str, list[str]] = {}
    _file_types(text, out)
    for ent in _extractor(EntityExtractor).extract(text):
        kind = _ENTITY_KEY_KINDS.get(ent.kind.value)
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
    entities: Iterable[Mapping[str, Any]] | None = None,
    count_terms: bool = False,
) -> TicketFeatures:
    """Features of a domain ticket: entity keys from its text plus structured fields.

    ``extra_keys`` carries what investigation already knows (bank, country, merchant) so
    grouping does not depend on the customer having typed it. ``entities`` are the entities triage
    stored with the case: given, they are used instead of extracting again (see
    :func:`keys_from_entities`). ``count_terms`` fills ``term_counts`` (for batch workers).
    """
    text = ticket.text
    ents = _ticket_entities(text) if entities is None else keys_from_entities(text, entities)
    merchant = ticket.organization
    if merchant:
        ents.setdefault(KeyKind.MERCHANT.value, []).append(merchant)
    keys = entity_keys(ents) | entity_keys(extra_keys or {})
    return TicketFeatures(
        ticket_id=ticket.external_id if ticket.id is None else str(ticket.id),
        text=text,
        created_at=ticket.created_at,
        keys=keys,
        customer_id=ticket.requester_id or ticket.requester_email,
        merchant_id=merchant,
        transaction_ids=tuple(transaction_ids),
        amounts_minor=dict(amounts_minor or {}),
        term_counts=Counter(tokenize(text)) if count_terms else None,
    )


def with_intents(features: Sequence[TicketFeatures], clusterer: Any) -> None:
    """Give each ticket the key ``intent:<group>`` of a text clusterer fitted on past tickets
    (anything with ``predict(texts)``, e.g. a loaded
    :class:`~paytriage.engines.patterns.intents.TextClusterer`), in one batch. Why: customers word
    one failure many ways ("my top-up is still pending", "money I added hasn't shown up") and rarely
    paste an identifier, so without it a surge of one intent shows only as its broad category."""
    if not features:
        return
    groups = clusterer.predict([f.text for f in features])
    for feats, group in zip(features, groups, strict=True):
        feats.keys = feats.keys | {f"{KeyKind.INTENT.value}:{int(group)}"}


def _apply_chunk(job: tuple[Callable[[Any], TicketFeatures], list[Any]]) -> list[TicketFeatures]:
    func, items = job
    return [func(item) for item in items]


def default_workers() -> int:
    """Feature workers beside the process that groups: one core each, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


def map_features(
    func: Callable[[_R], TicketFeatures],
    records: Iterable[_R],
    *,
    workers: int | None = None,
    chunk_size: int = 1000,
) -> Iterator[TicketFeatures]:
    """``func`` over ``records`` in a pool of forked workers, yielded in input order.

    Why: building features (parsing, entity keys, word counts) parallelises, grouping does not; the
    workers run ahead of the grouper on the other cores. At most ``2 * workers`` chunks are in
    flight, so a million-row input is never all in memory. ``func`` must be a module-level
    function (it is pickled by reference). ``workers=0`` runs in this process."""
    n = default_workers() if workers is None else workers
    if n <= 0 or "fork" not in mp.get_all_start_methods():
        yield from map(func, records)
        return
    pending: deque[AsyncResult[list[TicketFeatures]]] = deque()
    with mp.get_context("fork").Pool(n) as pool:
        for chunk in _chunks(records, chunk_size):
            pending.append(pool.apply_async(_apply_chunk, ((func, chunk),)))
            if len(pending) >= 2 * n:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def _chunks(items: Iterable[_R], size: int) -> Iterator[list[_R]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
