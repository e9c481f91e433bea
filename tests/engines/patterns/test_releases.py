"""The exact conditional rate test behind release impact: zero counts are ordinary, not a warning."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats import rates

from paytriage.domain.release import Release
from paytriage.engines.patterns.detection import CountSeries
from paytriage.engines.patterns.releases import exact_rate_increase_p, release_impact

START = datetime(2026, 1, 5, tzinfo=UTC)


def test_new_error_after_a_release_is_significant_without_any_warning() -> None:
    counts = np.zeros(48)
    counts[24:] = 2.0  # nothing before, 48 lines after
    series = CountSeries("errors:refunds", START, counts, component="refund-service")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from a zero "before" rate would fail here
        with np.errstate(all="raise"):
            (report,) = release_impact(
                [Release("refund-service", "4.2.0", START + timedelta(hours=24))], [series]
            )
    (change,) = report.changes
    assert (change.before, change.after) == (0, 48)
    assert change.significant and change.p_value == pytest.approx(0.5**48)


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [
        (0, 0, 1.0),  # nothing on either side
        (0, 5, 1.0),  # fewer after: P(X >= 0) = 1
        (3, 0, 0.125),  # equal exposures: 0.5 ** 3
        (1, 1, 0.75),  # P(X >= 1 | n=2, 0.5)
    ],
)
def test_known_values(after: int, before: int, expected: float) -> None:
    assert exact_rate_increase_p(after, 24, before, 24) == pytest.approx(expected)


def test_unequal_exposure_shifts_the_null_share() -> None:
    # 2 of 2 events in the after-third of the time: (1/3) ** 2
    assert exact_rate_increase_p(2, 8, 0, 16) == pytest.approx(1 / 9)


@pytest.mark.parametrize("bad", [(-1, 24, 0, 24), (1, 0, 1, 24), (1, 24, 1, -3)])
def test_rejects_impossible_inputs(bad: tuple[int, float, int, float]) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        exact_rate_increase_p(*bad)


@given(
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=1, max_value=200),
    st.integers(min_value=1, max_value=72),
    st.integers(min_value=1, max_value=72),
)
def test_matches_statsmodels_exact_conditional_test(after: int, before: int, ha: int, hb: int) -> None:
    """Where statsmodels is defined (a non-zero before-count) both give the same p-value."""
    ours = exact_rate_increase_p(after, ha, before, hb)
    theirs = rates.test_poisson_2indep(
        after, ha, before, hb, method="exact-cond", alternative="larger"
    ).pvalue
    assert ours == pytest.approx(float(theirs), rel=1e-9, abs=1e-12)
    assert 0.0 <= ours <= 1.0
