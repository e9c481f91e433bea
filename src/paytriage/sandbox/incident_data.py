"""The transaction and log trail behind one incident ticket, drawn from the incident's segment.

The ticket text never names the incident; what links it is here: the BIN, the card country, the plugin
version, the partner bank, the currency, the plan, the SDK, the file type — and the timing.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from paytriage.sandbox.incidents import Incident
from paytriage.sandbox.traffic import Traffic, to_minor

if TYPE_CHECKING:
    from paytriage.sandbox.cases import Case

__all__ = ["incident_data"]


def _req(rng: random.Random) -> str:
    return f"req_{rng.getrandbits(48):012x}"


def incident_data(rng: random.Random, traffic: Traffic, case: Case, inc: Incident) -> None:
    """Write the trail for ``case`` (caused by ``inc``) and fill the slots its text needs."""
    m, c, t, s = case.merchant, case.customer, case.t, case.slots
    assert c is not None
    name = inc.kind.name
    if name == "issuer_outage":
        code = "91" if rng.random() < 0.75 else "96"
        case.tx = traffic.payment(t, m, c, code=code)
        reason = case.tx.get("decline_reason", "issuer_unavailable")
        s["shown_error"] = rng.choice(
            (
                "Payment declined",
                "Your card was declined",
                "Try another card",
                f"Transaction not approved ({code})",
                "Bank not available",
            )
        )
        s["paste"] = rng.choice(
            (
                f'{{"error": {{"type": "card_error", "code": "card_declined", "decline_code": "{reason}", '
                f'"message": "Your card was declined.", "request_id": "{_req(rng)}"}}}}',
                f"PaymentError: Request {_req(rng)}: Your card was declined. "
                f"(status 402, decline_code {reason})",
                f'HTTP/1.1 402\n\n{{"error":{{"code":"card_declined","decline_code":"{reason}"}}}}',
            )
        )
    elif name == "acs_timeout":
        case.tx = traffic.payment(t, m, c, acs_timeout=True, three_ds=True)
        s["paste"] = (
            f'{{"error": {{"type": "card_error", "code": "authentication_failed", "message": '
            f'"3D Secure authentication failed.", "request_id": "{_req(rng)}"}}}}'
        )
    elif name == "webhook_signature":
        case.tx = traffic.payment(t, m, c, code="00")
        s["status"] = rng.choice(("401", "401", "400"))
        s["paste"] = rng.choice(
            (
                '[{d}] production.ERROR: Webhook signature verification failed {{"exception":"[object] '
                "(SignatureVerificationException(code: 0): No signatures found matching the "
                'expected signature for payload)"}}',
                "WC_Gateway_Pay: webhook rejected - invalid signature header",
                "Webhook Error: Unable to extract timestamp and signatures from header",
                "ERROR webhook.verify: HMAC mismatch (expected t=...,v1=...)",
            )
        ).replace("{d}", case.tx["created_at"][:19])
    elif name == "payout_delay":
        case.tx = traffic.payout(t, m, size=rng.uniform(5, 40))
        s.update(
            payout=case.tx["id"], paybank=rng.choice(("our bank", m.bank.name, "the bank", "our account"))
        )
    elif name == "jpy_refund_minor_units":
        traffic.payment(t - rng.uniform(600, 3000), m, c, code="00")
        parent = traffic.recent[-1]
        case.merchant, case.customer = parent["m"], parent["c"]
        case.tx = traffic.refund(t, parent)
        booked = to_minor(case.tx["amount"], case.tx["currency"])
        s["small_amount"] = f"¥{booked:,}" if rng.random() < 0.5 else f"{booked} yen"
        s["amount"] = f"¥{parent['minor']:,}"
    elif name == "saml_cert_expired":
        s["idp"] = rng.choice(("Okta", "Azure AD", "OneLogin", "Ping", "our IdP"))
        s["sso_error"] = rng.choice(
            (
                "SAML response could not be validated",
                "invalid_response",
                "Signature validation failed",
                "Login failed (code 500)",
            )
        )
        for k in range(rng.randrange(2, 6)):
            at = t + k * rng.uniform(5, 90)
            traffic.sink.text(
                "identity.log",
                at,
                "ERROR",
                f"saml login rejected org={m.id} idp={s['idp'].lower().replace(' ', '')} "
                f'error=signature_invalid detail="X509 certificate not valid after '
                f'NotOnOrAfter"',
                service="identity",
            )
            if traffic.connector is not None:
                traffic.connector.saml(at, m.id, rejected_since=inc.start)
    elif name == "api_rate_limit":
        case.tx = traffic.payment(t, m, c, code="00")
        s.update(status="429", endpoint=rng.choice(("/v1/payments", "/v1/payments", "/v1/refunds")))
        s["paste"] = rng.choice(
            (
                'HTTP/1.1 429 Too Many Requests\nRetry-After: 1\n\n{"error": {"type": "rate_limit_error", '
                f'"message": "Too many requests hit the API too quickly.", "request_id": "{_req(rng)}"}}}}',
                f"RateLimitError: Request {_req(rng)}: Too many requests (status 429)",
                f'{{"error":{{"code":"rate_limit_exceeded","request_id":"{_req(rng)}"}}}}',
            )
        )
    elif name == "duplicate_charge_retry":
        first = traffic.payment(t, m, c, code="00", three_ds=False)
        case.tx = traffic.duplicate(t, first, m, c, inc)
        s["first_tx"] = first["id"]
    elif name == "kyc_upload_filetype":
        ftype = inc.segment["file_type"]
        s["filetype"] = rng.choice(
            (ftype, "photo from my iPhone" if ftype == "HEIC" else "PDF", "scan", ftype)
        )
        mime = "image/heic" if ftype == "HEIC" else "application/pdf"
        traffic.sink.text(
            "kyc-service.log",
            t,
            "ERROR",
            f"upload failed account={c.id if case.register == 'consumer' else m.id} "
            f"mime={mime} size={rng.randrange(200, 9000)}kB",
            thread=f"kyc-upload-{rng.randrange(1, 5)}",
            logger="c.p.kyc.UploadController",
            trace=(
                "c.p.kyc.UnsupportedMediaTypeException: unsupported content type " + mime,
                "\tat c.p.kyc.DocumentValidator.check(DocumentValidator.java:57)",
                "\tat c.p.kyc.UploadController.upload(UploadController.java:131)",
            ),
        )
    elif name == "topup_pending":
        cur = traffic.bank_currency(inc.segment["partner_bank"])
        case.tx = traffic.simple(
            t,
            "topup",
            None,
            c,
            "pending",
            currency=cur,
            extra={"method": "bank_transfer", "partner_bank": inc.segment["partner_bank"]},
        )
        inc.record(case.tx, to_minor(case.tx["amount"], cur))
        s["amount"] = f"{case.tx['amount']} {cur}"
