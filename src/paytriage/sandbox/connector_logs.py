"""What the partner-bank connector and the SSO service log, drawn from their own random stream.

Real platforms have these logs and Tier 2 cites them: the bank connector records every payout
instruction the bank acknowledged (pain.002) and booked, every incoming credit notification (camt.054)
it matched to a bank-transfer top-up, and the top-ups still waiting for one; the SSO service records
each SAML assertion it validated, with the request id of the ACS call. Lines carry the ids an
engineer searches by (``transaction_id=``, ``request_id=``, ``org=``), nothing that names an incident.

Every draw comes from ``random.Random(f"{seed}:connector")``, never from the traffic stream, so
adding these lines leaves every other output file byte-identical (only ``bank-connector.log``,
``identity.log`` and the manifest's line count change).
"""

from __future__ import annotations

import random
from typing import Any

from paytriage.sandbox.catalog import PARTNER_BANKS, PartnerBank
from paytriage.sandbox.logs import LogSink, iso

__all__ = ["BANK_LOG", "SERVICE", "ConnectorLogs"]

BANK_LOG = "bank-connector.log"
SERVICE = "bank-transfer-connector"
#: How long the connector waits for a top-up's credit notification before warning.
CREDIT_WAIT_S = 3600
#: Banks send an incoming-credit notification (camt.054) batch about this often.
NOTIFY_EVERY_S = 3600
_BY_NAME = {b.name: b for b in PARTNER_BANKS}


class ConnectorLogs:
    """Bank-connector and SSO lines; ``stalled(bank, t)`` says whether a bank's credit feed is held up."""

    def __init__(self, rng: random.Random, sink: LogSink) -> None:
        self.rng = rng
        self.sink = sink
        self._notices: dict[str, list[float]] = {}
        self._stalled: dict[str, tuple[float, float]] = {}

    # -- bank connector -----------------------------------------------------------------------------
    def stall(self, bank: str, start: float, end: float) -> None:
        """The bank's incoming-credit notifications stop arriving between ``start`` and ``end``."""
        self._stalled[bank] = (start, end)

    def _stalled_at(self, bank: str, t: float) -> bool:
        span = self._stalled.get(bank)
        return span is not None and span[0] <= t < span[1]

    def _last(self, bank: str, t: float) -> float | None:
        """The last camt.054 batch from ``bank`` received before ``t``."""
        return max((x for x in self._notices.get(bank, ()) if x <= t), default=None)

    def _line(self, t: float, level: str, msg: str) -> None:
        self.sink.text(BANK_LOG, t, level, msg, service=SERVICE)

    def _e2e(self) -> str:
        return f"E2E{self.rng.getrandbits(40):010X}"

    def hour(self, t0: float) -> None:
        """Each bank's camt.054 batch for the hour, or a warning when it is overdue."""
        for bank in PARTNER_BANKS:
            t = t0 + self.rng.uniform(0, NOTIFY_EVERY_S)
            if self._stalled_at(bank.name, t):
                last = self._last(bank.name, t) or self._stalled[bank.name][0]
                self._line(
                    t,
                    "WARN",
                    f"camt.054 overdue bank={bank.bic} last_received_at={iso(last)} lag_s={int(t - last)} "
                    f"expected_every_s={NOTIFY_EVERY_S}",
                )
                continue
            seen = self._notices.setdefault(bank.name, [])
            seen.append(t)
            del seen[:-4]  # a few hours back is all a "last received" ever needs
            self._line(
                t,
                "INFO",
                f"camt.054 received bank={bank.bic} msg_id=C54{self.rng.getrandbits(32):08X} "
                f"entries={self.rng.randrange(3, 60)}",
            )

    def topup(self, t: float, tx: dict[str, Any], minor: int) -> None:
        """A bank-transfer top-up: the credit it waits for, and whether it was matched in time."""
        bank = _BY_NAME.get(str(tx.get("partner_bank") or "")) or next(
            (b for b in PARTNER_BANKS if b.currency == tx["currency"]), None
        )
        if bank is None:
            return
        ref = f"reference={tx['id'].upper()} amount={minor} ccy={tx['currency']}"
        who = f" customer={tx['customer_id']}" if tx.get("customer_id") else ""
        if tx["status"] == "succeeded":
            self._line(
                t + 1,
                "INFO",
                f"credit matched transaction_id={tx['id']} bank={bank.bic} end_to_end_id={self._e2e()} {ref}",
            )
            return
        self._line(t + 1, "INFO", f"awaiting credit transaction_id={tx['id']} bank={bank.bic} {ref}{who}")
        last = self._last(bank.name, t + CREDIT_WAIT_S)
        since = f" last_camt054_at={iso(last)}" if last is not None else ""
        self._line(
            t + CREDIT_WAIT_S,
            "WARN",
            f"no credit notification transaction_id={tx['id']} bank={bank.bic} waited_s={CREDIT_WAIT_S}"
            f"{since}",
        )

    def payout(
        self,
        t: float,
        tx: dict[str, Any],
        bank: PartnerBank,
        minor: int,
        settle: float | None,
        returned: bool,
    ) -> None:
        """The bank's acknowledgement of the payout instruction, then its booking (or return)."""
        e2e = self._e2e()
        ack = t + 600 + self.rng.uniform(20, 400)
        self._line(
            ack,
            "INFO",
            f"pain.002 accepted transaction_id={tx['id']} bank={bank.bic} status=ACCP end_to_end_id={e2e} "
            f"amount={minor} ccy={tx['currency']}",
        )
        if returned:
            self._line(
                t + 86400.0,
                "WARN",
                f"payout returned transaction_id={tx['id']} bank={bank.bic} end_to_end_id={e2e} reason=AC04",
            )
        elif settle is not None:
            self._line(
                settle,
                "INFO",
                f"payout booked transaction_id={tx['id']} bank={bank.bic} end_to_end_id={e2e} "
                f"source=camt.053 waited_s={int(settle - ack)}",
            )

    # -- SSO ----------------------------------------------------------------------------------------
    def _req(self) -> str:
        return f"req_{self.rng.getrandbits(48):012x}"

    def saml(self, t: float, org: str, *, rejected_since: float | None = None) -> None:
        """One SAML login at the ACS endpoint; ``rejected_since``: the SP certificate's NotOnOrAfter."""
        req = self._req()
        assertion = f"_{self.rng.getrandbits(64):016x}"
        took = self.rng.randrange(8, 60)
        if rejected_since is None:
            self.sink.text(
                "identity.log",
                t - 0.05,
                "INFO",
                f"POST /sso/saml/acs status=302 request_id={req} org={org} assertion_id={assertion} "
                f"duration_ms={took}",
                service="identity",
            )
            return
        self.sink.text(
            "identity.log",
            t - 0.05,
            "ERROR",
            f"saml assertion validation failed request_id={req} org={org} assertion_id={assertion} "
            f'check=signature cert_subject="CN=dashboard-sp" cert_not_after={iso(rejected_since)} '
            f"validated_at={iso(t)}",
            service="identity",
        )
        self.sink.text(
            "identity.log",
            t - 0.04,
            "WARN",
            f"POST /sso/saml/acs status=401 request_id={req} org={org} assertion_id={assertion} "
            f"duration_ms={took}",
            service="identity",
        )
