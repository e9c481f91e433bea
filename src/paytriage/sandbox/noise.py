"""One hour of background traffic: the ordinary transactions and housekeeping log lines around the tickets.

Incidents with no transactions of their own (SSO, KYC uploads, bank feeds) leave their trail here.
"""

from __future__ import annotations

from typing import Any

from paytriage.sandbox.catalog import PARTNER_BANKS
from paytriage.sandbox.draws import WeightedTable
from paytriage.sandbox.traffic import Traffic
from paytriage.sandbox.world import World

__all__ = ["hourly_noise"]

_KINDS = ("payment", "refund", "transfer", "topup", "binding", "chargeback")
_KIND_CUM = (80.0, 86.0, 90.0, 95.0, 99.0, 100.0)
_KIND_TABLE = WeightedTable(_KINDS, _KIND_CUM, cum=True)
_TRANSFER_STATUS = WeightedTable(("succeeded", "pending", "failed"), (94, 4, 2))
_MIMES = WeightedTable(("image/jpeg", "image/png", "image/heic", "application/pdf"), (40, 15, 20, 25))
_GET_PATHS = (
    "/v1/payments/{id}",
    "/v1/balance",
    "/v1/payouts",
    "/v1/refunds/{id}",
    "/v1/events",
    "/v1/customers/{id}",
)
_TOPUP_COUNTRIES = {"EUR": ("DE", "FR", "NL", "ES", "IT", "IE", "AT", "BE"), "GBP": ("GB",)}


def _topup(traffic: Traffic, world: World, t: float) -> None:
    rng = traffic.rng
    c = world.pick_customer(rng)
    cur = {
        "GB": "GBP",
        "US": "USD",
        "JP": "JPY",
        "SE": "SEK",
        "PL": "PLN",
        "KR": "KRW",
        "CA": "CAD",
        "AU": "AUD",
    }.get(c.country, "EUR")
    inc = traffic._hit("topup_pending", t)
    extra: dict[str, Any] = {"method": rng.choice(("bank_transfer", "bank_transfer", "card"))}
    stuck = (
        inc is not None
        and extra["method"] == "bank_transfer"
        and inc.segment["currency"] == cur
        and c.country in _TOPUP_COUNTRIES.get(cur, ())
        and rng.random() < 0.8
    )
    if extra["method"] == "bank_transfer":
        extra["partner_bank"] = (
            inc.segment["partner_bank"]
            if stuck and inc
            else next((b.name for b in PARTNER_BANKS if b.currency == cur), PARTNER_BANKS[3].name)
        )
    status = "pending" if stuck or rng.random() < 0.03 else "succeeded"
    tx = traffic.simple(t, "topup", None, c, status, currency=cur, extra=extra)
    if stuck and inc is not None:
        from paytriage.sandbox.traffic import to_minor

        inc.record(tx, to_minor(tx["amount"], cur))


def hourly_noise(traffic: Traffic, world: World, t0: float, n_tx: int) -> None:
    """Background transactions (``n_tx`` of them) and service housekeeping for the hour from ``t0``."""
    rng = traffic.rng
    for _ in range(n_tx):
        t = t0 + rng.uniform(0, 3600)
        kind = _KIND_TABLE.draw(rng)
        if kind == "payment" or (kind in ("refund", "chargeback") and not traffic.recent):
            traffic.payment(t, world.pick_merchant(rng), world.pick_customer(rng))
        elif kind == "refund":
            parent = traffic.recent[rng.randrange(len(traffic.recent))]
            traffic.refund(t, parent, fail=rng.random() < 0.03, partial=rng.random() < 0.15)
        elif kind == "chargeback":
            p = traffic.recent[rng.randrange(len(traffic.recent))]
            traffic.simple(
                t,
                "chargeback",
                p["m"],
                p["c"],
                "disputed",
                minor=p["minor"],
                extra={"parent_id": p["id"], "reason_code": rng.choice(("10.4", "13.1", "13.3", "4853"))},
            )
        elif kind == "transfer":
            c = world.pick_customer(rng)
            traffic.simple(
                t,
                "transfer",
                None,
                c,
                _TRANSFER_STATUS.draw(rng),
                currency="EUR" if c.iban else "USD",
                extra={"to": world.pick_customer(rng).id},
            )
        elif kind == "topup":
            _topup(traffic, world, t)
        else:
            c = world.pick_customer(rng)
            ok = rng.random() < 0.9
            code = None if ok else rng.choice(("14", "54", "N7", "05"))
            traffic.simple(
                t,
                "binding",
                world.pick_merchant(rng),
                c,
                "succeeded" if ok else "failed",
                code=code,
                extra={"card_bin": c.bin6, "card_last4": c.last4},
            )
    for _ in range(int(n_tx * 2.5)):
        m = world.pick_merchant(rng)
        path = rng.choice(_GET_PATHS).replace("{id}", f"{rng.getrandbits(32):08x}")
        status = 200 if rng.random() < 0.97 else rng.choice((404, 401, 400))
        traffic._gateway(
            t0 + rng.uniform(0, 3600),
            m,
            "GET",
            path,
            status,
            None,
            None if status == 200 else "resource_missing",
            latency=rng.lognormvariate(3.2, 0.6),
        )
    _identity(traffic, world, t0, n_tx)
    _kyc(traffic, world, t0, n_tx)
    _housekeeping(traffic, t0)


def _identity(traffic: Traffic, world: World, t0: float, n_tx: int) -> None:
    rng = traffic.rng
    saml = traffic._hit("saml_cert_expired", t0 + 1800)
    for _ in range(max(1, n_tx // 4)):
        m = world.pick_merchant(rng)
        t = t0 + rng.uniform(0, 3600)
        method = m.sso or "password"
        if saml is not None and method == "saml" and saml.start <= t < saml.end:
            traffic.sink.text(
                "identity.log",
                t,
                "ERROR",
                f"saml login rejected org={m.id} idp=okta "
                f'error=signature_invalid detail="X509 certificate not valid after NotOnOrAfter"',
                service="identity",
            )
            if traffic.connector is not None:
                traffic.connector.saml(t, m.id, rejected_since=saml.start)
            saml.merchants.add(m.id)
        elif rng.random() < 0.06:
            traffic.sink.text(
                "identity.log",
                t,
                "WARN",
                f"login failed user=staff@{m.domain} reason=bad_password",
                service="identity",
            )
        else:
            traffic.sink.text(
                "identity.log", t, "INFO", f"login ok org={m.id} method={method}", service="identity"
            )
            if method == "saml" and traffic.connector is not None:
                traffic.connector.saml(t, m.id)


def _kyc(traffic: Traffic, world: World, t0: float, n_tx: int) -> None:
    rng = traffic.rng
    inc = traffic._hit("kyc_upload_filetype", t0 + 1800)
    for _ in range(max(1, n_tx // 25)):
        t = t0 + rng.uniform(0, 3600)
        c = world.pick_customer(rng)
        mime = _MIMES.draw(rng)
        bad = (
            inc is not None
            and inc.start <= t < inc.end
            and mime == {"HEIC": "image/heic", "PDF": "application/pdf"}[inc.segment["file_type"]]
        )
        if bad:
            traffic.sink.text(
                "kyc-service.log",
                t,
                "ERROR",
                f"upload failed account={c.id} mime={mime} size={rng.randrange(200, 9000)}kB",
                thread=f"kyc-upload-{rng.randrange(1, 5)}",
                logger="c.p.kyc.UploadController",
                trace=(
                    f"c.p.kyc.UnsupportedMediaTypeException: unsupported content type {mime}",
                    "\tat c.p.kyc.DocumentValidator.check(DocumentValidator.java:57)",
                    "\tat c.p.kyc.UploadController.upload(UploadController.java:131)",
                ),
            )
        elif rng.random() < 0.04:
            traffic.sink.text(
                "kyc-service.log",
                t,
                "WARN",
                f"upload rejected account={c.id} mime={mime} "
                f"reason=file_too_large size={rng.randrange(10000, 30000)}kB",
                thread=f"kyc-upload-{rng.randrange(1, 5)}",
                logger="c.p.kyc.UploadController",
            )
        else:
            traffic.sink.text(
                "kyc-service.log",
                t,
                "INFO",
                f"document stored account={c.id} mime={mime} "
                f"kind={rng.choice(('passport', 'id_card', 'proof_of_address'))}",
                thread=f"kyc-upload-{rng.randrange(1, 5)}",
                logger="c.p.kyc.DocumentService",
            )


def _housekeeping(traffic: Traffic, t0: float) -> None:
    rng = traffic.rng
    sink = traffic.sink
    sink.text(
        "payments-core.log",
        t0 + rng.uniform(0, 120),
        "INFO",
        f"capture batch finished captured={rng.randrange(50, 5000)} duration_ms={rng.randrange(200, 9000)}",
        service="payments-core",
    )
    sink.text(
        "acs-connector.log",
        t0 + rng.uniform(0, 600),
        "INFO",
        f"directory server card ranges refreshed ranges={rng.randrange(9000, 12000)}",
        logger="acs_connector.ranges",
    )
    if rng.random() < 0.3:
        sink.text(
            "refund-service.log",
            t0 + rng.uniform(0, 3600),
            "ERROR",
            "Failed to publish RefundCreated event, will retry",
            thread="outbox-1",
            logger="c.p.refunds.OutboxPublisher",
            trace=(
                "org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s)",
                "\tat c.p.refunds.OutboxPublisher.flush(OutboxPublisher.java:74)",
            ),
        )
    payout = traffic._hit("payout_delay", t0 + 1800)
    if payout is not None:
        bic = next(b.bic for b in PARTNER_BANKS if b.name == payout.segment["partner_bank"])
        sink.text(
            "payouts.log",
            t0 + rng.uniform(0, 3600),
            "WARN",
            f"settlement confirmation overdue bank={bic} pending_batches={rng.randrange(1, 6)}",
            service="payouts",
        )
    else:
        sink.text(
            "payouts.log",
            t0 + rng.uniform(0, 3600),
            "INFO",
            f"bank status poll ok banks={len(PARTNER_BANKS)}",
            service="payouts",
        )
    top = traffic._hit("topup_pending", t0 + 1800)
    if top is not None:
        sink.text(
            "payments-core.log",
            t0 + rng.uniform(0, 3600),
            "WARN",
            f"incoming credit feed lagging source={top.segment['partner_bank'].split()[0].lower()} "
            f"lag_s={rng.randrange(900, 7200)}",
            service="payments-core",
        )
