"""Order-of-magnitude amount shifts in log lines (unit bugs such as JPY handled as two-decimal)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from paytriage.engines.patterns.bursts import Burst
from paytriage.engines.patterns.value_shift import AmountReading, ValueShiftDetector, amount_readings

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def test_readings_take_the_currency_from_a_key_the_next_token_or_any_code() -> None:
    assert amount_readings("Refund re_1 created amount=25030 currency=JPY requested_by=m_1") == [
        AmountReading("amount", "JPY", 25030.0)
    ]
    assert amount_readings("auth approved txn=pay_1 bin=411111 amount=5000 EUR rc=00") == [
        AmountReading("amount", "EUR", 5000.0)
    ]
    assert amount_readings("payout po_1 USD settled amount=12.5") == [AmountReading("amount", "USD", 12.5)]
    assert amount_readings("capture amount=700") == [AmountReading("amount", "", 700.0)]
    # a field whose name contains the word, and structured attributes (numbers or numeric strings)
    assert amount_readings("refund_amount=30 ccy=gbp") == [AmountReading("refund_amount", "GBP", 30.0)]
    got = amount_readings("GET /v1/x", {"amount": 12, "fee_amount": "0.5", "currency": "usd", "ok": True})
    assert got == [AmountReading("amount", "USD", 12.0), AmountReading("fee_amount", "USD", 0.5)]


def test_readings_in_colon_and_json_forms() -> None:
    assert amount_readings("Refund created, amount: 12.50 EUR") == [AmountReading("amount", "EUR", 12.5)]
    assert amount_readings('{"id": "re_1", "amount": 1250, "currency": "usd"}') == [
        AmountReading("amount", "USD", 1250.0)
    ]
    assert amount_readings("Amount: 99 USD") == [AmountReading("amount", "USD", 99.0)]


def test_readings_skip_zero_negative_prose_and_non_numbers() -> None:
    assert amount_readings("transfer tr_1 amount=0 EUR") == []
    assert amount_readings("reversal amount=-50 EUR") == []
    assert amount_readings("we charged an amount of 5 EUR") == []
    assert amount_readings("x", {"amount": "n/a", "flag_amount": True, "amount_list": [1]}) == []
    assert amount_readings("max_amount=abc") == []
    # ambiguous numbers are skipped rather than misread
    assert amount_readings("amount=1,234.50 EUR") == [] and amount_readings("amount=12.5.3") == []
    assert amount_readings("amount=10:30") == []


@given(
    st.text(max_size=200),
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=8)),
    ),
)
def test_readings_never_raise_and_are_positive_finite(message: str, attributes: dict[str, object]) -> None:
    for r in amount_readings(message, attributes):
        assert r.value > 0 and math.isfinite(r.value)
        assert r.currency == "" or (len(r.currency) == 3 and r.currency.isupper())


def _refund(det: ValueShiftDetector, i: int, when: datetime, yen: float) -> tuple[list[str], list[Burst]]:
    msg = (
        f"Refund re_{i:06d} created for payment py_{i:06d} amount={round(yen)} currency=JPY requested_by=m_1"
    )
    return det.observe(f"re_{i:06d}", when, "refund-service", msg)


def _history(det: ValueShiftDetector, n: int = 40, seed: int = 0) -> datetime:
    rng = random.Random(seed)
    when = T0
    for i in range(n):
        when = T0 + timedelta(hours=i)
        signals, bursts = _refund(det, i, when, 10 ** rng.uniform(3.0, 4.5))
        assert bursts == [] and signals == []
    return when


def test_amounts_a_hundred_times_too_small_alert_once_with_the_lines_behind_it() -> None:
    det = ValueShiftDetector()
    when = _history(det)
    alerts: list[Burst] = []
    evidence = 0
    rng = random.Random(9)
    for k in range(10):  # the same kind of refunds, booked as if yen had two decimals
        yen = 10 ** rng.uniform(3.0, 4.5) / 100
        signals, bursts = _refund(det, 100 + k, when + timedelta(minutes=5 * (k + 1)), yen)
        evidence += len(signals)
        alerts += bursts
        if k < 3:
            assert bursts == []  # three lines are not evidence enough
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert.signal.startswith("log:refund-service:value:amount:JPY:Refund <*> created")
    assert "100× smaller" in alert.note and "JPY" in alert.note
    assert alert.p_value <= det.alpha and alert.observed >= 4
    assert set(alert.ticket_ids) <= {f"re_{100 + k:06d}" for k in range(10)}
    assert evidence == 10  # every shifted line is evidence for the signal


def test_a_stable_heavy_tailed_stream_and_a_threefold_drift_do_not_alert() -> None:
    det = ValueShiftDetector()
    rng = random.Random(7)
    alerts = []
    for i in range(3000):
        when = T0 + timedelta(minutes=7 * i)
        factor = 3.0 if i > 2000 else 1.0  # a price rise, not a unit bug
        alerts += _refund(det, i, when, factor * 10 ** rng.gauss(3.6, 0.5))[1]
    assert alerts == []


def test_one_alert_per_episode_and_a_new_episode_after_recovery() -> None:
    det = ValueShiftDetector(window_hours=1.0)
    when = _history(det, n=60)
    alerts = []
    for k in range(30):  # two and a half hours of shifted amounts
        alerts += _refund(det, 200 + k, when + timedelta(minutes=5 * (k + 1)), 20.0 + k)[1]
    assert len(alerts) == 1
    rng = random.Random(3)
    when += timedelta(hours=3)
    for k in range(20):  # back to normal
        alerts += _refund(det, 300 + k, when + timedelta(minutes=10 * k), 10 ** rng.uniform(3.0, 4.5))[1]
    assert len(alerts) == 1
    when += timedelta(hours=5)
    for k in range(10):
        alerts += _refund(det, 400 + k, when + timedelta(minutes=3 * k), 2_000_000.0 + k)[1]
    assert len(alerts) == 2
    assert "100× larger" in alerts[1].note or "1,000× larger" in alerts[1].note


def test_currencies_are_separate_streams_and_short_history_never_alerts() -> None:
    det = ValueShiftDetector()
    rng = random.Random(1)
    alerts = []
    for i in range(60):  # EUR cents and JPY yen interleaved: two scales, no shift in either
        when = T0 + timedelta(minutes=30 * i)
        cur, scale = ("EUR", 4.0) if i % 2 else ("JPY", 2.0)
        msg = f"auth approved txn=pay_{i} amount={round(10 ** rng.uniform(scale, scale + 1))} {cur} rc=00"
        alerts += det.observe(str(i), when, "payments-core", msg)[1]
    assert alerts == []
    fresh = ValueShiftDetector()
    _history(fresh, n=10)  # fewer earlier amounts than min_baseline
    when = T0 + timedelta(hours=11)
    for k in range(20):
        assert _refund(fresh, 500 + k, when + timedelta(minutes=k), 5.0)[1] == []


def _currency_history(det: ValueShiftDetector, n: int = 60, seed: int = 4) -> datetime:
    """Yen amounts of other kinds of line (payments, top-ups), and two refunds of usual size."""
    rng = random.Random(seed)
    when = T0
    for i in range(n):
        when = T0 + timedelta(minutes=40 * i)
        kind = "auth approved txn=pay_{i} amount={a} JPY rc=00" if i % 2 else "topup tu_{i} amount={a} JPY"
        msg = kind.format(i=i, a=round(10 ** rng.uniform(3.3, 4.3)))
        assert det.observe(f"p{i}", when, "payments-core", msg)[1] == []
    for k in range(2):
        assert _refund(det, k, when + timedelta(minutes=k + 1), 10 ** rng.uniform(3.5, 4.0))[1] == []
    return when + timedelta(hours=1)


def test_a_rare_currency_is_tested_against_its_other_lines_until_it_has_a_baseline() -> None:
    """Two yen refunds in days: no baseline of their own, but yen amounts elsewhere show what a
    refund should look like; 100× smaller refunds alert, and every one of them stays evidence."""
    det = ValueShiftDetector()
    when = _currency_history(det)
    alerts: list[Burst] = []
    evidence = 0
    for k in range(12):
        signals, bursts = _refund(det, 100 + k, when + timedelta(minutes=50 * k), 30.0 + 7 * k)
        evidence += len(signals)
        alerts += bursts
    [alert] = alerts
    assert alert.signal.startswith("log:refund-service:value:amount:JPY:Refund <*> created")
    assert "100× smaller" in alert.note and "JPY amounts of all kinds of line" in alert.note
    assert alert.p_value <= det.alpha
    assert evidence == 8  # from the first refund tested on: none becomes the stream's own history
    # without the other lines' amounts the same refunds are not enough
    alone = ValueShiftDetector()
    for k in range(2):
        _refund(alone, k, T0 + timedelta(hours=k), 5000.0)
    assert not any(
        _refund(alone, 100 + k, when + timedelta(minutes=50 * k), 30.0 + 7 * k)[1] for k in range(12)
    )


def test_the_pool_does_not_flag_a_new_kind_of_line_or_one_whose_amounts_always_spread_wide() -> None:
    det = ValueShiftDetector()
    when = _currency_history(det)
    alerts: list[Burst] = []
    # tips have always been small: their own history disagrees with the pool, so it is not used
    for k in range(12):
        msg = f"tip tp_{k} added amount={50 + k} JPY"
        alerts += det.observe(f"t{k}", when + timedelta(minutes=20 * k), "payments-core", msg)[1]
    # a line with no history of its own is never tested against the pool
    for k in range(12):
        msg = f"verification charge vc_{k} amount={10 + k} JPY"
        alerts += det.observe(f"v{k}", when + timedelta(minutes=20 * k), "payments-core", msg)[1]
    # payouts ranged from 2,000 to 900,000 yen: a run of large ones is inside what they logged
    for k, yen in enumerate([2_000, 900_000, 15_000, 40_000, 3_000, 600_000] + [500_000] * 8):
        msg = f"payout po_{k} submitted amount={yen} JPY"
        alerts += det.observe(f"o{k}", when + timedelta(hours=4 * k), "payouts", msg)[1]
    assert alerts == []
