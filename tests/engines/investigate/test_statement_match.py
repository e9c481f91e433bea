"""Withdrawal-not-received explanations on the fixture statements (table-driven)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paytriage.domain import Money, Transaction, TransactionKind, TransactionStatus
from paytriage.domain.taxonomy import Route
from paytriage.engines.investigate.statement_match import PayoutOutcome, StatementMatcher
from paytriage.engines.investigate.statements import read_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "statements"
FILES = [read_bank_file(p) for p in sorted(FIXTURES.iterdir())]
LINES = [ln for f in FILES for ln in f.lines]
STATUSES = [s for f in FILES for s in f.statuses]


def _tx(ref: str, minor: int, ccy: str, day: int, status: str = "succeeded") -> Transaction:
    return Transaction(
        external_id=ref,
        source="test",
        kind=TransactionKind.PAYOUT,
        amount=Money(minor, ccy),
        status=TransactionStatus(status),
        created_at=datetime(2024, 5, day, 9, tzinfo=UTC),
    )


CASES = [
    # id, amount, ccy, created day, our status -> outcome, sent, value date, reason, route
    (
        "po_1001",
        12050,
        "EUR",
        1,
        "succeeded",
        PayoutOutcome.SETTLED,
        True,
        date(2024, 5, 2),
        None,
        Route.TIER1,
    ),
    (
        "po_1002",
        7500,
        "EUR",
        1,
        "succeeded",
        PayoutOutcome.RETURNED,
        True,
        date(2024, 5, 2),
        "AC04",
        Route.TIER1,
    ),
    (
        "po_2002",
        4010,
        "GBP",
        5,
        "succeeded",
        PayoutOutcome.RETURNED,
        True,
        date(2024, 5, 6),
        "AC04",
        Route.TIER1,
    ),
    (
        "po_3001",
        99900,
        "USD",
        8,
        "succeeded",
        PayoutOutcome.SETTLED,
        True,
        date(2024, 5, 9),
        None,
        Route.TIER1,
    ),
    ("po_4001", 1000, "EUR", 9, "pending", PayoutOutcome.REJECTED, False, None, "AC01", Route.TIER1),
    ("po_4002", 1000, "EUR", 9, "pending", PayoutOutcome.PENDING, False, None, None, Route.TIER1),
    ("po_9999", 5555, "EUR", 1, "pending", PayoutOutcome.PENDING, False, None, None, Route.PAYMENTS_OPS),
    ("po_0000", 5555, "EUR", 1, "succeeded", PayoutOutcome.NOT_FOUND, False, None, None, Route.PAYMENTS_OPS),
]


@pytest.mark.parametrize(
    ("ref", "minor", "ccy", "day", "status", "outcome", "sent", "vdate", "reason", "route"), CASES
)
def test_explain(
    ref: str,
    minor: int,
    ccy: str,
    day: int,
    status: str,
    outcome: PayoutOutcome,
    sent: bool,
    vdate: date | None,
    reason: str | None,
    route: Route,
) -> None:
    ex = StatementMatcher().explain(_tx(ref, minor, ccy, day, status), LINES, STATUSES)
    assert (ex.outcome, ex.sent, ex.value_date, ex.reason_code, ex.route) == (
        outcome,
        sent,
        vdate,
        reason,
        route,
    )
    if reason:
        assert (
            ex.reason is not None
            and ex.reason.code == reason
            and ex.customer_message == ex.reason.customer_message
        )
    assert ex.summary.startswith(ref)
    if sent:
        assert ex.evidence and ex.evidence[0].split(":")[0].startswith("payouts")
    assert ex.to_dict()["outcome"] == outcome.value


def test_fuzzy_match_without_reference() -> None:
    ex = StatementMatcher().explain(_tx("unrelated_id", 25000, "GBP", 5), LINES, STATUSES)
    assert ex.outcome is PayoutOutcome.SETTLED and ex.debit is not None
    assert ex.debit.method == "fuzzy" and ex.debit.line.end_to_end_id == "po_2001"


def test_fuzzy_respects_window_and_amount() -> None:
    m = StatementMatcher(window_days=2)
    assert m.explain(_tx("unrelated_id", 25000, "GBP", 1), LINES).outcome is PayoutOutcome.NOT_FOUND
    assert m.explain(_tx("unrelated_id", 25001, "GBP", 5), LINES).outcome is PayoutOutcome.NOT_FOUND
    loose = StatementMatcher(amount_tolerance_minor=5)
    assert loose.explain(_tx("unrelated_id", 25001, "GBP", 5), LINES).outcome is PayoutOutcome.SETTLED
