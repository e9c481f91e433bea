"""Spark engine agrees with the in-process engine on a small input (local mode; slow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from paytriage.engines.patterns import ProblemGrouper
from paytriage.engines.patterns.detection import EmergingIssueDetector, hourly_counts
from paytriage.engines.patterns.spark import spark_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
START = datetime(2024, 1, 1, tzinfo=UTC)
US = {"coerce_timestamps": "us", "allow_truncated_timestamps": True}  # Spark cannot read ns timestamps


def test_spark_and_inprocess_agree(tmp_path: Path) -> None:
    import pandas as pd

    from paytriage.engines.patterns.spark import detect_parquet, group_parquet, spark_session

    rng = np.random.default_rng(0)
    events = []
    for h in range(10 * 24):
        for signal, lam in (("a", 3 if h < 180 else 15), ("b", 3)):
            events += [
                (signal, START + timedelta(hours=h, minutes=int(m)))
                for m in rng.integers(60, size=rng.poisson(lam))
            ]
    pd.DataFrame(events, columns=["signal", "ts"]).to_parquet(tmp_path / "ev.parquet", **US)
    texts = ["card declined bin", "card declined again", "payout late", "payout still late", "webhook 500"]
    tickets = pd.DataFrame(
        {
            "ticket_id": [str(i) for i in range(len(texts))],
            "text": texts,
            "created_at": [START + timedelta(hours=i) for i in range(len(texts))],
            "keys": [["bin:411111"], ["bin:411111"], [], [], ["endpoint:/hooks"]],
        }
    )
    tickets.to_parquet(tmp_path / "t.parquet", **US)

    det = EmergingIssueDetector(min_history_hours=72)
    spark = spark_session()
    try:
        got = detect_parquet(spark, str(tmp_path / "ev.parquet"), det)
        assigned = group_parquet(
            spark, str(tmp_path / "t.parquet"), ProblemGrouper(), out=str(tmp_path / "out")
        )
    finally:
        spark.stop()
    want = det.detect_many(hourly_counts(events))
    assert [(a.signal, a.start, a.observed) for a in got] == [(a.signal, a.start, a.observed) for a in want]
    assert len(want) == 1 and want[0].start == START + timedelta(hours=180)
    from paytriage.engines.patterns import TicketFeatures

    local = ProblemGrouper().fit(
        TicketFeatures(r.ticket_id, r.text, r.created_at.to_pydatetime(), frozenset(r.keys))
        for r in tickets.itertuples()
    )
    assert assigned == local.assignments_
    assert assigned["0"] == assigned["1"] and assigned["2"] == assigned["3"] != assigned["0"]


def test_spark_log_lines_agree_with_inprocess(tmp_path: Path) -> None:
    """Raw log lines to alerts on Spark: the same signals and alerts as the in-process path."""
    import pandas as pd

    from paytriage.engines.patterns.log_signals import LogLine, line_signals
    from paytriage.engines.patterns.spark import detect_log_parquet, spark_session

    rows: list[tuple[datetime, str, str, str, int | None, str | None]] = []
    for h in range(10 * 24):
        at = START + timedelta(hours=h)
        rows += [
            (
                at + timedelta(minutes=10 * k),
                "api-gateway",
                "warn",
                f"GET /v1/p/{h}x{k} 404 missing",
                404,
                None,
            )
            for k in range(3)
        ]
        timeout = "ACS did not answer CReq within 10000ms txn=pay_{}"
        rows += [
            (at + timedelta(minutes=7 * k + 1), "acs-connector-2", "WARNING", timeout.format(f"{h}a{k}"),
             None, "acs_timeout" if k % 2 else None)
            for k in range(3 if h < 180 else 21)
        ]  # fmt: skip
        rows.append((at + timedelta(minutes=30), "payouts", "info", "batch sent", None, None))
    cols = ["timestamp", "service", "level", "message", "http_status", "error_code"]
    frame = pd.DataFrame(rows, columns=cols).astype({"http_status": "Int64"})
    frame.to_parquet(tmp_path / "logs.parquet", **US)

    det = EmergingIssueDetector(min_history_hours=72)
    spark = spark_session()
    try:
        got = detect_log_parquet(spark, str(tmp_path / "logs.parquet"), det)
    finally:
        spark.stop()
    events = [(s, r[0]) for r in rows for s in line_signals(LogLine(*r))]
    want = det.detect_many(hourly_counts(events))
    assert [(a.signal, a.start, a.observed) for a in got] == [(a.signal, a.start, a.observed) for a in want]
    assert {a.signal for a in want} >= {
        "log:acs-connector:template:ACS did not answer CReq within <*> txn=<*>",
        "log:acs-connector:error:acs_timeout",
    }
    assert all(a.start == START + timedelta(hours=180) for a in want)


def test_spark_value_shifts_agree_with_inprocess(tmp_path: Path) -> None:
    """Amount shifts on Spark, one group per field and currency: the same alerts as streaming the
    lines in-process, including a rare currency tested against its other lines' amounts."""
    import random

    import pandas as pd

    from paytriage.engines.patterns.log_signals import service_name
    from paytriage.engines.patterns.spark import spark_session, value_shifts_parquet
    from paytriage.engines.patterns.value_shift import ValueShiftDetector

    rng = random.Random(5)
    rows: list[tuple[datetime, str, str]] = []
    for k in range(400):  # euro payments and refunds, yen payments, two yen refunds
        at = START + timedelta(minutes=37 * k)
        cur, scale = ("JPY", 3.7) if k % 3 == 0 else ("EUR", 3.4)
        rows.append(
            (
                at,
                "payments-core-1",
                f"auth approved txn=pay_{k} amount={round(10 ** rng.gauss(scale, 0.3))} {cur}",
            )
        )
        if k % 4 == 1:
            rows.append(
                (
                    at + timedelta(seconds=7),
                    "refund-service",
                    f"Refund re_{k} created amount={round(10 ** rng.gauss(3.4, 0.3))} currency=EUR",
                )
            )
    rows += [
        (
            START + timedelta(hours=200 + k),
            "refund-service",
            f"Refund re_y{k} created amount={5000 + 900 * k} currency=JPY",
        )
        for k in range(2)
    ]
    late = START + timedelta(hours=250)
    rows += [
        (
            late + timedelta(minutes=20 * k),
            "refund-service",
            f"Refund re_z{k} created amount={40 + 3 * k} currency=JPY",
        )
        for k in range(8)
    ]
    rows += [
        (
            late + timedelta(minutes=20 * k + 5),
            "refund-service",
            f"Refund re_w{k} created amount={12 + k} currency=EUR",
        )
        for k in range(8)
    ]
    rows.sort(key=lambda r: r[0])
    frame = pd.DataFrame(rows, columns=["timestamp", "service", "message"])
    frame.to_parquet(tmp_path / "logs.parquet", **US)

    spark = spark_session()
    try:
        got = value_shifts_parquet(spark, str(tmp_path / "logs.parquet"))
    finally:
        spark.stop()
    det = ValueShiftDetector()
    want = [
        b for n, (at, svc, msg) in enumerate(rows) for b in det.observe(str(n), at, service_name(svc), msg)[1]
    ]
    key = [(b.signal, b.detected_at, b.observed, b.p_value, b.note) for b in want]
    assert [(b.signal, b.detected_at, b.observed, b.p_value, b.note) for b in got] == key
    assert [b.signal.split(":")[4] for b in want] == ["JPY", "EUR"]
    assert [b.ticket_ids for b in got] == [b.ticket_ids for b in want]  # one partition: ids are row numbers


def test_spark_first_seen_warnings_agree_with_inprocess(tmp_path: Path) -> None:
    """First-seen warnings on Spark, one watcher per service: the same alerts as in-process, with
    each service's history starting at its first line of any level."""
    import pandas as pd

    from paytriage.engines.patterns.log_signals import FirstSeenWatcher, LogLine
    from paytriage.engines.patterns.spark import first_seen_parquet, spark_session

    rows: list[tuple[datetime, str, str, str]] = []
    for h in range(4 * 24):
        at = START + timedelta(hours=h)
        rows.append((at, "bank-connector-1", "info", f"camt.054 received bank=HANSDEFFXXX seq={h}"))
        rows.append(
            (
                at + timedelta(minutes=20),
                "bank-connector-2",
                "warn",
                f"retrying statement fetch attempt={h % 3}",
            )
        )
        rows.append(
            (at + timedelta(minutes=40), "api-gateway", "error", f"POST /v1/p/{h} 500 internal_error")
        )
    rows.append(
        (
            START + timedelta(hours=30),
            "bank-connector-1",
            "warn",
            "camt.054 overdue bank=HANSDEFFXXX lag_s=6009",
        )
    )
    rows.append((START + timedelta(hours=31), "api-gateway", "warn", "upstream acs timeout after 10000ms"))
    rows.append(
        (START + timedelta(hours=90), "api-gateway", "error", "POST /v1/p/7 502 bad_gateway")
    )  # a variant
    rows.append((START + timedelta(hours=2), "api-gateway", "warn", "config reloaded"))  # inside the warm-up
    rows.sort(key=lambda r: r[0])
    pd.DataFrame(rows, columns=["timestamp", "service", "level", "message"]).to_parquet(
        tmp_path / "l.parquet", **US
    )

    spark = spark_session()
    try:
        got = first_seen_parquet(spark, str(tmp_path / "l.parquet"))
    finally:
        spark.stop()
    watcher = FirstSeenWatcher()
    want = [b for n, r in enumerate(rows) if (b := watcher.observe(str(n), LogLine(*r))) is not None]
    assert [(b.signal, b.detected_at, b.expected, b.note, b.routine) for b in got] == [
        (b.signal, b.detected_at, b.expected, b.note, b.routine) for b in want
    ]
    assert [(b.signal, b.routine) for b in want] == [
        ("log:bank-connector:template:<*> overdue bank=HANSDEFFXXX lag_s=<*>", False),
        ("log:api-gateway:template:upstream acs timeout after <*>", False),
        ("log:api-gateway:template:POST <*> <*> bad_gateway", True),
    ]


def _platform_logs() -> list[tuple[datetime, str, str, str, float, str | None]]:
    """Four days of a small platform's logs: steady warnings and payments in three services, an
    issuer outage (declines on one BIN, some lines logged in the same microsecond), a gateway 502
    spell, a warning never seen before and refunds logged a hundred times too small."""
    import random

    rng = random.Random(11)
    rows: list[tuple[datetime, str, str, str, float, str | None]] = []
    t = START
    k = 0
    while t < START + timedelta(days=4):
        t += timedelta(minutes=rng.expovariate(1 / 4))
        k += 1
        svc = rng.choice(["payments-core-1", "payments-core-2", "api-gateway", "refund-service"])
        if svc.startswith("payments"):
            if rng.random() < 0.3:
                rows.append(
                    (t, svc, "warn", f"auth declined txn=pay_{k:08x} bin=4{k % 7}1111 rc=05", np.nan, "05")
                )
            else:
                amount = round(10 ** rng.gauss(3.4, 0.3))
                rows.append(
                    (t, svc, "info", f"auth approved txn=pay_{k:08x} amount={amount} EUR", np.nan, None)
                )
        elif svc == "api-gateway":
            status = 429 if rng.random() < 0.2 else 200
            rows.append(
                (
                    t,
                    svc,
                    "warn" if status >= 400 else "info",
                    f"POST /v1/payments {status}",
                    float(status),
                    None,
                )
            )
        else:
            amount = round(10 ** rng.gauss(3.6, 0.3))
            rows.append(
                (t, svc, "info", f"Refund re_{k:08x} created amount={amount} currency=JPY", np.nan, None)
            )
    outage = START + timedelta(days=2, hours=14)
    for j in range(40):
        at = outage + timedelta(minutes=3 * j)
        for d in range(1 + (j % 5 == 0)):  # two replicas logging in the same microsecond
            rows.append(
                (at, f"payments-core-{d + 1}", "error",
                 f"auth failed txn=pay_o{j:04d}{d} bin=465901 rc=91 issuer=hanse unavailable", np.nan, "91")
            )  # fmt: skip
    spell = START + timedelta(days=3, hours=3)
    rows += [
        (spell + timedelta(seconds=50 * j), "api-gateway", "error", "POST /v1/refunds 502", 502.0, None)
        for j in range(30)
    ]
    rows.append(
        (
            START + timedelta(days=3, hours=9),
            "refund-service",
            "warn",
            "ledger lock wait exceeded lock_ms=9000",
            np.nan,
            None,
        )
    )
    shift = START + timedelta(days=3, hours=12)
    rows += [
        (shift + timedelta(minutes=9 * j), "refund-service", "info",
         f"Refund re_s{j:04d} created amount={40 + j} currency=JPY", np.nan, None)
        for j in range(12)
    ]  # fmt: skip
    rows.sort(key=lambda r: r[0])
    return rows


def test_spark_log_incidents_equal_the_streaming_detector(tmp_path: Path) -> None:
    """The minute-window log incidents on Spark (rate alerts run apart per group of signals over
    the whole volume, first-seen per service, amounts per field and currency, evidence gathered
    per alert span) are those of the in-process stream, evidence and all."""
    import pandas as pd

    from paytriage.engines.patterns.log_signals import LogLine, LogSignalDetector, service_name
    from paytriage.engines.patterns.spark import log_incidents_parquet, spark_session

    rows = _platform_logs()
    frame = pd.DataFrame(
        rows, columns=["timestamp", "service", "level", "message", "http_status", "error_code"]
    )
    frame["http_status"] = frame["http_status"].astype("Int64")
    frame.to_parquet(tmp_path / "logs.parquet", **US)
    lines = [
        LogLine(at, svc, lvl, msg, None if np.isnan(st) else int(st), code)
        for at, svc, lvl, msg, st, code in rows
    ]
    since: dict[str, datetime] = {}
    for line in lines:
        since.setdefault(service_name(line.service), line.timestamp)
    want = LogSignalDetector().detect(lines, service_since=since)

    spark = spark_session()
    try:
        got = log_incidents_parquet(spark, str(tmp_path / "logs.parquet"), buckets=3)
    finally:
        spark.stop()
    kinds = {a.signal.split(":")[2] for inc in want for a in inc.alerts}
    assert {"template", "status", "error", "value"} <= kinds, kinds
    assert any(a.note.startswith("first seen") for inc in want for a in inc.alerts)
    assert [(i.service, i.signals) for i in got] == [(i.service, i.signals) for i in want]
    assert got == want


def test_spark_log_incidents_of_quiet_logs_are_none(tmp_path: Path) -> None:
    """Only INFO lines, no amounts: no rate signal, no evidence to gather, no incident (no empty
    frame reaches Arrow, no empty broadcast fails)."""
    import pandas as pd

    from paytriage.engines.patterns.spark import log_incidents_parquet, spark_session

    rows = [(START + timedelta(minutes=5 * k), "ledger-1", "info", f"batch {k} closed") for k in range(50)]
    pd.DataFrame(rows, columns=["timestamp", "service", "level", "message"]).to_parquet(
        tmp_path / "q.parquet", **US
    )
    spark = spark_session()
    try:
        assert log_incidents_parquet(spark, str(tmp_path / "q.parquet")) == []
    finally:
        spark.stop()
