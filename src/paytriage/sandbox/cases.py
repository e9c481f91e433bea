"""What happened behind each ticket: the situation, its transaction and logs, and the ground-truth labels.

Background cases are ordinary individual problems; incident cases use the *same situations* with data
drawn from the incident's segment; not-needed cases are questions Tier 1 could have answered.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from paytriage.sandbox.catalog import DECLINE_MIX, ISSUERS
from paytriage.sandbox.incident_data import incident_data
from paytriage.sandbox.incidents import Incident
from paytriage.sandbox.traffic import Traffic, fmt_amount, older_version
from paytriage.sandbox.world import Customer, Merchant, World

__all__ = [
    "BACKGROUND",
    "COUNTRY_NAME",
    "NOT_NEEDED",
    "Case",
    "background_case",
    "incident_case",
    "not_needed_case",
]

COUNTRY_NAME = {
    "DE": "Germany",
    "FR": "France",
    "NL": "the Netherlands",
    "ES": "Spain",
    "IT": "Italy",
    "IE": "Ireland",
    "AT": "Austria",
    "BE": "Belgium",
    "GB": "the UK",
    "PL": "Poland",
    "SE": "Sweden",
    "US": "the US",
    "JP": "Japan",
    "KR": "Korea",
    "CA": "Canada",
    "AU": "Australia",
}


@dataclass(slots=True)
class Case:
    """A ticket's cause and labels, before the text is written."""

    situation: str
    category: str
    route: str
    priority: str
    register: str
    needed: bool
    t: float
    merchant: Merchant
    customer: Customer | None = None
    tx: dict[str, Any] | None = None
    incident: Incident | None = None
    slots: dict[str, str] = field(default_factory=dict)


# situation, category, weight, registers, routes (weights), priorities (weights)
BACKGROUND: tuple[tuple[str, str, float, tuple[str, ...], dict[str, float], dict[str, float]], ...] = (
    (
        "decline",
        "card_payment_declined",
        10,
        ("consumer", "consumer", "merchant", "developer"),
        {"tier2": 8, "payments_ops": 2},
        {"P3": 8, "P2": 2},
    ),
    (
        "threeds",
        "card_payment_declined",
        3,
        ("consumer", "merchant"),
        {"tier2": 7, "payments_ops": 3},
        {"P3": 1},
    ),
    (
        "pending",
        "payment_pending",
        6,
        ("consumer", "consumer", "merchant"),
        {"payments_ops": 5, "tier2": 5},
        {"P3": 7, "P2": 3},
    ),
    (
        "double_charge",
        "incorrect_or_duplicate_charge",
        6,
        ("consumer", "consumer", "merchant"),
        {"tier2": 8, "payments_ops": 2},
        {"P3": 8, "P2": 2},
    ),
    (
        "refund",
        "refund",
        8,
        ("consumer", "consumer", "merchant", "finance"),
        {"tier2": 8, "payments_ops": 2},
        {"P3": 8, "P4": 1, "P2": 1},
    ),
    (
        "payout",
        "payout_withdrawal",
        6,
        ("merchant", "finance", "consumer"),
        {"payments_ops": 8, "tier2": 2},
        {"P2": 4, "P3": 6},
    ),
    ("transfer", "transfer", 4, ("consumer",), {"payments_ops": 5, "tier2": 5}, {"P3": 8, "P2": 2}),
    (
        "binding",
        "payment_method_binding",
        4,
        ("consumer", "consumer", "merchant"),
        {"tier2": 9, "engineering": 1},
        {"P3": 1},
    ),
    ("card_management", "card_management", 3, ("consumer",), {"tier2": 1}, {"P3": 6, "P4": 2, "P2": 2}),
    (
        "chargeback",
        "chargeback_dispute",
        5,
        ("merchant", "merchant", "consumer"),
        {"risk_compliance": 8, "tier2": 2},
        {"P3": 1},
    ),
    (
        "fees",
        "fees_and_exchange_rates",
        3,
        ("consumer", "merchant", "finance"),
        {"tier2": 1},
        {"P4": 5, "P3": 5},
    ),
    (
        "api_error",
        "api_integration",
        5,
        ("developer", "developer", "merchant"),
        {"engineering": 5, "tier2": 5},
        {"P3": 7, "P2": 3},
    ),
    ("webhooks", "api_integration", 2, ("merchant", "developer"), {"tier2": 6, "engineering": 4}, {"P3": 1}),
    ("login", "login_and_access", 4, ("consumer", "merchant"), {"tier2": 1}, {"P3": 1}),
    (
        "kyc",
        "account_verification_restriction",
        4,
        ("consumer", "merchant"),
        {"risk_compliance": 1},
        {"P3": 8, "P2": 2},
    ),
    (
        "fraud",
        "fraud_and_security",
        3,
        ("consumer", "consumer", "merchant"),
        {"risk_compliance": 1},
        {"P2": 6, "P1": 4},
    ),
    ("reconciliation", "reconciliation_reporting", 3, ("finance",), {"payments_ops": 1}, {"P3": 1}),
    ("profile", "account_and_profile", 3, ("consumer", "merchant"), {"tier2": 1}, {"P4": 7, "P3": 3}),
    ("other", "other", 2, ("consumer", "merchant"), {"tier2": 1}, {"P4": 1}),
)

# Escalations that were not needed: (situation or "howto:<intent>", category, weight, registers)
NOT_NEEDED: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("howto:password_reset", "login_and_access", 5, ("consumer", "merchant")),
    ("howto:refund_howto", "refund", 3, ("merchant",)),
    ("howto:payout_schedule", "payout_withdrawal", 3, ("merchant",)),
    ("howto:fee_question", "fees_and_exchange_rates", 2, ("consumer", "merchant")),
    ("howto:export_howto", "reconciliation_reporting", 2, ("finance",)),
    ("howto:chargeback_howto", "chargeback_dispute", 2, ("merchant",)),
    ("howto:email_change", "account_and_profile", 2, ("consumer", "merchant")),
    ("api_howto", "api_integration", 3, ("developer",)),
    ("decline", "card_payment_declined", 5, ("consumer",)),  # 51 / 54: the answer is "ask your bank"
    ("double_charge", "incorrect_or_duplicate_charge", 4, ("consumer",)),  # an authorization hold
    ("refund", "refund", 4, ("consumer",)),  # refunded two days ago: still within the normal window
    ("pending", "payment_pending", 2, ("consumer",)),  # top-up within its normal clearing time
)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _common_slots(rng: random.Random, m: Merchant, c: Customer | None, t: float) -> dict[str, str]:
    s = {
        "merchant": m.name,
        "platform": m.integration.replace("-", " ").title() if m.integration_type != "api" else "direct API",
        "version": m.integration_version,
        "plan": m.plan,
        "order": f"#{rng.randrange(10**4, 10**6)}",
        "n": rng.choice(("3", "5", "a dozen", "20+", "several", "4", "dozens of", "7")),
        "pct": str(rng.choice((5, 10, 20, 30, 50))),
        "country_name": COUNTRY_NAME.get(m.country, m.country),
        "product": rng.choice(
            (
                "a jacket",
                "concert tickets",
                "my subscription",
                "a phone case",
                "groceries",
                "a gift card",
                "shoes",
                "a flight",
                "the annual plan",
                "a laptop",
            )
        ),
    }
    if c is not None:
        s.update(
            last4=c.last4,
            bank=c.issuer.name,
            scheme=c.issuer.scheme.title(),
            cust_email=c.email,
            country_name=COUNTRY_NAME.get(c.country, c.country),
        )
    return s


def _tx_slots(tx: dict[str, Any]) -> dict[str, str]:
    cur, amt = tx["currency"], tx["amount"]
    sym = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}.get(cur)
    shown = f"{sym}{amt}" if sym else f"{amt} {cur}"
    return {"amount": shown, "tx": tx["id"], "amount_plain": f"{amt} {cur}"}


def _api_paste(rng: random.Random, status: int, code: str, message: str, req: str) -> str:
    body = {
        "error": {
            "type": "card_error"
            if status == 402
            else "api_error"
            if status >= 500
            else "invalid_request_error",
            "code": code,
            "message": message,
            "request_id": req,
        }
    }
    style = rng.randrange(4)
    if style == 0:
        return json.dumps(body, indent=2)
    if style == 1:
        return f"HTTP/1.1 {status}\ncontent-type: application/json\n\n{json.dumps(body)}"
    if style == 2:
        return f"PaymentError: Request {req}: {message} (status {status}, code {code})"
    return f"> curl -s -X POST https://api.paytriage.example/v1/payments ...\n{json.dumps(body)}"


def _req(rng: random.Random) -> str:
    return f"req_{rng.getrandbits(48):012x}"


def background_case(rng: random.Random, traffic: Traffic, world: World, t: float) -> Case:
    """An ordinary individual problem, with the transaction behind it written at ``t``."""
    sit, cat, _, regs, routes, prios = rng.choices(BACKGROUND, weights=[b[2] for b in BACKGROUND])[0]
    register = rng.choice(regs)
    m = world.pick_merchant(rng)
    c = world.pick_customer(rng)
    case = Case(sit, cat, _pick(rng, routes), _pick(rng, prios), register, True, t, m, c)
    if (
        m.tier == "enterprise"
        and register != "consumer"
        and case.priority in ("P3", "P4")
        and rng.random() < 0.5
    ):
        case.priority = "P2" if case.priority == "P3" else "P3"
    _fill(rng, traffic, world, case, benign=False)
    return case


def not_needed_case(rng: random.Random, traffic: Traffic, world: World, t: float) -> Case:
    sit, cat, _, regs = rng.choices(NOT_NEEDED, weights=[b[2] for b in NOT_NEEDED])[0]
    m = world.pick_merchant(rng)
    case = Case(sit, cat, "tier1", "P4", rng.choice(regs), False, t, m, world.pick_customer(rng))
    _fill(rng, traffic, world, case, benign=True)
    return case


def _fill(rng: random.Random, traffic: Traffic, world: World, case: Case, *, benign: bool) -> None:
    """Write the transaction behind the case and the slots its text needs."""
    m, c, t, sit = case.merchant, case.customer, case.t, case.situation
    assert c is not None
    case.slots = _common_slots(rng, m, c, t)
    tx: dict[str, Any] | None = None
    if sit == "decline":
        code = (
            rng.choice(("51", "54"))
            if benign
            else rng.choices(
                [d.code for d in DECLINE_MIX if d.code not in ("51", "54")],
                [d.weight for d in DECLINE_MIX if d.code not in ("51", "54")],
            )[0]
        )
        tx = traffic.payment(t, m, c, code=code)
        case.slots["shown_error"] = rng.choice(
            (
                "Payment declined",
                "Your card was declined",
                f"Transaction not approved ({code})",
                "Try another card",
            )
        )
        case.slots["paste"] = _api_paste(
            rng, 402, "card_declined", "Your card was declined.", _req(rng)
        ).replace('"card_declined"', f'"card_declined", "decline_code": "{tx.get("decline_reason")}"', 1)
    elif sit == "threeds":
        tx = traffic.payment(t, m, c, acs_timeout=True)
        case.slots["paste"] = _api_paste(
            rng, 402, "authentication_failed", "3D Secure authentication failed.", _req(rng)
        )
    elif sit == "pending" and case.register != "consumer":
        tx = traffic.payment(t, m, c, code="00", stuck=True)
    elif sit == "pending":
        tx = traffic.simple(
            t, "topup", None, c, "pending", currency=m.currency, extra={"method": "bank_transfer"}
        )
    elif sit == "double_charge":
        first = traffic.payment(t, m, c, code="00")
        minor = traffic.recent[-1]["minor"]
        # benign: an authorization hold that was voided looks like a second charge on a banking app
        tx = traffic.payment(t + rng.uniform(5, 300), m, c, code="00", minor=minor, void=benign)
        case.slots["first_tx"] = first["id"]
    elif sit == "refund":
        parent = traffic.recent[rng.randrange(len(traffic.recent))] if traffic.recent else None
        if parent is None:
            tx = traffic.payment(t, m, c, code="00")
            parent = traffic.recent[-1]
        case.merchant, case.customer = parent["m"], parent["c"]
        tx = traffic.refund(t, parent, fail=not benign and rng.random() < 0.25, partial=rng.random() < 0.2)
        small = parent["minor"] // rng.choice((2, 4, 10))
        case.slots.update(small_amount=f"{fmt_amount(small, parent['m'].currency)} {parent['m'].currency}")
        case.slots.update(_common_slots(rng, case.merchant, case.customer, t))
    elif sit == "payout":
        status = "returned" if rng.random() < 0.5 else "pending"
        tx = traffic.payout(t, m, size=rng.uniform(1, 20), returned=status == "returned")
        case.slots.update(payout=tx["id"], paybank=rng.choice(("our bank", m.bank.name, "the bank")))
    elif sit == "transfer":
        tx = traffic.simple(
            t, "transfer", None, c, rng.choice(("pending", "failed", "succeeded")), currency=m.currency
        )
    elif sit == "binding":
        code = rng.choice(("14", "54", "N7", "05"))
        tx = traffic.simple(
            t,
            "binding",
            m,
            c,
            "failed",
            code=code,
            reason={
                "14": "invalid_number",
                "54": "expired_card",
                "N7": "incorrect_cvc",
                "05": "do_not_honor",
            }[code],
            extra={"card_bin": c.bin6, "card_last4": c.last4},
        )
    elif sit == "chargeback":
        parent = traffic.recent[rng.randrange(len(traffic.recent))] if traffic.recent else None
        if parent is not None:
            case.merchant, case.customer = parent["m"], parent["c"]
            case.slots.update(_common_slots(rng, case.merchant, case.customer, t))
            tx = traffic.simple(
                t,
                "chargeback",
                parent["m"],
                parent["c"],
                "disputed",
                minor=parent["minor"],
                extra={
                    "parent_id": parent["id"],
                    "reason_code": rng.choice(("10.4", "13.1", "13.3", "4853", "4837")),
                },
            )
    elif sit == "fraud" and rng.random() < 0.6:
        tx = traffic.payment(t, m, c, code="00")
    elif sit in ("api_error", "webhooks"):
        _api_case(rng, traffic, case)
    elif sit == "login":
        case.slots["idp"] = rng.choice(("Okta", "Azure AD", "OneLogin", "Google Workspace"))
        case.slots["sso_error"] = rng.choice(("invalid_grant", "user not provisioned", "access denied"))
        traffic.sink.text(
            "identity.log",
            t,
            "WARN",
            f"login failed user={c.email if case.register == 'consumer' else 'staff@' + m.domain} "
            f"reason={rng.choice(('bad_password', 'otp_expired', 'locked'))}",
            service="identity",
        )
    elif sit == "kyc":
        case.slots["filetype"] = rng.choice(("photo", "PDF", "JPG", "scan"))
        traffic.sink.text(
            "kyc-service.log",
            t,
            "WARN",
            f"document rejected account={c.id} "
            f"reason={rng.choice(('blurry', 'expired_document', 'too_large'))}",
            thread="kyc-upload-2",
            logger="c.p.kyc.DocumentService",
        )
    if tx is not None:
        case.tx = tx
        case.slots.update(_tx_slots(tx))
    case.slots.setdefault("amount", f"{fmt_amount(traffic.amount(m.currency), m.currency)} {m.currency}")


def _api_case(rng: random.Random, traffic: Traffic, case: Case) -> None:
    m, t = case.merchant, case.t
    status, code, msg = rng.choice(
        (
            (400, "parameter_invalid_integer", "amount must be an integer"),
            (401, "api_key_invalid", "Invalid API key provided"),
            (404, "resource_missing", "No such payment"),
            (
                409,
                "idempotency_key_in_use",
                "Keys for idempotent requests can only be used with the same parameters",
            ),
            (429, "rate_limit_exceeded", "Too many requests"),
            (500, "internal_error", "An unexpected error occurred"),
            (502, "bad_gateway", "Upstream error"),
        )
    )
    endpoint = rng.choice(("/v1/payments", "/v1/refunds", "/v1/customers", "/v1/payment_methods"))
    for k in range(rng.randrange(2, 6)):
        traffic._gateway(t + k * rng.uniform(1, 60), m, "POST", endpoint, status, None, code)
    if case.situation == "webhooks":
        status = rng.choice((500, 503, 404, 403))
        hook = {500: "Internal Server Error", 503: "Service Unavailable", 404: "Not Found", 403: "Forbidden"}
        case.slots["paste"] = rng.choice(
            (
                f"[{rng.choice(('2026', ''))}] production.ERROR: webhook handler failed: {hook[status]}",
                f"POST /hooks/pay {status} {rng.randrange(3, 900)}ms",
                f"Error: {hook[status]} at WebhookController.handle (webhook.js:{rng.randrange(10, 300)})",
                # their own misconfigured secret looks just like a signature change on our side
                "Webhook signature verification failed: No signatures found matching the expected signature",
                "ERROR webhook.verify: HMAC mismatch",
            )
        )
    else:
        case.slots["paste"] = _api_paste(rng, status, code, msg, _req(rng))
    case.slots.update(status=str(status), endpoint=endpoint)
    if status >= 500:
        case.route = "engineering"


def incident_case(rng: random.Random, traffic: Traffic, world: World, t: float, inc: Incident) -> Case:
    """A ticket caused by ``inc``: same situation as ordinary tickets, data from the incident's segment."""
    kind = inc.kind
    seg = inc.segment
    m = world.pick_merchant(rng)
    c = world.pick_customer(rng)
    name = kind.name
    if name == "issuer_outage":
        issuer = next(i for i in ISSUERS if i.name == seg["issuer"])
        pool = [x for x in world.by_country.get(issuer.country, []) if x.issuer is issuer] or world.customers
        c = pool[rng.randrange(len(pool))]
    elif name == "acs_timeout":
        pool = world.by_country.get(seg["card_country"]) or world.customers
        c = pool[rng.randrange(len(pool))]
    elif name in ("webhook_signature",):
        cands = [
            x
            for x in world.merchants
            if x.integration == seg["integration"]
            and older_version(x.integration_version, seg["versions_below"])
        ]
        m = rng.choice(cands) if cands else m
    elif name in ("payout_delay",):
        cands = [x for x in world.merchants if x.bank.name == seg["partner_bank"]]
        m = rng.choice(cands) if cands else m
    elif name == "jpy_refund_minor_units":
        cands = [x for x in world.merchants if x.currency == "JPY"]
        m = rng.choice(cands) if cands else m
    elif name == "saml_cert_expired":
        cands = [x for x in world.merchants if x.sso == "saml"]
        m = rng.choice(cands) if cands else m
    elif name == "api_rate_limit":
        cands = [x for x in world.merchants if x.plan == seg["plan"]]
        m = rng.choice(cands) if cands else m
    elif name == "duplicate_charge_retry":
        cands = [
            x
            for x in world.merchants
            if x.integration == seg["integration"] and x.integration_version == seg["version"]
        ]
        m = rng.choice(cands) if cands else m
    elif name == "topup_pending":
        pool = [x for x in world.customers[:5000] if x.country in ("DE", "FR", "NL", "GB", "ES", "IT")]
        c = pool[rng.randrange(len(pool))] if pool else c
    registers = {
        "issuer_outage": ("consumer", "consumer", "merchant", "developer"),
        "acs_timeout": ("consumer", "consumer", "merchant"),
        "webhook_signature": ("merchant", "developer"),
        "payout_delay": ("merchant", "finance"),
        "jpy_refund_minor_units": ("consumer",) if seg.get("factor", 1) < 0 else ("merchant", "finance"),
        "saml_cert_expired": ("merchant",),
        "api_rate_limit": ("developer", "developer", "merchant"),
        "duplicate_charge_retry": ("consumer", "consumer", "merchant", "developer"),
        "kyc_upload_filetype": ("consumer", "merchant"),
        "topup_pending": ("consumer",),
    }[name]
    register = rng.choice(registers)
    prio = kind.priority
    if m.tier == "enterprise" and prio == "P2" and register != "consumer" and rng.random() < 0.3:
        prio = "P1"
    case = Case(kind.situation, kind.category, kind.route, prio, register, True, t, m, c, incident=inc)
    case.slots = _common_slots(rng, m, c, t)
    incident_data(rng, traffic, case, inc)
    if case.tx is not None:
        for k, v in _tx_slots(case.tx).items():
            case.slots.setdefault(k, v)
    case.slots.setdefault("amount", f"{fmt_amount(traffic.amount(m.currency), m.currency)} {m.currency}")
    inc.merchants.add(case.merchant.id)
    return case
