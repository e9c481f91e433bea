"""Transaction simulator: payments with 3-D Secure, refunds, payouts, transfers, top-ups, chargebacks and
card bindings, each writing its transaction record and the log lines the services would emit.

Active incidents are consulted for every transaction so their effect shows in the data, never in a label.
"""

from __future__ import annotations

import math
import random
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from paytriage.domain.money import currency_exponent
from paytriage.sandbox.catalog import DECLINE_MIX, PARTNER_BANKS
from paytriage.sandbox.connector_logs import ConnectorLogs
from paytriage.sandbox.draws import WeightedTable
from paytriage.sandbox.incidents import Incident
from paytriage.sandbox.logs import LogSink, compact_json, iso_ms
from paytriage.sandbox.statements import StatementWriter
from paytriage.sandbox.world import Customer, Merchant

__all__ = ["FX", "Traffic", "fmt_amount", "older_version", "to_minor"]

#: Rough units of each currency per EUR, so amounts look plausible.
FX = {
    "EUR": 1.0,
    "GBP": 0.86,
    "USD": 1.08,
    "JPY": 160.0,
    "KRW": 1450.0,
    "SEK": 11.4,
    "PLN": 4.3,
    "CAD": 1.47,
    "AUD": 1.64,
}
_DECLINE_CUM: list[float] = []
_acc = 0.0
for _d in DECLINE_MIX:
    _acc += _d.weight
    _DECLINE_CUM.append(_acc)
_DECLINES = WeightedTable(DECLINE_MIX, _DECLINE_CUM, cum=True)
_REASON = {d.code: d.reason for d in DECLINE_MIX}


def fmt_amount(minor: int, currency: str) -> str:
    """Major-unit decimal string: ``"12.50"``, ``"5000"`` for JPY."""
    exp = currency_exponent(currency)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def to_minor(amount: str, currency: str) -> int:
    """Inverse of :func:`fmt_amount`."""
    return int(Decimal(amount).scaleb(currency_exponent(currency)))


class Traffic:
    """Creates transactions at simulated times; buffers records per hour like :class:`LogSink`."""

    def __init__(
        self,
        rng: random.Random,
        sink: LogSink,
        tx_path: Path,
        incidents: list[Incident],
        statements: StatementWriter,
        horizon_end: float,
        connector: ConnectorLogs | None = None,
    ) -> None:
        self.rng = rng
        self.connector = connector
        self.statements = statements
        self.horizon_end = horizon_end
        self.sink = sink
        self.incidents = incidents
        self.active: list[Incident] = []
        self._fh: IO[str] = tx_path.open("w", encoding="utf-8", newline="\n")
        self._buf: list[tuple[float, int, str]] = []
        self._n = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=4000)
        self.count = 0

    # -- plumbing -----------------------------------------------------------------------------------
    def set_time(self, t: float) -> None:
        self.active = [i for i in self.incidents if i.start <= t + 3600 and i.end > t]

    def _hit(self, kind: str, t: float) -> Incident | None:
        for inc in self.active:
            if inc.kind.name == kind and inc.start <= t < inc.end:
                return inc
        return None

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n:08d}{self.rng.getrandbits(24):06x}"

    def amount(self, currency: str, scale: float = 1.0) -> int:
        major = math.exp(self.rng.gauss(3.5, 0.9)) * FX.get(currency, 1.0) * scale
        exp = currency_exponent(currency)
        minor = max(1, round(major * 10**exp))
        return max(10, int(round(minor, -1))) if exp == 0 else minor

    def emit(self, t: float, tx: dict[str, Any]) -> dict[str, Any]:
        self._buf.append((t, self.count, compact_json(tx)))
        self.count += 1
        return tx

    def flush(self) -> None:
        self._buf.sort()
        if self._buf:
            self._fh.write("\n".join([line for _, _, line in self._buf]) + "\n")
        self._buf = []

    def close(self) -> None:
        self.flush()
        self._fh.close()

    def _base(
        self,
        t: float,
        kind: str,
        minor: int,
        currency: str,
        status: str,
        m: Merchant | None,
        c: Customer | None,
        prefix: str,
    ) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "id": self._id(prefix),
            "created_at": iso_ms(t),
            "kind": kind,
            "amount": fmt_amount(minor, currency),
            "currency": currency,
            "status": status,
        }
        if m is not None:
            tx["merchant_id"] = m.id
        if c is not None:
            tx["customer_id"] = c.id
            tx["country"] = c.country
        tx["processor"] = "acq-eu" if currency in ("EUR", "GBP", "PLN", "SEK") else "acq-global"
        return tx

    def _gateway(
        self,
        t: float,
        m: Merchant,
        method: str,
        path: str,
        status: int,
        tx_id: str | None,
        error: str | None = None,
        latency: float | None = None,
        idem: bool = True,
    ) -> None:
        rec: dict[str, Any] = {
            "level": "error" if status >= 500 else "warn" if status >= 400 else "info",
            "service": "api-gateway",
            "msg": f"{method} {path} {status}" + (f" {error}" if error else ""),
            "request_id": f"req_{self.rng.getrandbits(48):012x}",
            "method": method,
            "endpoint": path,
            "http_status": status,
            "latency_ms": round(latency if latency is not None else self.rng.lognormvariate(4.6, 0.5), 1),
            "merchant_id": m.id,
            "client": m.client,
        }
        if tx_id:
            rec["transaction_id"] = tx_id
        if error:
            rec["error_code"] = error
        if method == "POST":
            rec["idempotency_key"] = bool(idem)
        self.sink.json("gateway.jsonl", t, rec, floats_checked=True)  # only float: latency_ms, rounded, > 0

    def _webhook(self, t: float, m: Merchant, event: str, tx_id: str) -> bool:
        """Deliver an event; returns True when the merchant rejected it because of the signature change."""
        inc = self._hit("webhook_signature", t)
        broken = (
            inc is not None
            and m.integration == inc.segment["integration"]
            and older_version(m.integration_version, inc.segment["versions_below"])
        )
        for attempt in range(1, 4 if broken else 2):
            ok = not broken and self.rng.random() > 0.01
            status = 200 if ok else (401 if broken else self.rng.choice((500, 502, 504)))
            rec: dict[str, Any] = {
                "service": "webhook-dispatcher",
                "level": "info" if ok else "warn",
                "msg": f"webhook {event} delivery attempt {attempt}: HTTP {status}",
                "event_id": f"evt_{self.rng.getrandbits(40):010x}",
                "event_type": event,
                "merchant_id": m.id,
                "transaction_id": tx_id,
                "url": f"https://{m.domain}/hooks/pay",
                "attempt": attempt,
                "http_status": status,
                "duration_ms": self.rng.randrange(40, 900),
                "signature_scheme": "v2" if inc is not None else "v1",
            }
            if not ok:
                rec["response_excerpt"] = self.rng.choice(_HOOK_ERR_BROKEN if broken else _HOOK_ERR)
            self.sink.json("webhooks.jsonl", t + 0.5 + 60.0 * (attempt - 1) ** 2, rec)
            if ok:
                break
        return broken

    # -- transaction kinds --------------------------------------------------------------------------
    def payment(
        self,
        t: float,
        m: Merchant,
        c: Customer,
        *,
        code: str | None = None,
        three_ds: bool | None = None,
        acs_timeout: bool = False,
        minor: int | None = None,
        void: bool = False,
        stuck: bool = False,
    ) -> dict[str, Any]:
        """A card payment; ``code`` forces the ISO 8583 result (``"00"`` approves)."""
        rng = self.rng
        cur = m.currency
        minor = minor if minor is not None else self.amount(cur)
        tds = (
            three_ds
            if three_ds is not None
            else (rng.random() < (0.45 if c.country not in ("US", "JP") else 0.1))
        )
        issuer = self._hit("issuer_outage", t)
        if issuer is not None and c.bin6 in issuer.segment["bins"] and code is None and rng.random() < 0.85:
            code = "91" if rng.random() < 0.75 else "96"
        acs = self._hit("acs_timeout", t)
        if (
            acs is not None
            and tds
            and code is None
            and c.country == acs.segment["card_country"]
            and rng.random() < 0.7
        ):
            acs_timeout = True
        if code is None:
            code = "00" if rng.random() < 0.86 else _DECLINES.draw(rng).code
        if acs_timeout:
            tds, code = True, "--"
        approved = code == "00"
        status = (
            ("reversed" if void else "pending" if stuck else "captured")
            if approved
            else ("failed" if acs_timeout else "declined")
        )
        tx = self._base(t, "payment", minor, cur, status, m, c, "pay")
        tx.update(card_bin=c.bin6, card_last4=c.last4, three_ds=tds, integration=m.client)
        events = [{"at": iso_ms(t), "status": "created"}]
        if tds:
            events.append({"at": iso_ms(t + 0.4), "status": "pending", "code": "3ds_challenge"})
            acs_ms = rng.lognormvariate(7.2, 0.5) if not acs_timeout else 10000 + rng.randrange(1, 400)
            level = "INFO" if not acs_timeout else "WARNING"
            msg = (
                f"challenge result txn={tx['id']} card_country={c.country} ds={_scheme_ds(c.issuer.scheme)} "
                f"status={'Y' if not acs_timeout else 'timeout'} acs_latency_ms={acs_ms:.0f}"
            )
            if acs_timeout:
                msg = (
                    f"ACS did not answer CReq within 10000ms txn={tx['id']} card_country={c.country} "
                    f"acs_host=acs{rng.randrange(1, 9)}.{c.issuer.country.lower()}-secure.example; CRes=none"
                )
            self.sink.text(
                "acs-connector.log", t + 0.5 + acs_ms / 1000, level, msg, logger="acs_connector.challenge"
            )
        end = t + 1.2 + (10.0 if acs_timeout else 0.0)
        if approved:
            events.append({"at": iso_ms(end), "status": "authorized", "code": "00"})
            if void:
                events.append(
                    {"at": iso_ms(end + 7200), "status": "reversed", "detail": "authorization released"}
                )
            elif stuck:
                events.append({"at": iso_ms(end + 2), "status": "pending", "detail": "capture not confirmed"})
            else:
                events.append({"at": iso_ms(end + 2), "status": "captured"})
        elif acs_timeout:
            events.append(
                {
                    "at": iso_ms(end),
                    "status": "failed",
                    "code": "3ds_timeout",
                    "detail": "authentication not completed",
                }
            )
            tx["decline_reason"] = "authentication_failed"
        else:
            reason = _REASON.get(code, "do_not_honor")
            events.append({"at": iso_ms(end), "status": "declined", "code": code, "detail": reason})
            tx["response_code"], tx["decline_reason"] = code, reason
        if approved:
            tx["response_code"] = "00"
        tx["events"] = events
        if issuer is not None and code in ("91", "96") and c.bin6 in issuer.segment["bins"]:
            issuer.record(tx, minor)
        if acs is not None and acs_timeout:
            acs.record(tx, minor)
        http = 200 if approved else 402
        err = None if approved else ("authentication_failed" if acs_timeout else tx["decline_reason"])
        self._rate_limited(t, m, "/v1/payments")
        self._gateway(end, m, "POST", "/v1/payments", http, tx["id"], err, latency=(end - t) * 1000)
        lvl = "INFO" if approved else "WARN"
        self.sink.text(
            "payments-core.log",
            end,
            lvl,
            f"auth {'approved' if approved else 'declined'} txn={tx['id']} merchant={m.id} "
            f"bin={c.bin6} amount={minor} {cur} rc={code} issuer_ms={rng.randrange(80, 900)}",
            service="payments-core",
        )
        if code in ("91", "96") and rng.random() < 0.5:
            self.sink.text(
                "payments-core.log",
                end,
                "ERROR",
                f"issuer response {code} from scheme for bin={c.bin6} stan={rng.randrange(10**5, 10**6)}"
                f" retryable=true",
                service="payments-core",
            )
        hook = self._hit("webhook_signature", end)
        if (
            self._webhook(end + 1, m, "payment.succeeded" if approved else "payment.failed", tx["id"])
            and hook
        ):
            hook.record(tx, minor)
        if approved and not void and not stuck:
            self.recent.append({"id": tx["id"], "m": m, "c": c, "minor": minor, "t": t})
        return self.emit(t, tx)

    def _rate_limited(self, t: float, m: Merchant, path: str) -> None:
        inc = self._hit("api_rate_limit", t)
        if inc is None or m.plan != inc.segment["plan"]:
            return
        for k in range(self.rng.randrange(1, 4)):
            self._gateway(t + 0.05 * k, m, "POST", path, 429, None, "rate_limit_exceeded", latency=3.0)
        inc.merchants.add(m.id)

    def duplicate(
        self, t: float, first: dict[str, Any], m: Merchant, c: Customer, inc: Incident
    ) -> dict[str, Any]:
        """The retried charge an SDK sends without an idempotency key."""
        dt = self.rng.uniform(8, 40)
        self.sink.text(
            "payments-core.log",
            t + dt,
            "WARN",
            f"client timeout on POST /v1/payments merchant={m.id} client={m.client}; request replayed "
            f"without idempotency key",
            service="payments-core",
        )
        minor = to_minor(first["amount"], first["currency"])
        tx = self.payment(t + dt, m, c, code="00", three_ds=False, minor=minor)
        inc.record(first, minor)
        inc.record(tx, minor)
        return tx

    def refund(
        self, t: float, parent: dict[str, Any], *, fail: bool = False, partial: bool = False
    ) -> dict[str, Any]:
        m: Merchant = parent["m"]
        c: Customer = parent["c"]
        minor = parent["minor"] if not partial else max(1, parent["minor"] // self.rng.choice((2, 3, 4)))
        booked = minor
        inc = self._hit("jpy_refund_minor_units", t)
        if inc is not None and m.currency == "JPY":
            factor = inc.segment["factor"]
            booked = minor * 100 if factor > 0 else max(1, minor // 100)
        status = "failed" if fail else ("pending" if self.rng.random() < 0.08 else "succeeded")
        tx = self._base(t, "refund", booked, m.currency, status, m, c, "re")
        tx["parent_id"] = parent["id"]
        tx["events"] = [{"at": iso_ms(t), "status": "created"}, {"at": iso_ms(t + 3), "status": status}]
        if inc is not None and booked != minor:
            inc.record(tx, abs(booked - minor))
        self._gateway(
            t, m, "POST", "/v1/refunds", 500 if fail else 200, tx["id"], "refund_failed" if fail else None
        )
        self.sink.text(
            "refund-service.log",
            t + 1,
            "INFO",
            f"Refund {tx['id']} created for payment {parent['id']} amount={booked} "
            f"currency={m.currency} requested_by={m.id}",
            thread=f"refund-worker-{self.rng.randrange(1, 9)}",
            logger="c.p.refunds.RefundService",
        )
        if fail:
            self.sink.text(
                "refund-service.log",
                t + 2,
                "ERROR",
                f"Refund {tx['id']} rejected: {self.rng.choice(_REFUND_ERR)}",
                thread=f"refund-worker-{self.rng.randrange(1, 9)}",
                logger="c.p.refunds.RefundService",
                trace=_trace("c.p.refunds", "RefundRejectedException"),
            )
        self._webhook(t + 4, m, f"refund.{status}", tx["id"])
        return self.emit(t, tx)

    def simple(
        self,
        t: float,
        kind: str,
        m: Merchant | None,
        c: Customer | None,
        status: str,
        minor: int | None = None,
        currency: str | None = None,
        extra: dict[str, Any] | None = None,
        code: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Transfers, top-ups, bindings, chargebacks and payouts: record plus one service log line."""
        cur = currency or (m.currency if m else "EUR")
        minor = minor if minor is not None else self.amount(cur, 0.0 if kind == "binding" else 1.0)
        if kind == "binding":
            minor = 0
        prefix = {"transfer": "tr", "topup": "tu", "binding": "pm", "chargeback": "dp", "payout": "po"}[kind]
        tx = self._base(t, kind, minor, cur, status, m, c, prefix)
        if code:
            tx["response_code"] = code
        if reason:
            tx["decline_reason"] = reason
        if extra:
            tx.update(extra)
        tx["events"] = [{"at": iso_ms(t), "status": "created"}, {"at": iso_ms(t + 2), "status": status}]
        level = "INFO" if status in ("succeeded", "captured", "disputed", "pending") else "WARN"
        self.sink.text(
            "payments-core.log",
            t + 2,
            level,
            f"{kind} {tx['id']} status={status} amount={minor} {cur}"
            f"{' rc=' + code if code else ''}{' reason=' + reason if reason else ''}",
            service="payments-core",
        )
        if self.connector is not None and kind == "topup" and tx.get("method") == "bank_transfer":
            self.connector.topup(t, tx, minor)
        return self.emit(t, tx)

    def bank_currency(self, bank: str) -> str:
        return next(b.currency for b in PARTNER_BANKS if b.name == bank)

    def payout(self, t: float, m: Merchant, *, size: float = 1.0, returned: bool = False) -> dict[str, Any]:
        """A payout to the merchant's account, booked on the partner bank's statement when it settles."""
        bank = m.bank
        cur = bank.currency
        minor = self.amount(cur, 12.0 * size)
        inc = self._hit("payout_delay", t)
        delayed = inc is not None and inc.segment["partner_bank"] == bank.name
        settle = (inc.end if delayed and inc else t) + 86400.0 * (1 + (self.rng.random() < 0.1))
        settle_day = utc(settle).date()
        done = settle < self.horizon_end
        status = "returned" if returned else ("succeeded" if done else "pending")
        tx = self._base(t, "payout", minor, cur, status, m, None, "po")
        tx["partner_bank"] = bank.name
        tx["destination"] = (m.iban[:4] + "…" + m.iban[-4:]) if m.iban else "acct …" + m.account[-4:]
        events = [
            {"at": iso_ms(t), "status": "created"},
            {"at": iso_ms(t + 600), "status": "pending", "detail": f"submitted to {bank.name}"},
        ]
        if done or returned:
            ev: dict[str, Any] = {"at": iso_ms(settle), "status": status}
            if returned:
                ev.update(code="AC04", detail="account closed")
            events.append(ev)
        tx["events"] = events
        ref = f"{tx['id']}"
        self.statements.book(
            bank,
            utc(t + 86400.0).date() if returned else settle_day,
            (ref, -minor, m.name, m.iban or m.account, f"Payout {tx['id']} {m.id}"),
        )
        if returned:
            self.statements.book(
                bank,
                utc(t + 3 * 86400.0).date(),
                (ref, minor, m.name, m.iban or m.account, f"RETURN AC04 {tx['id']}"),
            )
        self.sink.text(
            "payouts.log",
            t + 600,
            "INFO",
            f"payout submitted payout_id={tx['id']} merchant={m.id} bank={bank.bic} amount={minor} ccy={cur}",
            service="payouts",
        )
        if delayed and inc is not None:
            inc.record(tx, minor)
            self.sink.text(
                "payouts.log",
                t + 1800,
                "WARN",
                f"no settlement confirmation payout_id={tx['id']} bank={bank.bic} waited_s=1800",
                service="payouts",
            )
        if self.connector is not None:
            self.connector.payout(t, tx, bank, minor, settle if done else None, returned)
        return self.emit(t, tx)


_HOOK_ERR = ("upstream timed out", "Internal Server Error", "Bad Gateway", "")
_HOOK_ERR_BROKEN = ("Invalid signature", "signature mismatch", "No valid signature header", "Unauthorized")
_REFUND_ERR = (
    "charge already disputed",
    "insufficient merchant balance",
    "card account closed",
    "refund exceeds captured amount",
)


@lru_cache(maxsize=4096)
def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.replace("-", ".").split(".") if p.isdigit())


def older_version(version: str, cutoff: str) -> bool:
    """``"2.3.1" < "2.4"`` numerically (dates like ``2024-06`` work too)."""
    return _version_key(version) < _version_key(cutoff)


def _scheme_ds(scheme: str) -> str:
    return {"visa": "visa-ds", "mastercard": "mc-ds", "amex": "amex-safekey", "jcb": "jsecure"}.get(
        scheme, "ds"
    )


def _trace(pkg: str, exc: str) -> tuple[str, ...]:
    return (
        f"{pkg}.{exc}: see cause",
        f"\tat {pkg}.Handler.process(Handler.java:212)",
        f"\tat {pkg}.Worker.run(Worker.java:88)",
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
    )


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
