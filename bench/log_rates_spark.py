"""Log-line rate alerts at scale: the Spark job against the in-process path on the same lines.

    .venv/bin/python bench/log_rates_spark.py /tmp/g/sb7 /tmp/g/sb11 ... [--copies 4]

Each sandbox's log files are ingested into a temporary SQLite database (the product's parsers:
plain text, key=value, JSON, multi-line stack traces) and read back as log lines. The sandboxes
share one calendar, so together they are one bigger platform's month; ``--copies K`` repeats that
month K times, each copy 30 days after the previous one, for a longer input. The lines are written
once to Parquet (``timestamp, service, level, message, http_status, error_code``), then:

* **in-process**: ``line_signals`` per line, ``hourly_counts``, ``EmergingIssueDetector.detect_many``
  (what ``paytriage problems detect --input FILE --log-lines`` does after reading the file);
* **spark**: ``detect_log_parquet`` on a local[2] session (what ``--engine spark`` does), timed
  without the session start, which is reported apart.

Amount shifts (unit bugs) the same way: ``ValueShiftDetector`` streamed over the lines in time order
in-process against ``value_shifts_parquet`` (one Spark group per field and currency); and first-seen
warnings: ``FirstSeenWatcher`` in-process against ``first_seen_parquet`` (one watcher per service).

The minute-window log incidents the product links tickets to: ``LogSignalDetector.detect`` over the
lines in time order in-process against ``log_incidents_parquet`` (rate alerts per group of signals
over the broadcast volume, first-seen, amounts, then each alert's evidence gathered in the
executors); compared on their alerts and on their evidence (identifiers, words, values and when
each alert's lines first named them).

Printed as JSON: lines, alerts of each path and whether they are the same, wall seconds, lines per
second, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain.clock import ensure_utc
from paytriage.engines.patterns.detection import EmergingIssueDetector, hourly_counts
from paytriage.engines.patterns.log_signals import (
    FirstSeenWatcher,
    LogLine,
    LogSignalDetector,
    line_signals,
    service_name,
)
from paytriage.engines.patterns.value_shift import ValueShiftDetector
from paytriage.services.ingest import IngestKind, ingest_file

COLUMNS = ["timestamp", "service", "level", "message", "http_status", "error_code"]


def _frame(sandbox: Path, workdir: Path) -> pd.DataFrame:
    db = Database(f"sqlite:///{workdir / (sandbox.name + '.db')}")
    db.migrate()
    for path in sorted((sandbox / "logs").iterdir()):
        ingest_file(db, path, IngestKind.LOGS)
    with db.session() as s:
        rows = s.execute(
            select(LogEventRow.timestamp, LogEventRow.service, LogEventRow.source, LogEventRow.level,
                   LogEventRow.message, LogEventRow.http_status, LogEventRow.error_code)
        ).all()  # fmt: skip
    db.dispose()
    return pd.DataFrame(
        [(ensure_utc(r[0]), r[1] or r[2], str(r[3]), r[4], r[5], r[6]) for r in rows], columns=COLUMNS
    )


def _inprocess(frame: pd.DataFrame, detector: EmergingIssueDetector) -> list[Any]:
    events = []
    for ts, service, level, message, status, code in frame.itertuples(index=False, name=None):
        line = LogLine(ts, service, level, message, None if pd.isna(status) else int(status),
                       None if code is None or pd.isna(code) else code)  # fmt: skip
        events += [(s, ts) for s in line_signals(line)]
    return detector.detect_many(hourly_counts(events))


def _inprocess_values(frame: pd.DataFrame) -> list[Any]:
    watcher = ValueShiftDetector()
    rows = frame[["timestamp", "service", "message"]].itertuples(index=False, name=None)
    return [
        b
        for n, (ts, svc, msg) in enumerate(rows)
        for b in watcher.observe(str(n), ts, service_name(svc), msg)[1]
    ]


def _inprocess_first_seen(frame: pd.DataFrame) -> list[Any]:
    watcher = FirstSeenWatcher()
    rows = frame[["timestamp", "service", "level", "message"]].itertuples(index=False, name=None)
    found = (
        watcher.observe(str(n), LogLine(ts, svc, level, msg)) for n, (ts, svc, level, msg) in enumerate(rows)
    )
    return [b for b in found if b is not None]


def _inprocess_incidents(frame: pd.DataFrame) -> list[Any]:
    lines = []
    for ts, svc, level, msg, status, code in frame.itertuples(index=False, name=None):
        st = None if pd.isna(status) else int(status)
        lines.append(LogLine(ts, svc, level, msg, st, None if code is None or pd.isna(code) else code))
    return LogSignalDetector().detect(lines)


def _alerts_key(incidents: list[Any]) -> list[Any]:
    """Alerts without their line ids (read positions on Spark, row numbers in-process)."""
    return [(i.service, [(a.signal, a.detected_at, a.window_hours, a.observed, a.expected, a.p_value, a.note)
                         for a in i.alerts]) for i in incidents]  # fmt: skip


def _evidence_key(incidents: list[Any]) -> list[Any]:
    return [(i.ids, i.words, i.values, i.alert_tokens) for i in incidents]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sandboxes", nargs="+", type=Path)
    ap.add_argument("--copies", type=int, default=1, help="repeat the month this many times (default 1)")
    args = ap.parse_args(argv)

    from paytriage.engines.patterns.spark import (
        detect_log_parquet,
        first_seen_parquet,
        log_incidents_parquet,
        spark_session,
        value_shifts_parquet,
    )

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        month = pd.concat([_frame(s, work) for s in args.sandboxes], ignore_index=True)
        frame = pd.concat(
            [month.assign(timestamp=month["timestamp"] + timedelta(days=30 * k)) for k in range(args.copies)],
            ignore_index=True,
        ).sort_values("timestamp", kind="stable")
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frame = frame.astype({"http_status": "Int64"})
        parquet = work / "logs.parquet"
        frame.to_parquet(parquet, coerce_timestamps="us", allow_truncated_timestamps=True)
        prepare_s = time.perf_counter() - t0

        detector = EmergingIssueDetector()
        t0 = time.perf_counter()
        local = _inprocess(frame, detector)
        local_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        local_values = _inprocess_values(frame)
        local_values_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        local_first = _inprocess_first_seen(frame)
        local_first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        local_incidents = _inprocess_incidents(frame)
        local_incidents_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        spark = spark_session()
        start_s = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            distributed = detect_log_parquet(spark, str(parquet), detector)
            spark_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            spark_values = value_shifts_parquet(spark, str(parquet))
            spark_values_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            spark_first = first_seen_parquet(spark, str(parquet))
            spark_first_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            spark_incidents = log_incidents_parquet(spark, str(parquet))
            spark_incidents_s = time.perf_counter() - t0
        finally:
            spark.stop()

    def key(alerts: list[Any]) -> list[tuple[str, str, int]]:
        return [(a.signal, a.start.isoformat(), a.observed) for a in alerts]

    n = len(frame)
    print(json.dumps({
        "sandboxes": [s.name for s in args.sandboxes],
        "copies": args.copies,
        "lines": n,
        "days": round((frame["timestamp"].max() - frame["timestamp"].min()).total_seconds() / 86400, 1),
        "prepare_seconds": round(prepare_s, 1),
        "inprocess": {"alerts": len(local), "seconds": round(local_s, 2), "lines_per_s": round(n / local_s)},
        "spark_local2": {"alerts": len(distributed), "seconds": round(spark_s, 2),
                         "lines_per_s": round(n / spark_s), "session_start_seconds": round(start_s, 1)},
        "same_alerts": key(local) == key(distributed),
        "spark_over_inprocess_time": round(spark_s / local_s, 2),
        "value_shifts": {
            "inprocess": {"alerts": len(local_values), "seconds": round(local_values_s, 2)},
            "spark_local2": {"alerts": len(spark_values), "seconds": round(spark_values_s, 2)},
            "same_alerts": [(b.signal, b.detected_at, b.p_value) for b in local_values]
            == [(b.signal, b.detected_at, b.p_value) for b in spark_values],
            "spark_over_inprocess_time": round(spark_values_s / local_values_s, 2),
        },
        "first_seen": {
            "inprocess": {"alerts": len(local_first), "seconds": round(local_first_s, 2)},
            "spark_local2": {"alerts": len(spark_first), "seconds": round(spark_first_s, 2)},
            "same_alerts": [(b.signal, b.detected_at) for b in local_first]
            == [(b.signal, b.detected_at) for b in spark_first],
            "spark_over_inprocess_time": round(spark_first_s / local_first_s, 2),
        },
        "log_incidents": {
            "inprocess": {"incidents": len(local_incidents),
                          "alerts": sum(len(i.alerts) for i in local_incidents),
                          "seconds": round(local_incidents_s, 2)},
            "spark_local2": {"incidents": len(spark_incidents),
                             "alerts": sum(len(i.alerts) for i in spark_incidents),
                             "seconds": round(spark_incidents_s, 2)},
            "same_alerts": _alerts_key(local_incidents) == _alerts_key(spark_incidents),
            "same_evidence": _evidence_key(local_incidents) == _evidence_key(spark_incidents),
            "spark_over_inprocess_time": round(spark_incidents_s / local_incidents_s, 2),
        },
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
