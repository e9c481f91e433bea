"""The grouping and detection jobs over Parquet on Apache Spark (PySpark), for data beyond one machine.

Detection distributes fully: Spark buckets events into hourly counts per signal and runs the same
:class:`EmergingIssueDetector` on each signal's series inside the executors (``applyInPandas``),
so results equal the in-process engine's. Raw log lines become events in the executors too (each
line's template, status, error-code and level signals, ``mapInPandas``). Amount shifts in log lines
(unit bugs) run there as well: lines naming amounts are read in the executors and each field and
currency (the unit a stream's baseline pool is kept in) is streamed through the same
:class:`ValueShiftDetector` inside one group.

Grouping is sequential by nature (a ticket joins the problems opened before it): Spark reads,
projects and time-sorts the tickets and streams them to the driver, where the same
:class:`ProblemGrouper` assigns them; Spark then writes the result.
PySpark is optional: import this module only when ``--engine spark`` is asked for.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from paytriage.domain.errors import ConfigurationError, InputError
from paytriage.engines.patterns.bursts import Burst
from paytriage.engines.patterns.detection import Alert, EmergingIssueDetector, hourly_counts
from paytriage.engines.patterns.features import TicketFeatures
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import FirstSeenWatcher
from paytriage.engines.patterns.value_shift import ValueShiftDetector

__all__ = [
    "detect_log_parquet",
    "detect_parquet",
    "first_seen_parquet",
    "group_parquet",
    "log_signal_events",
    "spark_available",
    "spark_session",
    "value_shifts_parquet",
]

_ALERT_SCHEMA = (
    "signal string, start timestamp, detected_at timestamp, window_hours int, observed long, "
    "expected double, ratio double, p_value double, score double, ended_at timestamp, "
    "peak_ratio double, component string"
)


def spark_available() -> bool:
    """True when PySpark imports and a ``java`` executable is on PATH."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


def spark_session(master: str = "local[2]") -> Any:
    """A local-mode session in UTC with Arrow on (small shuffles: this is not a cluster default)."""
    if not spark_available():
        raise ConfigurationError("--engine spark needs pyspark and Java: pip install pyspark pyarrow")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this venv's pandas

    return (
        SparkSession.builder.master(master)
        .appName("paytriage-patterns")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .getOrCreate()
    )


def _utc(value: Any) -> datetime:
    ts: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def detect_parquet(
    spark: Any,
    path: str,
    detector: EmergingIssueDetector,
    *,
    signal_col: str = "signal",
    time_col: str = "ts",
    component_col: str | None = None,
) -> list[Alert]:
    """Alerts for every signal in an events Parquet (one row per event), computed in executors."""
    from pyspark.sql import functions as sf

    df = spark.read.parquet(path)
    _require(df, path, {signal_col, time_col} | ({component_col} if component_col else set()))
    cols = [sf.col(signal_col).alias("signal"), sf.col(time_col).alias("ts")]
    cols.append(
        sf.col(component_col).alias("component") if component_col else sf.lit(None).alias("component")
    )
    return _detect(df.select(*cols), detector)


def log_signal_events(spark: Any, path: str, *, time_col: str = "timestamp") -> Any:
    """``(signal, ts)`` rows from a log-lines Parquet (``timestamp``, ``service``, ``level``,
    ``message``; optional ``http_status``, ``error_code``), one per rate signal a line feeds (see
    :func:`~paytriage.engines.patterns.log_signals.line_signals`), derived in the executors: the
    templates of billions of lines are never brought to the driver."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import functions as sf

    from paytriage.engines.patterns.log_signals import LogLine, line_signals

    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "level", "message"})
    names = set(df.columns)
    cols = [
        sf.col(time_col).alias("ts"),
        sf.col("service").cast("string").alias("service"),
        sf.col("level").cast("string").alias("level"),
        sf.col("message").cast("string").alias("message"),
        (sf.col("http_status") if "http_status" in names else sf.lit(None)).cast("int").alias("http_status"),
        (sf.col("error_code") if "error_code" in names else sf.lit(None)).cast("string").alias("error_code"),
    ]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            signals: list[str] = []
            times: list[Any] = []
            for ts, service, level, message, status, code in pdf.itertuples(index=False, name=None):
                line = LogLine(
                    ts, service or "", level or "", message or "",
                    None if pd.isna(status) else int(status), None if pd.isna(code) else str(code),
                )  # fmt: skip
                for name in line_signals(line):
                    signals.append(name)
                    times.append(ts)
            if signals:  # an empty frame's untyped columns fail Arrow's conversion
                yield pd.DataFrame({"signal": signals, "ts": pd.Series(times, dtype="datetime64[us, UTC]")})

    events = (
        df.select(*cols)
        .where(sf.col("ts").isNotNull())
        .mapInPandas(run, schema="signal string, ts timestamp")
    )
    return events.withColumn("component", sf.lit(None).cast("string"))


def detect_log_parquet(
    spark: Any, path: str, detector: EmergingIssueDetector, *, time_col: str = "timestamp"
) -> list[Alert]:
    """Alerts on the template, status, error-code and level rates of a log-lines Parquet."""
    return _detect(log_signal_events(spark, path, time_col=time_col), detector)


_SHIFT_SCHEMA = (
    "signal string, detected_at timestamp, window_hours double, observed long, expected double, "
    "p_value double, alpha double, note string, lines string"
)


def value_shifts_parquet(
    spark: Any, path: str, detector: ValueShiftDetector | None = None, *, time_col: str = "timestamp"
) -> list[Burst]:
    """Order-of-magnitude amount shifts in a log-lines Parquet (``timestamp``, ``service``,
    ``message``): the same alerts as feeding the lines to ``detector`` in time order in-process.
    A burst's ``ticket_ids`` are the off lines' ids, increasing in the file's read order (row
    numbers when the file is read as one partition)."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    from paytriage.engines.patterns.log_signals import service_name
    from paytriage.engines.patterns.value_shift import amount_readings

    detector = detector or ValueShiftDetector()
    params = {k: v for k, v in detector.__dict__.items() if not k.endswith("_")}
    keys = detector.keys
    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "message"})
    lines = _numbered_lines(df, time_col, ("service", "message"))

    def read(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            rows = [
                (f"{r.key}:{r.currency}", ts, service, message, line)
                for ts, service, message, line in pdf.itertuples(index=False, name=None)
                for r in amount_readings(message or "", None, keys)
            ]
            if rows:
                frame = pd.DataFrame(rows, columns=["pool", "ts", "service", "message", "line"])
                frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
                yield frame

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        det = ValueShiftDetector(**params)
        key, _, currency = str(pdf["pool"].iloc[0]).partition(":")
        out = []
        for ts, service, message, line in pdf.sort_values(["ts", "line"])[
            ["ts", "service", "message", "line"]
        ].itertuples(index=False, name=None):
            svc = service_name(service or "")
            mine = f"log:{svc}:value:{key}:{currency or '-'}:"
            for b in det.observe(str(line), _utc(ts), svc, message or "")[1]:
                if b.signal.startswith(mine):  # the line's other fields are another group's
                    out.append((b.signal, b.detected_at, b.window_hours, b.observed, b.expected,
                                b.p_value, b.alpha, b.note, " ".join(b.ticket_ids)))  # fmt: skip
        frame = pd.DataFrame(out, columns=[c.split()[0] for c in _SHIFT_SCHEMA.split(", ")])
        frame["detected_at"] = pd.to_datetime(frame["detected_at"], utc=True)
        return frame

    readings = lines.mapInPandas(
        read, schema="pool string, ts timestamp, service string, message string, line long"
    )
    rows = readings.groupBy("pool").applyInPandas(run, schema=_SHIFT_SCHEMA).collect()
    shifts = [
        Burst(
            r["signal"],
            _utc(r["detected_at"]),
            r["window_hours"],
            r["observed"],
            r["expected"],
            r["p_value"],
            tuple(r["lines"].split()),
            r["alpha"],
            r["note"],
        )
        for r in rows
    ]
    return sorted(shifts, key=lambda b: (b.detected_at, b.signal))


_FIRST_SCHEMA = (
    "signal string, detected_at timestamp, expected double, note string, line long, routine boolean"
)


def first_seen_parquet(
    spark: Any, path: str, watcher: FirstSeenWatcher | None = None, *, time_col: str = "timestamp"
) -> list[Burst]:
    """First-seen warning alerts in a log-lines Parquet (``timestamp``, ``service``, ``level``,
    ``message``): the same as feeding the lines to ``watcher`` in time order in-process. Each
    service's history starts at its first line at any level; its warning lines are then streamed
    through one watcher per service inside the executors. A burst's ``ticket_ids`` hold the line's
    id (increasing in read order)."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import functions as sf

    from paytriage.engines.patterns.log_signals import ALERT_LEVELS, LogLine, service_name

    watcher = watcher or FirstSeenWatcher()
    params = {k: v for k, v in watcher.__dict__.items() if not k.endswith("_")}
    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "level", "message"})
    lines = _numbered_lines(df, time_col, ("service", "level", "message"))

    def name(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            yield pdf.assign(svc=pdf["service"].fillna("").map(service_name))

    keyed = lines.mapInPandas(
        name, schema="ts timestamp, service string, level string, message string, line long, svc string"
    )
    since = {
        r["svc"]: _utc(r["since"]) for r in keyed.groupBy("svc").agg(sf.min("ts").alias("since")).collect()
    }

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        w = FirstSeenWatcher(**{**params, "since": since})
        out = []
        for ts, service, level, message, line in pdf.sort_values(["ts", "line"])[
            ["ts", "service", "level", "message", "line"]
        ].itertuples(index=False, name=None):
            b = w.observe(str(line), LogLine(_utc(ts), service or "", level or "", message or ""))
            if b is not None:
                out.append((b.signal, b.detected_at, b.expected, b.note, line, b.routine))
        frame = pd.DataFrame(out, columns=[c.split()[0] for c in _FIRST_SCHEMA.split(", ")])
        frame["detected_at"] = pd.to_datetime(frame["detected_at"], utc=True)
        return frame

    warnings = keyed.where(sf.lower(sf.col("level")).isin(sorted(ALERT_LEVELS)))
    rows = warnings.groupBy("svc").applyInPandas(run, schema=_FIRST_SCHEMA).collect()
    alerts = [
        Burst(
            r["signal"],
            _utc(r["detected_at"]),
            1.0,
            1,
            r["expected"],
            r["expected"],
            (str(r["line"]),),
            None,
            r["note"],
            bool(r["routine"]),
        )
        for r in rows
    ]
    return sorted(alerts, key=lambda b: (b.detected_at, b.signal))


def _numbered_lines(df: Any, time_col: str, columns: tuple[str, ...]) -> Any:
    """``ts`` and the text ``columns`` of the timed rows, each with a ``line`` id increasing in read
    order (the tie-break that keeps equal timestamps in file order, as in-process)."""
    from pyspark.sql import functions as sf

    cols = [sf.col(time_col).alias("ts"), *(sf.col(c).cast("string").alias(c) for c in columns)]
    return (
        df.select(*cols).where(sf.col("ts").isNotNull()).withColumn("line", sf.monotonically_increasing_id())
    )


def _require(df: Any, path: str, columns: set[str]) -> None:
    missing = sorted(columns - set(df.columns))
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}", field=missing[0])


def _detect(events: Any, detector: EmergingIssueDetector) -> list[Alert]:
    """Hourly counts per signal and the detector on each signal's series, inside the executors."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import functions as sf

    bounds = events.agg(sf.min("ts").alias("lo"), sf.max("ts").alias("hi")).collect()[0]
    if bounds["lo"] is None:
        return []
    lo, hi = _utc(bounds["lo"]), _utc(bounds["hi"])
    params = detector.__dict__.copy()

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        det = EmergingIssueDetector(**params)
        signal = str(pdf["signal"].iloc[0])
        comp = pdf["component"].dropna()
        comps = {signal: str(comp.iloc[0])} if len(comp) else None
        times = [_utc(t) for t in pd.to_datetime(pdf["ts"], utc=True)]
        series = hourly_counts(((signal, t) for t in times), start=lo, end=hi, components=comps)
        rows = [asdict(a) for s in series for a in det.detect(s)]
        frame = pd.DataFrame(rows, columns=[c.split()[0] for c in _ALERT_SCHEMA.split(", ")])
        for c in ("start", "detected_at", "ended_at"):
            frame[c] = pd.to_datetime(frame[c], utc=True)
        return frame

    out = events.groupBy("signal").applyInPandas(run, schema=_ALERT_SCHEMA).collect()
    alerts = [
        Alert(
            **{
                **r.asDict(),
                "start": _utc(r["start"]),
                "detected_at": _utc(r["detected_at"]),
                "ended_at": None if r["ended_at"] is None else _utc(r["ended_at"]),
            }
        )
        for r in out
    ]
    return sorted(alerts, key=lambda a: (a.detected_at, a.signal))


def _features(rows: Iterator[Any]) -> Iterator[TicketFeatures]:
    for r in rows:
        yield TicketFeatures(
            ticket_id=str(r["ticket_id"]),
            text=r["text"] or "",
            created_at=_utc(r["created_at"]),
            keys=frozenset(r["keys"] or ()),
            customer_id=r["customer_id"],
            merchant_id=r["merchant_id"],
        )


def group_parquet(
    spark: Any, path: str, grouper: ProblemGrouper, *, out: str | None = None
) -> dict[str, int]:
    """Group a tickets Parquet (``ticket_id, text, created_at`` and optional ``keys`` array,
    ``customer_id``, ``merchant_id``); returns ticket → problem and writes it to ``out``."""
    from pyspark.sql import functions as sf

    df = spark.read.parquet(path)
    names = set(df.columns)
    cols = [
        sf.col("ticket_id").cast("string").alias("ticket_id"),
        sf.col("text"),
        sf.col("created_at"),
        sf.col("keys") if "keys" in names else sf.array().cast("array<string>").alias("keys"),
        sf.col("customer_id") if "customer_id" in names else sf.lit(None).cast("string").alias("customer_id"),
        sf.col("merchant_id") if "merchant_id" in names else sf.lit(None).cast("string").alias("merchant_id"),
    ]
    ordered = df.select(*cols).orderBy("created_at", "ticket_id")
    grouper.reset()
    for t in _features(ordered.toLocalIterator()):
        grouper.add(t)
    result = dict(grouper.assignments_)
    if out is not None:
        rows = sorted(result.items())
        spark.createDataFrame(rows, "ticket_id string, problem_id long").write.mode("overwrite").parquet(out)
    return result
