"""Correlation on an in-memory world: ids, fuzzy matches, lifecycles, logs around the case, template rates.

The world builders here are shared by the hypothesis, service and API tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from paytriage.domain import (
    LogEvent,
    LogLevel,
    Money,
    Release,
    StatusEvent,
    Ticket,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from paytriage.engines.investigate.correlation import (
    Correlator,
    clues_from_tickets,
    effective_level,
    status_as_of,
)
from paytriage.engines.investigate.evidence import LogQuery, MemoryEvidence, TxnQuery
from paytriage.engines.logmining.fields import enrich_event

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BINS = ("411111", "422222", "433333", "444444", "455555", "465901")
_seq = iter(range(1, 10**9))


def pay(
    at: datetime,
    *,
    bin6: str = "411111",
    code: str = "00",
    customer: str | None = None,
    merchant: str = "m_0000001",
    amount: int = 1000,
    currency: str = "EUR",
    last4: str = "0001",
    kind: TransactionKind = TransactionKind.PAYMENT,
    status: TransactionStatus | None = None,
    parent: str | None = None,
    attrs: dict[str, Any] | None = None,
    ident: str | None = None,
) -> Transaction:
    n = next(_seq)
    approved = code == "00"
    st = status or (TransactionStatus.CAPTURED if approved else TransactionStatus.DECLINED)
    return Transaction(
        external_id=ident or f"pay_{n:012d}",
        source="test",
        kind=kind,
        amount=Money(amount, currency),
        status=st,
        created_at=at,
        merchant_id=merchant,
        customer_id=customer or f"cus_{n:06d}",
        card_bin=bin6,
        card_last4=last4,
        response_code=None if kind is not TransactionKind.PAYMENT else code,
        parent_id=parent,
        country="GB",
        attributes=dict(attrs or {}),
        events=[
            StatusEvent(at=at, status=TransactionStatus.CREATED),
            StatusEvent(at=at + timedelta(seconds=1), status=st, code=None if approved else code),
        ],
    )


def log(
    at: datetime,
    message: str,
    *,
    level: LogLevel = LogLevel.INFO,
    txn: str | None = None,
    merchant: str | None = None,
    service: str = "payments-core",
    http: int | None = None,
    attrs: dict[str, Any] | None = None,
) -> LogEvent:
    return LogEvent(
        timestamp=at,
        message=message,
        service=service,
        level=level,
        transaction_id=txn,
        merchant_id=merchant,
        http_status=http,
        attributes=dict(attrs or {}),
        fingerprint=f"fp{next(_seq)}",
    )


def background(days: int = 8) -> tuple[list[Transaction], list[LogEvent]]:
    """Ordinary traffic around 06:00-18:00 on each of ``days`` days up to T0: approvals, a few 05s."""
    txns, logs = [], []
    k = 0
    for d in range(days):
        day = T0 - timedelta(days=d)
        for minute in range(-360, 360, 20):
            at = day + timedelta(minutes=minute, seconds=7)
            if at > T0:
                continue
            k += 1
            code = "05" if k % 9 == 0 else "00"
            t = pay(at, bin6=BINS[k % 5], code=code, merchant=f"m_{k % 7:07d}", last4=f"{k % 9999:04d}")
            txns.append(t)
            word = "approved" if code == "00" else "declined"
            logs.append(
                log(
                    at,
                    f"auth {word} txn={t.external_id} merchant={t.merchant_id} bin={t.card_bin} rc={code}",
                    level=LogLevel.INFO if code == "00" else LogLevel.WARNING,
                )
            )
    return txns, logs


def issuer_outage(n: int = 12) -> tuple[list[Transaction], list[LogEvent]]:
    """``n`` declines with 91 on BIN 465901 in the hour before T0, each logged by the scheme adapter."""
    txns, logs = [], []
    for k in range(n):
        at = T0 - timedelta(minutes=55) + timedelta(minutes=4 * k)
        t = pay(at, bin6="465901", code="91", merchant=f"m_{k % 5:07d}", customer=f"cus_9{k:05d}")
        txns.append(t)
        logs.append(
            log(
                at,
                f"auth declined txn={t.external_id} merchant={t.merchant_id} bin=465901 rc=91",
                level=LogLevel.WARNING,
            )
        )
        logs.append(
            log(at, "issuer response 91 from scheme for bin=465901 retryable=true", level=LogLevel.ERROR)
        )
    return txns, logs


def ticket(text: str, at: datetime = T0 + timedelta(minutes=10), **custom: Any) -> Ticket:
    return Ticket(
        external_id=f"T-{next(_seq)}",
        source="test",
        created_at=at,
        description=text,
        requester_id=custom.pop("requester_id", None),
        custom_fields=custom,
    )


def world(
    *parts: tuple[list[Transaction], list[LogEvent]], releases: list[Release] | None = None
) -> MemoryEvidence:
    txns = [t for p in parts for t in p[0]]
    logs = [enrich_event(e, text_line=False) for p in parts for e in p[1]]  # ids from text, as ingest does
    return MemoryEvidence(txns, logs, releases or [])


# -- tests ------------------------------------------------------------------------------------------


def test_clues_from_fields_text_and_entities() -> None:
    t = ticket(
        "Payment pay_000000000042 for €12.50 was declined, response code 91. request req_ab12cd34ef",
        merchant_id="m_0000003",
        requester_id="cus_000777",
        integration="woocommerce 4.1.3",
    )
    clues = clues_from_tickets([t])
    assert "pay_000000000042" in clues.ids and "req_ab12cd34ef" in clues.ids
    assert clues.merchant_ids == ["m_0000003"]
    assert "cus_000777" in clues.customer_ids
    assert Money(1250, "EUR") in clues.amounts
    assert "woocommerce 4.1.3" in clues.software
    assert clues.opened_at == clues.as_of == t.created_at


def test_transaction_by_id_with_lifecycle_and_logs() -> None:
    txns, logs = issuer_outage()
    target = txns[-1]
    src = world(background(), (txns, logs))
    corr = Correlator().correlate(clues_from_tickets([ticket(f"declined: {target.external_id}")]), src)
    assert [t.external_id for t in corr.transactions] == [target.external_id]
    assert corr.matched_by[target.external_id] == "id in ticket"
    assert corr.focus == target.created_at
    assert any(target.external_id in e.message for e in corr.logs)
    assert corr.baseline_days == [1, 2, 3, 4, 5, 6, 7]


def test_fuzzy_match_by_customer_and_amount_prefers_the_amount() -> None:
    other = pay(T0 - timedelta(hours=5), customer="cus_000123", amount=999, code="05")
    right = pay(T0 - timedelta(hours=20), customer="cus_000123", amount=4599, code="51")
    src = MemoryEvidence([other, right])
    corr = Correlator().correlate(
        clues_from_tickets([ticket("my card was declined for €45.99", requester_id="cus_000123")]), src
    )
    assert corr.transactions[0].external_id == right.external_id
    assert corr.matched_by[right.external_id].startswith("fuzzy: customer + amount")


def test_no_fuzzy_match_for_old_unremarkable_transactions() -> None:
    old = pay(T0 - timedelta(days=10), customer="cus_000124", amount=500)
    corr = Correlator().correlate(
        clues_from_tickets([ticket("how do I change my email?", requester_id="cus_000124")]),
        MemoryEvidence([old]),
    )
    assert corr.transactions == []


def test_template_rate_against_baseline_is_counted_per_template() -> None:
    txns, logs = issuer_outage(n=10)
    src = world(background(), (txns, logs))
    corr = Correlator().correlate(clues_from_tickets([ticket(f"help {txns[-1].external_id}")]), src)
    rates = {r.template: r for r in corr.templates}
    declined = next(r for t, r in rates.items() if t.startswith("auth declined"))
    assert declined.current >= 10 and declined.baseline < 3
    assert declined.ratio > 3 and declined.baseline_days == 7


def test_status_as_of_replays_the_lifecycle() -> None:
    t = pay(T0, code="00")
    t.events = [
        StatusEvent(T0, TransactionStatus.CREATED),
        StatusEvent(T0 + timedelta(hours=1), TransactionStatus.PENDING),
        StatusEvent(T0 + timedelta(days=2), TransactionStatus.SUCCEEDED),
    ]
    assert status_as_of(t, T0 + timedelta(minutes=1)) is TransactionStatus.CREATED
    assert status_as_of(t, T0 + timedelta(hours=5)) is TransactionStatus.PENDING
    assert status_as_of(t, T0 + timedelta(days=3)) is TransactionStatus.SUCCEEDED
    assert status_as_of(t, T0 - timedelta(days=1)) is TransactionStatus.CREATED


def test_effective_level_reads_logfmt_but_never_lowers() -> None:
    assert effective_level(log(T0, 'level=warn service=payouts msg="x"')) == "warning"
    assert effective_level(log(T0, "level=info msg=y", level=LogLevel.ERROR)) == "error"
    assert effective_level(log(T0, "plain text")) == "info"


def test_memory_queries_follow_the_documented_semantics() -> None:
    a = pay(T0, merchant="m_a", ident="pay_a00000001")
    b = pay(T0 + timedelta(minutes=1), merchant="m_b", ident="pay_b00000001", parent="pay_a00000001")
    e1 = log(T0, "x mentions m_zz here", merchant="m_a")
    e2 = log(T0 + timedelta(minutes=2), "y", txn="pay_b00000001", level=LogLevel.ERROR)
    src = MemoryEvidence([a, b], [e1, e2])
    assert [t.external_id for t in src.transactions(TxnQuery(parent_ids=("pay_a00000001",)), limit=5)] == [
        "pay_b00000001"
    ]
    assert [t.external_id for t in src.transactions(TxnQuery(), limit=5)] == [
        "pay_b00000001",
        "pay_a00000001",
    ]
    assert src.count_logs(LogQuery(mentions=("m_zz",), transaction_ids=("pay_b00000001",))) == 2
    assert src.count_logs(LogQuery(levels=("error",))) == 1
    assert src.count_logs(LogQuery(start=T0 + timedelta(minutes=1))) == 1
