"""KeyBurstDetector run apart on groups of signals over a volume fixed in advance."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector

START = datetime(2026, 3, 2, 5, 17, tzinfo=UTC)


def _stream(seed: int, days: int = 5) -> list[tuple[datetime, list[str]]]:
    """Warnings of a few templates with a day/night rhythm, two of them bursting, and arrivals
    sharing a timestamp (one log line feeding several signals; lines logged in the same µs)."""
    rng = random.Random(seed)
    out: list[tuple[datetime, list[str]]] = []
    t = START
    while t < START + timedelta(days=days):
        rate = 40.0 if 8 <= t.hour < 20 else 12.0
        t += timedelta(hours=rng.expovariate(rate))
        name = rng.choice(["a", "b", "c", "d"])
        sigs = [f"log:svc:template:{name}", "log:svc:level:warn"]
        if rng.random() < 0.2:
            sigs.append(f"log:svc:status:{rng.choice([500, 502])}")
        out.append((t, sigs))
        if rng.random() < 0.05:
            out.append((t, ["log:svc:template:a", "log:svc:level:warn"]))
    for k in range(60):  # a template bursting on day 3, another on day 4
        out.append(
            (START + timedelta(days=3, hours=2, minutes=k), ["log:svc:template:e", "log:svc:level:error"])
        )
        out.append((START + timedelta(days=4, hours=9, seconds=30 * k), ["log:svc:template:b"]))
    out.sort(key=lambda x: x[0])
    return out


def _key(b: Burst) -> tuple[object, ...]:
    return (b.signal, b.detected_at, b.window_hours, b.observed, b.expected, b.p_value, b.ticket_ids)


def _apart(
    stream: list[tuple[datetime, list[str]]], groups: list[set[str]], fixed: bool = True
) -> list[Burst]:
    volume = np.array(
        [(t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for t, _ in stream]
    )
    out: list[Burst] = []
    for group in groups:
        det = KeyBurstDetector(windows_hours=(1, 3, 6))
        if fixed:
            det.use_volume(volume)
        for n, (t, sigs) in enumerate(stream):
            mine = [s for s in sigs if s in group]
            if mine:
                out.extend(det.observe(str(n), t, mine, index=n))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_signals_run_apart_over_a_fixed_volume_burst_as_in_one_stream(seed: int) -> None:
    stream = _stream(seed)
    whole = KeyBurstDetector(windows_hours=(1, 3, 6))
    want = [b for n, (t, sigs) in enumerate(stream) for b in whole.observe(str(n), t, sigs)]
    assert {b.signal for b in want} >= {"log:svc:template:e", "log:svc:template:b"}
    names = sorted({s for _, sigs in stream for s in sigs})
    for groups in ([set(names)], [set(names[::2]), set(names[1::2])], [{s} for s in names]):
        assert sorted(map(_key, _apart(stream, groups))) == sorted(map(_key, want))
    # each signal's own arrivals alone are not its volume: the expected counts differ
    assert sorted(map(_key, _apart(stream, [{s} for s in names], fixed=False))) != sorted(map(_key, want))


def test_a_fixed_volume_needs_each_arrival_in_order_at_its_time() -> None:
    det = KeyBurstDetector().use_volume(np.array([0, 10, 20]))
    at = datetime(1970, 1, 1, tzinfo=UTC)
    det.observe("0", at, ["x"], index=0)
    with pytest.raises(InputError, match="position"):
        det.observe("1", at, ["x"])
    with pytest.raises(InputError, match="not at"):
        det.observe("1", at, ["x"], index=1)
    with pytest.raises(InputError, match="position"):
        det.observe("0", at, ["x"], index=0)
    with pytest.raises(InputError, match="time-ordered"):
        KeyBurstDetector().use_volume(np.array([5, 1]))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 24 * 60), st.sampled_from(["x", "y", "z"])), min_size=1, max_size=300
    )
)
def test_any_split_of_signals_gives_the_streams_bursts(events: list[tuple[int, str]]) -> None:
    stream = sorted((START + timedelta(minutes=m), [s, "all"]) for m, s in events)
    whole = KeyBurstDetector(windows_hours=(0.25, 1), min_customers=2, alpha=0.01, min_history_hours=1)
    want = [b for n, (t, sigs) in enumerate(stream) for b in whole.observe(str(n), t, sigs)]
    volume = np.array(
        [(t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for t, _ in stream]
    )
    got: list[Burst] = []
    for group in (["x", "all"], ["y", "z"]):
        det = KeyBurstDetector(windows_hours=(0.25, 1), min_customers=2, alpha=0.01, min_history_hours=1)
        det.use_volume(volume)
        for n, (t, sigs) in enumerate(stream):
            mine = [s for s in sigs if s in group]
            if mine:
                got.extend(det.observe(str(n), t, mine, index=n))
    assert sorted(map(_key, got)) == sorted(map(_key, want))
