"""Decline and response codes: ISO 8583 reasons said in words, gateway snake_case codes, ISO 20022 codes.

The words table maps what customers and agents write ("do not honor", "insufficient funds") to the
code an issuer would have sent, so "declined, do not honour" and "code 05" become the same entity.
"""

from __future__ import annotations

import re

from paytriage.engines.triage.entity import Entity, EntityKind
from paytriage.engines.triage.trie import trie_pattern

__all__ = ["DECLINE_PHRASES", "ISO20022_CODES", "SNAKE_DECLINES", "find_decline_words"]


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
#: Gateway decline codes as written in API responses and logs (Stripe-style snake_case).
SNAKE_DECLINES = (
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
#: ISO 20022 reason and status codes (SEPA returns, payment status).
ISO20022_CODES = (
    "AB0[1-9]|AB1[01]|AC0[1-9]|AC1[0-6]|AG0[1-9]|AG1[0-3]|AM0[1-9]|AM1[0-9]|AM2[0-3]|BE0[1-9]|"
    "BE1[0-9]|BE2[0-3]|CNOR|DNOR|DUPL|FF0[1-9]|FOCR|MD0[1-7]|MS0[23]|NARR|RC0[1-9]|RC1[0-2]|"
    "RR0[1-9]|RR1[0-2]|SL0[1-2]|TM01|CUST|AGNT|UPAY|ERIN|ACSC|ACSP|RJCT|PDNG|BLCK"
)
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
_DECLINE_GATE = re.compile(trie_pattern(_DECLINE_GATE_WORDS))
_DECLINE_WORDS_LOW = re.compile(r"\b" + trie_pattern(DECLINE_PHRASES) + r"\b")


def find_decline_words(text: str, low: str, lowered: str | None) -> list[Entity]:
    """Decline reasons in words, each with its code; ``lowered`` is ``low`` where twins may run."""
    if _DECLINE_GATE.search(low) is None:
        return []
    out = []
    for m in _DECLINE_WORDS_LOW.finditer(lowered) if lowered is not None else _DECLINE_WORDS.finditer(text):
        a, b = m.span()
        out.append(Entity(EntityKind.DECLINE_CODE, text[a:b], a, b, DECLINE_PHRASES[text[a:b].lower()], 0.8))
    return out
