"""Emerging-issue detection and release impact on synthetic series with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from paytriage.domain.errors import InputError
from paytriage.domain.release import Release
from paytriage.engines.patterns.detection import CountSeries, EmergingIssueDetector, hourly_counts
from paytriage.engines.patterns.releases import release_impact

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
DAYS = 21


def seasonal(seed: int, *, step_at: int | None = None, factor: float = 1.0) -> np.ndarray:
    """Poisson counts with a day/night cycle (2..18 per hour) and a quieter weekend."""
    rng = np.random.default_rng(seed)
    h = np.arange(DAYS * 24)
    lam = 10 + 8 * np.sin(2 * np.pi * (h % 24 - 6) / 24)
    lam = lam * np.where((h // 24) % 7 >= 5, 0.5, 1.0)
    if step_at is not None:
        lam[step_at:] *= factor
    return rng.poisson(lam).astype(float)


STEP = 16 * 24 + 12  # day 16, noon
CASES = [
    # (name, counts, expected alert start hours, expected detection hours)
    ("seasonal series, no change", seasonal(1), [], []),
    ("another seed, no change", seasonal(2), [], []),
    ("step x4 at noon", seasonal(3, step_at=STEP, factor=4.0), [STEP], [STEP]),
    ("step x6 at noon", seasonal(4, step_at=STEP, factor=6.0), [STEP], [STEP]),
]


@pytest.mark.parametrize(("name", "counts", "starts", "detections"), CASES, ids=[c[0] for c in CASES])
def test_detect_table(name: str, counts: np.ndarray, starts: list[int], detections: list[int]) -> None:
    s = CountSeries("tickets:checkout", START, counts)
    alerts = EmergingIssueDetector().detect(s)
    assert [s.index(a.start) for a in alerts] == starts, name
    assert [s.index(a.detected_at) for a in alerts] == detections, name
    for a in alerts:
        assert a.ratio >= 2.0 and a.p_value <= 1e-4 and a.observed >= 5


def test_one_alert_per_episode_and_a_second_episode_after_quiet() -> None:
    counts = np.full(14 * 24, 4.0)
    counts[200:210] = 30.0  # episode 1, ten hours
    counts[260:265] = 30.0  # episode 2 after a quiet spell
    alerts = EmergingIssueDetector(min_history_hours=72).detect(CountSeries("x", START, counts))
    assert [(START + timedelta(hours=h)) for h in (200, 260)] == [a.start for a in alerts]
    assert alerts[0].ended_at == START + timedelta(hours=210)
    assert alerts[1].ended_at == START + timedelta(hours=265)


@pytest.mark.parametrize(
    ("rule", "kwargs"),
    [("min_count", {"min_count": 100}), ("min_ratio", {"min_ratio": 10.0}), ("alpha", {"alpha": 1e-100})],
)
def test_minimum_evidence_rule_suppresses(rule: str, kwargs: dict[str, float]) -> None:
    counts = np.full(10 * 24, 2.0)
    counts[200:] = 12.0
    s = CountSeries("x", START, counts)
    assert EmergingIssueDetector(min_history_hours=72).detect(s), "the step is found by default"
    assert EmergingIssueDetector(min_history_hours=72, **kwargs).detect(s) == [], rule  # type: ignore[arg-type]


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="non-negative"):
        EmergingIssueDetector().detect(CountSeries("x", START, np.array([1.0, -1.0])))
    with pytest.raises(InputError, match="alpha"):
        EmergingIssueDetector(alpha=2.0).detect(CountSeries("x", START, np.ones(3)))


def test_hourly_counts_buckets_events_on_a_shared_range() -> None:
    ev = [("a", START), ("a", START + timedelta(minutes=59)), ("b", START + timedelta(hours=2, minutes=5))]
    a, b = hourly_counts(ev)
    assert (a.signal, a.counts.tolist()) == ("a", [2.0, 0.0, 0.0])
    assert (b.signal, b.counts.tolist()) == ("b", [0.0, 0.0, 1.0])


def test_release_impact_flags_the_component_that_rose() -> None:
    h = 10 * 24
    up = np.full(h, 5.0)
    up[5 * 24 :] = 15.0
    flat = np.full(h, 5.0)
    series = [
        CountSeries("errors:gateway", START, up, component="gateway"),
        CountSeries("errors:payouts", START, flat, component="payouts"),
        CountSeries("tickets:all", START, flat),
    ]
    rel = Release("gateway", "2.4.0", START + timedelta(days=5))
    alerts = EmergingIssueDetector(min_history_hours=72).detect_many(series)
    (report,) = release_impact([rel], series, alerts=alerts)
    by = {c.signal: c for c in report.changes}
    assert set(by) == {"errors:gateway", "tickets:all"}  # payouts is another component
    assert by["errors:gateway"].significant and by["errors:gateway"].before == 120
    assert by["errors:gateway"].after == 360 and by["errors:gateway"].rate_ratio == pytest.approx(
        3.0, rel=0.01
    )
    assert not by["tickets:all"].significant
    assert [a.signal for a in report.alerts_after] == ["errors:gateway"]
