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
class _When:
    """A rule's ``when`` with every constant converted once at load (sets, upper/lower case, numbers)."""

    category: Any = None
    min_confidence: float | None = None
    codes: frozenset[str] | None = None
    kinds: frozenset[Any] | None = None
    http_status_min: int | None = None
    signals: tuple[str, ...] | None = None
    text: tuple[str, ...] | None = None
    customers_min: int | None = None

    @classmethod
    def parse(cls, when: dict[str, Any], where: str) -> _When:
        def number(key: str, kind: type[int] | type[float]) -> Any:
            if key not in when:
                return None
            try:
                return kind(when[key])
            except (TypeError, ValueError):
                raise ConfigurationError(f"{where}.when.{key}: not a number: {when[key]!r}") from None

        cat = when.get("category")
        return cls(
            category=cat if cat is None or isinstance(cat, str) else frozenset(cat),
            min_confidence=number("min_confidence", float),
            codes=frozenset(str(c).upper() for c in when["codes_any"]) if "codes_any" in when else None,
            kinds=frozenset(when["entities_any"]) if "entities_any" in when else None,
            http_status_min=number("http_status_min", int),
            signals=tuple(when["signals_any"]) if "signals_any" in when else None,
            text=tuple(str(t).lower() for t in when["text_any"]) if "text_any" in when else None,
            customers_min=number("customers_affected_min", int),
        )


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    when: dict[str, Any]
    route: Route
    reason: str
    test: _When


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
                _Rule(
                    str(raw.get("name", f"rule{i}")),
                    raw["when"],
                    route,
                    str(raw.get("reason", "")),
                    _When.parse(raw["when"], where),
                )
            )
        self.facts: dict[str, dict[str, Any]] = config.get("facts", {}) or {}
        self.requirements: dict[str, list[str]] = config.get("requirements", {}) or {}
        for cat, facts in self.requirements.items():
            for f in facts:
                if f not in self.facts:
                    raise ConfigurationError(f"routing.yaml: requirements.{cat}: unknown fact {f!r}")

    @staticmethod
    def _holds(when: _When, x: RoutingInputs, facts: _Facts) -> bool:
        if when.category is not None and x.category not in when.category:
            return False
        if when.min_confidence is not None and x.confidence < when.min_confidence:
            return False
        if when.codes is not None and not facts.codes & when.codes:
            return False
        if when.kinds is not None and not facts.kinds & when.kinds:
            return False
        if when.http_status_min is not None and not any(s >= when.http_status_min for s in facts.statuses):
            return False
        if when.signals is not None and not any(getattr(x.signals, s) for s in when.signals):
            return False
        if when.text is not None:
            low = facts.lower()
            if not any(t in low for t in when.text):
                return False
        return when.customers_min is None or x.customers_affected >= when.customers_min

    def route(self, x: RoutingInputs) -> RouteDecision | None:
        """The first matching rule's route, or None (caller falls back to KB/default)."""
        facts = _Facts(x)
        for rule in self.rules:
            if self._holds(rule.test, x, facts):
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
