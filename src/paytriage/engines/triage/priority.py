"""Priority P1–P4 as a sum of explained factors; weights and thresholds come from ``priority.yaml``.

Each factor returns its points and a sentence, so an analyst sees *why* a ticket is P1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paytriage.domain.errors import ConfigurationError
from paytriage.domain.money import Money
from paytriage.domain.taxonomy import Priority

__all__ = ["PriorityFactor", "PriorityInputs", "PriorityScorer"]


@dataclass(frozen=True, slots=True)
class PriorityFactor:
    """One contribution to the score, with the reason in words."""

    name: str
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class PriorityInputs:
    """Everything priority depends on; the triager fills it from the ticket, entities, signals and context."""

    category: str
    amounts: Sequence[Money] = ()
    customers_affected: int = 0
    transactions_affected: int = 0
    related_tickets: int = 0
    similar_last_24h: int = 0
    merchant_tier: str | None = None
    sla_remaining_hours: float | None = None
    funds_at_risk: bool = False
    outage: bool = False
    question: bool = False
    regulator_threat: bool = False
    legal_threat: bool = False
    chargeback_threat: bool = False
    anger: bool = False


def _ladder(value: float, steps: Sequence[Sequence[float]], *, descending: bool = True) -> int:
    """Points of the first ``[threshold, points]`` step met (``value >= t``, or ``<= t`` for SLA)."""
    for threshold, points in steps:
        if (value >= threshold) if descending else (value <= threshold):
            return int(points)
    return 0


class PriorityScorer:
    """``score(inputs) -> (Priority, [PriorityFactor])`` using a loaded ``priority.yaml`` mapping."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        try:
            t = config["thresholds"]
            self._thresholds = [
                (Priority.P1, float(t["P1"])),
                (Priority.P2, float(t["P2"])),
                (Priority.P3, float(t["P3"])),
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"priority.yaml: thresholds P1, P2, P3 are required ({exc})") from None
        self.version = str(config.get("version", "unversioned"))

    def _money_eur(self, amounts: Sequence[Money]) -> tuple[float, Money | None]:
        cfg = self.config.get("money", {})
        rates = cfg.get("approx_eur_rate", {})
        best, best_m = 0.0, None
        for m in amounts:
            eur = float(m.to_decimal() * Decimal(str(rates.get(m.currency, cfg.get("default_rate", 0.5)))))
            if eur > best:
                best, best_m = eur, m
        return best, best_m

    def score(self, x: PriorityInputs) -> tuple[Priority, list[PriorityFactor]]:
        c = self.config
        f: list[PriorityFactor] = []
        eur, money = self._money_eur(x.amounts)
        if money is not None and (p := _ladder(eur, c.get("money", {}).get("points", []))):
            f.append(PriorityFactor("money_at_stake", p, f"{money} at stake (≈ EUR {eur:,.0f})"))
        aff = c.get("affected", {})
        for name, value, label in (
            ("customers", x.customers_affected, "customers affected"),
            ("transactions", x.transactions_affected, "transactions affected"),
            ("related_tickets", x.related_tickets, "related tickets"),
        ):
            if value and (p := _ladder(value, aff.get(name, []))):
                f.append(PriorityFactor(f"affected_{name}", p, f"{value} {label}"))
        sev = c.get("severity", {})
        if x.outage:
            f.append(
                PriorityFactor(
                    "severity", int(sev.get("outage", 3)), "looks like an outage (many or all payments)"
                )
            )
        elif x.funds_at_risk:
            f.append(
                PriorityFactor(
                    "severity",
                    int(sev.get("funds_lost_or_blocked", 2)),
                    "customer's funds are lost, blocked or missing",
                )
            )
        elif x.question:
            f.append(
                PriorityFactor("severity", int(sev.get("question", -1)), "a question, nothing is broken")
            )
        if x.category in sev.get("severe_categories", []):
            f.append(
                PriorityFactor(
                    "category",
                    int(sev.get("severe_category_points", 1)),
                    f"category {x.category} carries financial or regulatory risk",
                )
            )
        if x.similar_last_24h and (
            p := _ladder(x.similar_last_24h, c.get("frequency_24h", {}).get("points", []))
        ):
            f.append(
                PriorityFactor("frequency_24h", p, f"{x.similar_last_24h} similar tickets in the last 24 h")
            )
        crit = c.get("criticality", {})
        tier = (x.merchant_tier or "").strip().lower()
        if tier and (p := int(crit.get("merchant_tier", {}).get(tier, 0))):
            f.append(PriorityFactor("merchant_tier", p, f"merchant tier '{tier}'"))
        for flag, key, text in (
            (x.regulator_threat, "regulator_threat", "mentions a regulator or ombudsman"),
            (x.legal_threat, "legal_threat", "threatens legal action"),
            (x.chargeback_threat, "chargeback_threat", "threatens a chargeback"),
            (x.anger, "anger", "customer is angry"),
        ):
            if flag and (p := int(crit.get(key, 0))):
                f.append(PriorityFactor(key, p, text))
        if x.sla_remaining_hours is not None and (
            p := _ladder(x.sla_remaining_hours, c.get("sla", {}).get("points", []), descending=False)
        ):
            state = "breached" if x.sla_remaining_hours <= 0 else f"{x.sla_remaining_hours:.1f} h left"
            f.append(PriorityFactor("sla", p, f"SLA {state}"))
        total = sum(fa.points for fa in f)
        for prio, threshold in self._thresholds:
            if total >= threshold:
                return prio, f
        return Priority.P4, f
