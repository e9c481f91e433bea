"""Match payouts and transfers to bank-statement lines and explain "withdrawal not received".

References first (end-to-end id, our id quoted in a reference or the remittance text), then a fuzzy
pass on amount, currency, direction, a value-date window and the counterparty name. The explanation is
a structured verdict - sent (with value date), returned or rejected (with the decoded reason code),
pending, or not found - that cites the statement lines it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz

from paytriage.domain.money import Money
from paytriage.domain.taxonomy import Route
from paytriage.domain.transaction import Transaction
from paytriage.engines.investigate.codes import CodeBook, CodeInfo
from paytriage.engines.investigate.statement_line import CreditDebit, PaymentStatusLine, StatementLine

__all__ = ["LineMatch", "PayoutOutcome", "StatementMatcher", "WithdrawalExplanation"]

_REF_KEYS = ("end_to_end_id", "reference", "bank_reference", "instruction_id", "payment_reference", "uetr")
_PENDING = {"PDNG", "ACSP", "ACTC", "ACCP", "ACWC", "RCVD", "PART"}


class PayoutOutcome(StrEnum):
    SETTLED = "settled"
    RETURNED = "returned"
    REJECTED = "rejected"
    PENDING = "pending"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class LineMatch:
    """A statement line believed to be the transaction (or its return), and why."""

    line: StatementLine
    method: str  # "end_to_end_id" | "reference" | "reference_in_text" | "fuzzy"
    score: float
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
            "line": self.line.to_dict(),
        }


@dataclass(slots=True)
class WithdrawalExplanation:
    """The verdict for one payout, with the evidence it rests on."""

    transaction_id: str
    outcome: PayoutOutcome
    sent: bool
    amount: str
    value_date: date | None = None
    booking_date: date | None = None
    debit: LineMatch | None = None
    return_line: LineMatch | None = None
    status: PaymentStatusLine | None = None
    reason_code: str | None = None
    reason: CodeInfo | None = None
    ambiguous: bool = False
    summary: str = ""
    customer_message: str = ""
    route: Route = Route.TIER1
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "outcome": self.outcome.value,
            "sent": self.sent,
            "amount": self.amount,
            "value_date": self.value_date.isoformat() if self.value_date else None,
            "booking_date": self.booking_date.isoformat() if self.booking_date else None,
            "debit": self.debit.to_dict() if self.debit else None,
            "return": self.return_line.to_dict() if self.return_line else None,
            "status": self.status.to_dict() if self.status else None,
            "reason_code": self.reason_code,
            "reason": self.reason.to_dict() if self.reason else None,
            "ambiguous": self.ambiguous,
            "summary": self.summary,
            "customer_message": self.customer_message,
            "route": self.route.value,
            "evidence": list(self.evidence),
        }


def _tx_refs(tx: Transaction) -> set[str]:
    refs = {tx.external_id}
    for key in _REF_KEYS:
        value = tx.attributes.get(key)
        if isinstance(value, str) and value.strip():
            refs.add(value.strip())
    return {r.upper() for r in refs if len(r) >= 4}


def _in_text(ref: str, text: str) -> bool:
    return re.search(rf"(?<![A-Z0-9_]){re.escape(ref)}(?![A-Z0-9_])", text.upper()) is not None


class StatementMatcher:
    """Finds a transaction's statement lines; parameters are plain, tunable knobs."""

    def __init__(
        self,
        *,
        window_days: int = 5,
        amount_tolerance_minor: int = 0,
        min_fuzzy_score: float = 0.7,
        overdue_days: int = 3,
        codebook: CodeBook | None = None,
    ) -> None:
        self.window_days = window_days
        self.amount_tolerance_minor = amount_tolerance_minor
        self.min_fuzzy_score = min_fuzzy_score
        self.overdue_days = overdue_days
        self.codebook = codebook

    def by_reference(self, tx: Transaction, lines: Iterable[StatementLine]) -> list[LineMatch]:
        refs = _tx_refs(tx)
        out: list[LineMatch] = []
        for line in lines:
            if line.currency != tx.amount.currency:
                continue
            if line.end_to_end_id and line.end_to_end_id.upper() in refs:
                out.append(LineMatch(line, "end_to_end_id", 1.0, (f"end-to-end id {line.end_to_end_id}",)))
            elif hit := next((r for r in line.references if r.upper() in refs), None):
                out.append(LineMatch(line, "reference", 0.95, (f"reference {hit}",)))
            elif hit := next(
                (r for r in refs if _in_text(r, f"{line.remittance} {' '.join(line.references)}")), None
            ):
                out.append(LineMatch(line, "reference_in_text", 0.9, (f"{hit} quoted in the narrative",)))
        return out

    def fuzzy(self, tx: Transaction, lines: Iterable[StatementLine], side: CreditDebit) -> list[LineMatch]:
        """Same currency and side, amount within tolerance, value date within the window."""
        start = tx.created_at.date()
        name = str(tx.attributes.get("counterparty_name") or tx.attributes.get("beneficiary_name") or "")
        out: list[LineMatch] = []
        for line in lines:
            if line.currency != tx.amount.currency or line.credit_debit is not side:
                continue
            diff = abs(line.amount - abs(tx.amount.minor_units))
            when = line.value_date or line.booking_date
            if diff > self.amount_tolerance_minor or when is None:
                continue
            days = (when - start).days
            if not -1 <= days <= self.window_days:
                continue
            score = 0.55 + 0.25 * (1 - max(days, 0) / max(self.window_days, 1)) + (0.1 if diff == 0 else 0)
            reasons = [f"amount {line.amount} {line.currency}", f"value date {when} ({days:+d} d)"]
            if name and line.counterparty_name:
                sim = fuzz.token_set_ratio(name.lower(), line.counterparty_name.lower()) / 100
                score += 0.1 * sim
                reasons.append(f"counterparty similarity {sim:.2f}")
            if score >= self.min_fuzzy_score:
                out.append(LineMatch(line, "fuzzy", min(score, 0.89), tuple(reasons)))
        return sorted(out, key=lambda m: -m.score)

    def explain(
        self,
        tx: Transaction,
        lines: Sequence[StatementLine],
        statuses: Sequence[PaymentStatusLine] = (),
        *,
        today: date | None = None,
    ) -> WithdrawalExplanation:
        """Why a payout/transfer did (not) arrive, from our side's statements and status reports."""
        book = self.codebook or CodeBook.load()
        amount = str(Money(abs(tx.amount.minor_units), tx.amount.currency))
        ex = WithdrawalExplanation(tx.external_id, PayoutOutcome.NOT_FOUND, False, amount)
        refs = _tx_refs(tx)
        matched = self.by_reference(tx, lines)
        debits = [m for m in matched if m.line.credit_debit is CreditDebit.DEBIT]
        credits = [m for m in matched if m.line.credit_debit is CreditDebit.CREDIT]
        if not debits:
            fuzzy = self.fuzzy(tx, lines, CreditDebit.DEBIT)
            ex.ambiguous = len(fuzzy) > 1 and fuzzy[0].score - fuzzy[1].score < 0.05
            debits = fuzzy[:1]
        if debits:
            ex.debit = min(debits, key=lambda m: (-m.score, m.line.value_date or date.max))
            ex.sent = True
            ex.value_date = ex.debit.line.value_date
            ex.booking_date = ex.debit.line.booking_date
            ex.evidence.append(
                f"{ex.debit.line.where}: debit {ex.debit.line.amount} {ex.debit.line.currency} "
                f"value {ex.value_date} ({', '.join(ex.debit.reasons)})"
            )
            if not credits:  # a return quoting the debit's own references
                debit_refs = {r.upper() for r in ex.debit.line.references}
                credits = [
                    LineMatch(ln, "reference", 0.9, ("shares the debit's reference",))
                    for ln in lines
                    if ln.credit_debit is CreditDebit.CREDIT
                    and ln.currency == tx.amount.currency
                    and {r.upper() for r in ln.references} & debit_refs
                ]
        returns = [m for m in credits if m.line.amount == abs(tx.amount.minor_units) or m.line.is_return]
        status = _best_status(statuses, refs)
        if returns:
            ex.return_line = min(returns, key=lambda m: m.line.value_date or date.max)
            ex.outcome = PayoutOutcome.RETURNED
            ex.reason_code = ex.return_line.line.return_reason
            rl = ex.return_line.line
            ex.evidence.append(
                f"{rl.where}: credit {rl.amount} {rl.currency} value {rl.value_date}"
                f" return reason {rl.return_reason or 'not given'}"
            )
        elif status is not None and status.status == "RJCT":
            ex.outcome, ex.status, ex.reason_code = PayoutOutcome.REJECTED, status, status.reason_code
            ex.sent = False if ex.debit is None else ex.sent
            ex.evidence.append(
                f"{status.where}: {status.level} status RJCT {status.reason_code or ''}".rstrip()
            )
        elif ex.debit is not None:
            ex.outcome = PayoutOutcome.SETTLED
        elif status is not None or tx.status.value in ("pending", "created"):
            ex.outcome, ex.status = PayoutOutcome.PENDING, status
            if status is not None:
                ex.evidence.append(f"{status.where}: {status.level} status {status.status}")
        if ex.reason_code and status is not None and status.reason_code == "NARR" and status.additional_info:
            ex.evidence.append(f"narrative: {status.additional_info}")
        ex.reason = book.get(ex.reason_code, "iso20022") if ex.reason_code else None
        if ex.reason is None and ex.reason_code:
            ex.reason = book.get(ex.reason_code)
        self._words(ex, tx, lines, today)
        return ex

    def _words(
        self, ex: WithdrawalExplanation, tx: Transaction, lines: Sequence[StatementLine], today: date | None
    ) -> None:
        reason = ex.reason
        why = (
            f" with {ex.reason_code} ({reason.meaning.rstrip('.')})"
            if reason
            else (f" with {ex.reason_code}" if ex.reason_code else " without a reason code")
        )
        ref = ex.debit.line.end_to_end_id or ex.debit.line.bank_reference if ex.debit else None
        if ex.outcome is PayoutOutcome.RETURNED and ex.return_line is not None:
            ex.summary = (
                f"{ex.transaction_id} ({ex.amount}) was sent (value date {ex.value_date}) and "
                f"returned on {ex.return_line.line.value_date}{why}."
            )
            ex.customer_message = (
                reason.customer_message
                if reason
                else ("Your bank sent this transfer back to us. Please check your account details.")
            )
            ex.route = reason.route if reason else Route.PAYMENTS_OPS
        elif ex.outcome is PayoutOutcome.REJECTED:
            ex.summary = f"{ex.transaction_id} ({ex.amount}) was rejected by the bank{why}; no money left."
            ex.customer_message = reason.customer_message if reason else "The bank rejected this transfer."
            ex.route = reason.route if reason else Route.PAYMENTS_OPS
        elif ex.outcome is PayoutOutcome.SETTLED:
            ex.summary = (
                f"{ex.transaction_id} ({ex.amount}) left our account with value date {ex.value_date}"
                + (f", reference {ref}" if ref else "")
                + "; no return seen."
            )
            ex.customer_message = (
                f"We sent this transfer on {ex.value_date}"
                + (f" with reference {ref}" if ref else "")
                + ". Please ask your bank to trace it with this reference."
            )
            ex.route = Route.TIER1
        else:
            covered = max((ln.value_date or ln.booking_date or date.min for ln in lines), default=None)
            due = tx.created_at.date() + timedelta(days=self.overdue_days)
            overdue = (covered is not None and covered >= due) or (today is not None and today >= due)
            state = "is pending at the bank" if ex.status is not None else "is not on any statement"
            ex.summary = (
                f"{ex.transaction_id} ({ex.amount}) {state}"
                + (f" (statements cover up to {covered})" if covered else "")
                + ("; overdue - ask the partner bank." if overdue else "; still inside the normal window.")
            )
            ex.customer_message = (
                "Your transfer is taking longer than usual. We are checking it with our bank."
                if overdue
                else "Your transfer is on its way; transfers usually arrive within "
                f"{self.overdue_days} business days."
            )
            ex.route = Route.PAYMENTS_OPS if overdue else Route.TIER1
        if ex.ambiguous:
            ex.summary += " Several statement lines fit equally well; check the evidence."
            ex.route = Route.TIER2 if ex.route is Route.TIER1 else ex.route


def _best_status(statuses: Sequence[PaymentStatusLine], refs: set[str]) -> PaymentStatusLine | None:
    """The most specific status naming one of our references (transaction before payment before group)."""
    rank = {"transaction": 0, "payment": 1, "group": 2}

    def own(s: PaymentStatusLine) -> set[str]:
        keys: tuple[str | None, ...]
        if s.level == "transaction":
            keys = (s.original_end_to_end_id, s.original_instruction_id)
        elif s.level == "payment":
            keys = (s.original_payment_info_id,)
        else:
            keys = (s.original_message_id,)
        return {k.upper() for k in keys if k}

    hits = [s for s in statuses if own(s) & refs]
    return min(hits, key=lambda s: rank.get(s.level, 3), default=None)
