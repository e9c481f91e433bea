"""Routing: an editable rule table (``routing.yaml``), then knowledge articles, then the category default.

Also decides ``needs_info``: which key facts (transaction, date, amount, error message…) are missing
for the category, and the exact questions to ask the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paytriage.domain.errors import ConfigurationError
from paytriage.domain.taxonomy import Route
from paytriage.engines.triage.entities import Entity, EntityKind
from paytriage.engines.triage.signals import Signals

__all__ = ["RouteDecision", "Router", "RoutingInputs"]

_CONDITIONS = {
    "category",
    "codes_any",
    "entities_any",
    "http_status_min",
    "signals_any",
    "text_any",
    "customers_affected_min",
    "min_confidence",
}
_SIGNALS = {"legal_threat", "regulator_threat", "chargeback_threat", "anger", "urgency", "funds_at_risk"}


@dataclass(frozen=True, slots=True)
class RoutingInputs:
    category: str
    confidence: float
    entities: Sequence[Entity]
    signals: Signals
    text: str
    customers_affected: int = 0


@dataclass(frozen=True, slots=True)
class RouteDecision:
    route: Route
    rule: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    when: dict[str, Any]
    route: Route
    reason: str


class _Facts:
    """What the rules ask of one ticket's entities and text, computed once per ticket, not per rule."""

    __slots__ = ("_low", "codes", "kinds", "statuses", "text")

    def __init__(self, x: RoutingInputs) -> None:
        self.kinds = {e.kind.value for e in x.entities}
        self.codes = {str(e.value).upper() for e in x.entities if e.kind is EntityKind.DECLINE_CODE}
        self.statuses = [int(e.value) for e in x.entities if e.kind is EntityKind.HTTP_STATUS]
        self.text = x.text
        self._low: str | None = None

    def lower(self) -> str:
        if self._low is None:
            self._low = self.text.lower()
        return self._low


class Router:
    """Holds the parsed rules and fact requirements; pure functions of :class:`RoutingInputs`."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.version = str(config.get("version", "unversioned"))
        self.rules: list[_Rule] = []
        for i, raw in enumerate(config.get("rules", []) or []):
            where = f"routing.yaml: rules[{i}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("when"), dict):
                raise ConfigurationError(f"{where}: needs 'name', 'when' and 'route'")
            unknown = set(raw["when"]) - _CONDITIONS
            if unknown:
                raise ConfigurationError(f"{where}.when: unknown condition(s) {sorted(unknown)}")
            bad = set(raw["when"].get("signals_any", [])) - _SIGNALS
            if bad:
                raise ConfigurationError(f"{where}.when.signals_any: unknown signal(s) {sorted(bad)}")
            try:
                route = Route(str(raw.get("route")))
            except ValueError:
                raise ConfigurationError(f"{where}.route: unknown route {raw.get('route')!r}") from None
            self.rules.append(
                _Rule(str(raw.get("name", f"rule{i}")), raw["when"], route, str(raw.get("reason", "")))
            )
        self.facts: dict[str, dict[str, Any]] = config.get("facts", {}) or {}
        self.requirements: dict[str, list[str]] = config.get("requirements", {}) or {}
        for cat, facts in self.requirements.items():
            for f in facts:
                if f not in self.facts:
                    raise ConfigurationError(f"routing.yaml: requirements.{cat}: unknown fact {f!r}")

    @staticmethod
    def _holds(when: dict[str, Any], x: RoutingInputs, facts: _Facts) -> bool:
        if "category" in when and x.category not in when["category"]:
            return False
        if "min_confidence" in when and x.confidence < float(when["min_confidence"]):
            return False
        if "codes_any" in when and not facts.codes & {str(c).upper() for c in when["codes_any"]}:
            return False
        if "entities_any" in when and not facts.kinds & set(when["entities_any"]):
            return False
        if "http_status_min" in when and not any(s >= int(when["http_status_min"]) for s in facts.statuses):
            return False
        if "signals_any" in when and not any(getattr(x.signals, s) for s in when["signals_any"]):
            return False
        if "text_any" in when:
            low = facts.lower()
            if not any(str(p).lower() in low for p in when["text_any"]):
                return False
        return not (
            "customers_affected_min" in when and x.customers_affected < int(when["customers_affected_min"])
        )

    def route(self, x: RoutingInputs) -> RouteDecision | None:
        """The first matching rule's route, or None (caller falls back to KB/default)."""
        facts = _Facts(x)
        for rule in self.rules:
            if self._holds(rule.when, x, facts):
                return RouteDecision(rule.route, rule.name, rule.reason or f"rule {rule.name}")
        return None

    def missing_facts(self, category: str, entities: Sequence[Entity]) -> list[tuple[str, str]]:
        """``[(fact, question)]`` for every required fact no entity combination satisfies."""
        kinds = {e.kind.value for e in entities}
        missing = []
        for fact in self.requirements.get(category, []):
            spec = self.facts[fact]
            options = spec.get("satisfied_by", [])
            if not any(set(opt) <= kinds for opt in options):
                missing.append((fact, str(spec.get("question", f"Please provide the {fact}."))))
        return missing
