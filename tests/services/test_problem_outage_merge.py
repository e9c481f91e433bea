"""One outage seen through several ticket categories becomes one systemic problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paytriage.engines.patterns.features import TicketFeatures
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import LogIncident
from paytriage.services.problems import DetectedProblem, _merge_one_outage

T0 = datetime(2026, 1, 17, 4, 0, tzinfo=UTC)


def _problem(grouper: ProblemGrouper, name: str, keys: set[str], n: int = 5) -> int:
    tickets = [
        TicketFeatures(f"{name}{i}", f"{name} text {i}", T0 + timedelta(minutes=i), frozenset(keys))
        for i in range(n)
    ]
    for t in tickets:
        grouper.add(t)
    return grouper.move(tickets)


def _found(
    pid: int, minutes: float, log_minutes: float | None, signal: str, service: str = "acs-connector"
) -> DetectedProblem:
    log = None if log_minutes is None else T0 + timedelta(minutes=log_minutes)
    return DetectedProblem(
        pid,
        T0 + timedelta(minutes=minutes),
        "t",
        [],
        [],
        signals=[signal],
        log_detected_at=log,
        log_service=None if log is None else service,
    )


def test_categories_of_one_outage_merge_into_the_first() -> None:
    grouper = ProblemGrouper()
    a = _problem(grouper, "declined", {"country:es", "category:card_payment_declined"})
    b = _problem(grouper, "binding", {"country:es", "category:payment_method_binding"})
    detected = {
        a: _found(a, 3, -20, "category:card_payment_declined|country:es"),
        b: _found(b, 20, -19, "bin:454313"),
    }
    _merge_one_outage(detected, grouper)
    assert len(detected) == 1
    (survivor,) = detected.values()
    assert grouper.resolve(a) == grouper.resolve(b) == survivor.problem_id
    assert survivor.signals == ["category:card_payment_declined|country:es", "bin:454313"]
    assert survivor.log_detected_at == T0 - timedelta(minutes=20)
    assert grouper.problem(survivor.problem_id).size == 10


def test_problems_stay_apart_without_shared_segment_log_moment_or_proximity() -> None:
    grouper = ProblemGrouper()
    a = _problem(grouper, "declined", {"country:es"})
    b = _problem(grouper, "login", {"country:fr"})  # another segment
    c = _problem(grouper, "refund", {"country:es"})  # logs explained it an hour apart
    d = _problem(grouper, "payout", {"country:es"})  # detected a day later
    e = _problem(grouper, "upload", {"country:es"})  # no log evidence at all
    f = _problem(grouper, "payouts", {"country:es"})  # the same moment, another service's logs
    detected = {
        a: _found(a, 0, -5, "x"),
        b: _found(b, 10, -5, "y"),
        c: _found(c, 20, 55, "z"),
        d: _found(d, 24 * 60, -5, "w"),
        e: _found(e, 30, None, "v"),
        f: _found(f, 40, -4, "u", service="payouts"),
    }
    _merge_one_outage(detected, grouper)
    assert sorted(detected) == sorted([a, b, c, d, e, f])


def test_a_problem_called_from_alert_links_folds_with_the_same_alerts_category_burst() -> None:
    """Seed 151: customers tied to the identity alerts, then the login category, one SAML outage."""
    grouper = ProblemGrouper()
    a = _problem(grouper, "linked", {"plugin:sso@2.1"})
    b = _problem(grouper, "login", {"country:us"})  # no key in common with a
    c = _problem(grouper, "other", {"country:fr"})  # same service and moment, another log incident
    shared = LogIncident("identity")
    detected = {
        a: _found(a, 0, -30, "alert:identity", service="identity"),
        b: _found(b, 6, -30, "category:login_and_access", service="identity"),
        c: _found(c, 8, -29, "category:payout_withdrawal", service="identity"),
    }
    detected[a].log_incident = detected[b].log_incident = shared
    detected[c].log_incident = LogIncident("identity")
    for d in detected.values():
        d.log_signals = ["log:identity:template:saml assertion validation failed <*>"]
    _merge_one_outage(detected, grouper)
    assert len(detected) == 2
    survivor = detected[grouper.resolve(a)]
    assert grouper.resolve(b) == survivor.problem_id
    assert survivor.signals == ["alert:identity", "category:login_and_access"]
    assert grouper.resolve(c) in detected and grouper.resolve(c) != survivor.problem_id


def test_one_gateway_incident_does_not_fold_two_category_bursts() -> None:
    """Seed 59: an issuer outage and an API rate limit, both tied to one api-gateway incident."""
    grouper = ProblemGrouper()
    a = _problem(grouper, "declines", {"country:fr"})
    b = _problem(grouper, "limits", {"country:gb"})
    c = _problem(grouper, "linked", {"country:de"})  # alert links alone, but through another alert
    gateway = LogIncident("api-gateway")
    detected = {
        a: _found(a, 0, -5, "category:card_payment_declined|country:fr", service="api-gateway"),
        b: _found(b, 39, -5, "category:api_integration|error:429", service="api-gateway"),
        c: _found(c, 45, -4, "alert:api-gateway", service="api-gateway"),
    }
    for d in detected.values():
        d.log_incident = gateway
        d.log_signals = ["log:api-gateway:error:issuer_unavailable"]
    detected[c].log_signals = ["log:api-gateway:status:429"]
    _merge_one_outage(detected, grouper)
    assert sorted(detected) == sorted([a, b, c])
