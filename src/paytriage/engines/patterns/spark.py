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
from paytriage.engines.patterns.bursts import Burst, epoch_us, from_epoch_us
from paytriage.engines.patterns.detection import Alert, EmergingIssueDetector, hourly_counts
from paytriage.engines.patterns.features import TicketFeatures
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import FirstSeenWatcher, LogIncident, LogLine, LogSignalDetector
from paytriage.engines.patterns.systemic import SystemicTracker
from paytriage.engines.patterns.value_shift import ValueShiftDetector

__all__ = [
    "detect_log_parquet",
    "detect_parquet",
    "first_seen_parquet",
    "group_parquet",
    "log_incidents_parquet",
    "log_signal_events",
    "spark_available",
    "spark_session",
    "systemic_parquet",
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


#: a burst as a row (``detected_at`` in µs since the epoch: exact, whatever the session time zone)
_BURST_SCHEMA = (
    "kind string, signal string, detected_at long, window_hours double, observed long, expected double, "
    "p_value double, alpha double, note string, lines string"
)
_BURST_COLUMNS = [c.split()[0] for c in _BURST_SCHEMA.split(", ")]


def _burst_row(b: Burst, kind: str) -> tuple[Any, ...]:
    return (kind, b.signal, epoch_us(b.detected_at), float(b.window_hours), b.observed, b.expected, b.p_value,
            b.alpha, b.note, " ".join(b.ticket_ids))  # fmt: skip


def _burst(r: Any) -> Burst:
    return Burst(
        r["signal"],
        from_epoch_us(r["detected_at"]),
        r["window_hours"],
        r["observed"],
        r["expected"],
        r["p_value"],
        tuple(r["lines"].split()),
        r["alpha"],
        r["note"],
    )


def _params(model: object) -> dict[str, Any]:
    """A model's constructor parameters (scikit-learn style: state ends or starts with ``_``)."""
    return {k: v for k, v in vars(model).items() if not k.endswith("_") and not k.startswith("_")}


def value_shifts_parquet(
    spark: Any, path: str, detector: ValueShiftDetector | None = None, *, time_col: str = "timestamp"
) -> list[Burst]:
    """Order-of-magnitude amount shifts in a log-lines Parquet (``timestamp``, ``service``,
    ``message``): the same alerts as feeding the lines to ``detector`` in time order in-process.
    A burst's ``ticket_ids`` are the off lines' ids, increasing in the file's read order (row
    numbers when the file is read as one partition)."""

    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "message"})
    lines = _numbered_lines(df, time_col, ("service", "message"))
    rows = _value_rows(lines, detector or ValueShiftDetector()).where("kind = 'alert'").collect()
    return sorted(map(_burst, rows), key=lambda b: (b.detected_at, b.signal))


def _value_rows(lines: Any, detector: ValueShiftDetector) -> Any:
    """Per field and currency, in the executors: the alerts (``kind`` 'alert') and each line whose
    own amount is already off its stream's baseline (``kind`` 'off': evidence for that stream)."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    from paytriage.engines.patterns.log_signals import service_name
    from paytriage.engines.patterns.value_shift import amount_readings

    params = _params(detector)
    keys = detector.keys

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
            at = _utc(ts)
            off, alerts = det.observe(str(line), at, svc, message or "")
            out += [
                ("off", s, epoch_us(at), 0.0, 0, 0.0, 0.0, None, "", str(line))
                for s in off
                if s.startswith(mine)
            ]
            out += [_burst_row(b, "alert") for b in alerts if b.signal.startswith(mine)]
        return pd.DataFrame(out, columns=_BURST_COLUMNS)

    readings = lines.select("ts", "service", "message", "line").mapInPandas(
        read, schema="pool string, ts timestamp, service string, message string, line long"
    )
    return readings.groupBy("pool").applyInPandas(run, schema=_BURST_SCHEMA)


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
    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "level", "message"})
    lines = _numbered_lines(df, time_col, ("service", "level", "message"))
    return _first_seen(lines, watcher or FirstSeenWatcher())


def _first_seen(lines: Any, watcher: FirstSeenWatcher) -> list[Burst]:
    """First-seen alerts over a numbered-lines frame (``ts``, ``service``, ``level``, ``message``,
    ``line``), one watcher per service in the executors."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import functions as sf

    from paytriage.engines.patterns.log_signals import ALERT_LEVELS, LogLine, service_name

    params = _params(watcher)

    def name(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            yield pdf.assign(svc=pdf["service"].fillna("").map(service_name))

    keyed = lines.select("ts", "service", "level", "message", "line").mapInPandas(
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


def _features(rows: Iterator[Any]) -> Iterator[tuple[TicketFeatures, str | None]]:
    for r in rows:
        feats = TicketFeatures(
            ticket_id=str(r["ticket_id"]),
            text=r["text"] or "",
            created_at=_utc(r["created_at"]),
            keys=frozenset(r["keys"] or ()),
            customer_id=r["customer_id"],
            merchant_id=r["merchant_id"],
            transaction_ids=tuple(r["transaction_ids"] or ()),
        )
        yield feats, r["category"]


def _ordered_tickets(
    spark: Any, path: str, intents: Any | None = None
) -> Iterator[tuple[TicketFeatures, str | None]]:
    """A tickets Parquet (``ticket_id, text, created_at``; optional ``keys`` and
    ``transaction_ids`` arrays, ``customer_id``, ``merchant_id``, ``category``) projected and
    time-sorted by Spark, streamed to the driver in order. ``intents`` (a fitted text clusterer,
    broadcast) adds each ticket's ``intent:<group>`` key, predicted in the executors."""
    from pyspark.sql import functions as sf

    df = spark.read.parquet(path)
    _require(df, path, {"ticket_id", "text", "created_at"})
    if intents is not None:
        df = _with_intents(spark, df, intents)
    names = set(df.columns)

    def optional(name: str, kind: str = "string") -> Any:
        if name in names:
            return sf.col(name).cast(kind).alias(name)
        return (sf.array() if kind.startswith("array") else sf.lit(None)).cast(kind).alias(name)

    cols = [
        sf.col("ticket_id").cast("string").alias("ticket_id"),
        sf.col("text"),
        sf.col("created_at"),
        optional("keys", "array<string>"),
        optional("transaction_ids", "array<string>"),
        optional("customer_id"),
        optional("merchant_id"),
        optional("category"),
    ]
    ordered = df.select(*cols).where(sf.col("created_at").isNotNull()).orderBy("created_at", "ticket_id")
    return _features(ordered.toLocalIterator())


def _with_intents(spark: Any, df: Any, clusterer: Any) -> Any:
    """``df`` with each ticket's intent group (``clusterer.predict`` in the executors, batch by
    batch) appended to its ``keys`` array, as :func:`~paytriage.engines.patterns.features.with_intents`
    does in-process."""
    import pandas as pd
    from pyspark.sql import functions as sf

    shared = spark.sparkContext.broadcast(clusterer)

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = shared.value
        for batch in batches:
            texts = batch["text"].fillna("").astype(str).tolist()
            groups = model.predict(texts) if texts else []
            yield pd.DataFrame({"_row": batch["_row"], "_intent": [f"intent:{int(g)}" for g in groups]})

    keyed = df.withColumn("_row", sf.monotonically_increasing_id())
    found = keyed.select("_row", "text").mapInPandas(predict, schema="_row long, _intent string")
    keys = sf.col("keys").cast("array<string>") if "keys" in df.columns else sf.array().cast("array<string>")
    joined = keyed.join(found, "_row")
    return joined.withColumn("keys", sf.array_union(sf.coalesce(keys, sf.array()), sf.array("_intent"))).drop(
        "_row", "_intent"
    )


def group_parquet(
    spark: Any, path: str, grouper: ProblemGrouper, *, out: str | None = None, intents: Any | None = None
) -> dict[str, int]:
    """Group a tickets Parquet (``ticket_id, text, created_at`` and optional ``keys`` array,
    ``customer_id``, ``merchant_id``); returns ticket → problem and writes it to ``out``.
    ``intents``: a fitted text clusterer whose groups become keys (see :func:`_with_intents`)."""
    grouper.reset()
    for t, _category in _ordered_tickets(spark, path, intents):
        grouper.add(t)
    result = dict(grouper.assignments_)
    if out is not None:
        rows = sorted(result.items())
        spark.createDataFrame(rows, "ticket_id string, problem_id long").write.mode("overwrite").parquet(out)
    return result


def systemic_parquet(
    spark: Any,
    path: str,
    tracker: SystemicTracker,
    *,
    logs: str | None = None,
    log_detector: LogSignalDetector | None = None,
    time_col: str = "timestamp",
    intents: Any | None = None,
) -> SystemicTracker:
    """Systemic problems in a tickets Parquet (see :func:`group_parquet`; a ``category`` column adds
    category signals), corroborated by the log incidents of a log-lines Parquet (``logs``, found in
    the executors by :func:`log_incidents_parquet`). The tracker is sequential, like grouping: Spark
    sorts the tickets and streams them to it on the driver. Returns ``tracker``, fitted."""
    tracker.reset()
    if logs is not None:
        tracker.use_logs(log_incidents_parquet(spark, logs, log_detector, time_col=time_col))
    for t, category in _ordered_tickets(spark, path, intents):
        tracker.add(t, category=category)
    return tracker


def log_incidents_parquet(
    spark: Any,
    path: str,
    detector: LogSignalDetector | None = None,
    *,
    time_col: str = "timestamp",
    buckets: int | None = None,
) -> list[LogIncident]:
    """The log incidents :meth:`LogSignalDetector.detect` finds in a log-lines Parquet
    (``timestamp``, ``service``, ``level``, ``message``; optional ``http_status``, ``error_code``),
    its minute-window rate alerts included, with the evidence of their lines.

    The rate test of one signal needs only its own lines and the total volume of signal lines, so
    the executors run it for groups of signals (``buckets``, hashed), each detector seeing the whole
    volume (:meth:`KeyBurstDetector.use_volume`: one array of times, broadcast). First-seen warnings
    run per service, amount shifts per field and currency. The driver merges the alerts into
    incidents, then the executors gather the lines inside each alert's evidence span, keeping per
    alert only lines that add a token until ``max_ids`` (the rest would add nothing). A line's id
    is its read position (``ticket_ids``); services start their history at their first line. One
    difference from in-process: an amount alert's lines are all evidence, where the in-process
    stream keeps only the latest ``max_ids`` lines naming amounts to bound its memory. What the driver
    holds: one 8-byte time per line that feeds a rate signal (warnings, errors, HTTP errors: 80 MB for
    ten million), the alerts and their trimmed evidence."""
    import numpy as np
    from pyspark.sql import functions as sf

    det = detector or LogSignalDetector()
    df = spark.read.parquet(path)
    _require(df, path, {time_col, "service", "level", "message"})
    names = set(df.columns)
    lines = (
        df.select(
            sf.col(time_col).alias("ts"),
            sf.col("service").cast("string").alias("service"),
            sf.col("level").cast("string").alias("level"),
            sf.col("message").cast("string").alias("message"),
            (sf.col("http_status") if "http_status" in names else sf.lit(None))
            .cast("int")
            .alias("http_status"),
            (sf.col("error_code") if "error_code" in names else sf.lit(None))
            .cast("string")
            .alias("error_code"),
        )
        .where(sf.col("ts").isNotNull())
        .withColumn("line", sf.monotonically_increasing_id())
        .withColumn("us", sf.unix_micros("ts"))
        .persist()
    )
    kept = [lines]
    try:
        signals = lines.select("us", "line", "service", "level", "message", "http_status", "error_code")
        signals = signals.mapInPandas(_line_signal_rows, schema="us long, line long, signals array<string>")
        kept.append(signals.persist())
        volume = np.sort(signals.select("us").toPandas()["us"].to_numpy(dtype=np.int64))
        parts = buckets or 4 * int(spark.sparkContext.defaultParallelism)
        bursts = _rate_bursts(spark, signals, volume, _params(det.rate_detector()), parts)
        bursts += _first_seen(lines, det.first_seen_watcher())
        watcher = det.value_detector()
        off = None
        if watcher is not None:
            values = _value_rows(lines, watcher)
            kept.append(values.persist())
            bursts += [_burst(r) for r in values.where("kind = 'alert'").collect()]
            off = values.where("kind = 'off'").select(
                "signal", sf.col("detected_at").alias("us"), sf.col("lines").cast("long").alias("line")
            )
        evidence = _evidence(spark, det, bursts, lines, signals, off)
    finally:
        for frame in kept:
            frame.unpersist()
    return det.incidents(bursts, evidence)


def _line_signal_rows(batches: Iterator[Any]) -> Iterator[Any]:
    """``(us, line, signals)`` of the lines that feed at least one rate signal."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    from paytriage.engines.patterns.log_signals import line_signals

    for pdf in batches:
        out: list[tuple[int, int, list[str]]] = []
        for us, line, service, level, message, status, code in pdf.itertuples(index=False, name=None):
            sigs = line_signals(_log_line(us, service, level, message, status, code))
            if sigs:
                out.append((int(us), int(line), sigs))
        if out:
            yield pd.DataFrame(out, columns=["us", "line", "signals"])


def _log_line(us: Any, service: Any, level: Any, message: Any, status: Any, code: Any) -> LogLine:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    return LogLine(
        from_epoch_us(int(us)), service or "", level or "", message or "",
        None if pd.isna(status) else int(status), None if code is None or pd.isna(code) else str(code),
    )  # fmt: skip


def _rate_bursts(spark: Any, signals: Any, volume: Any, params: dict[str, Any], buckets: int) -> list[Burst]:
    """Minute-window rate alerts: signals hashed into ``buckets`` groups, each group's lines fed in
    order to one :class:`KeyBurstDetector` over the whole (broadcast) volume of signal lines."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    from paytriage.engines.patterns.bursts import KeyBurstDetector

    shared = spark.sparkContext.broadcast(volume)
    tie = sf.row_number().over(Window.partitionBy("us").orderBy("line")) - 1  # lines logged in one µs
    rows = (
        signals.withColumn("tie", tie)
        .select("us", "line", "tie", sf.explode("signals").alias("signal"))
        .withColumn("bucket", sf.pmod(sf.hash("signal"), sf.lit(buckets)))
    )

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        arr = shared.value
        kd = KeyBurstDetector(**params).use_volume(arr)
        pos = np.searchsorted(arr, pdf["us"].to_numpy(dtype=np.int64)) + pdf["tie"].to_numpy(dtype=np.int64)
        pdf = pdf.assign(k=pos).sort_values(["k", "signal"])
        ks, us, ln, sg = (
            pdf["k"].to_numpy(),
            pdf["us"].to_numpy(),
            pdf["line"].to_numpy(),
            pdf["signal"].tolist(),
        )
        out = []
        i = 0
        while i < len(ks):
            j = i + 1
            while j < len(ks) and ks[j] == ks[i]:
                j += 1
            when = from_epoch_us(int(us[i]))
            out += [
                _burst_row(b, "alert") for b in kd.observe(str(int(ln[i])), when, sg[i:j], index=int(ks[i]))
            ]
            i = j
        return pd.DataFrame(out, columns=_BURST_COLUMNS)

    try:
        return [_burst(r) for r in rows.groupBy("bucket").applyInPandas(run, schema=_BURST_SCHEMA).collect()]
    finally:
        shared.unpersist()


_EVIDENCE_SCHEMA = (
    "signal string, us long, line long, ids array<string>, words array<string>, vals array<string>"
)


def _evidence(
    spark: Any, det: LogSignalDetector, bursts: list[Burst], lines: Any, signals: Any, off: Any
) -> dict[str, list[tuple[datetime, set[str], set[str], set[str]]]]:
    """Per alerted signal, in time order, the evidence of the lines inside its alerts' spans that
    can add to it (see :func:`log_incidents_parquet`)."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import functions as sf

    from paytriage.engines.patterns.concepts import load_concepts
    from paytriage.engines.patterns.log_signals import ALERT_LEVELS, line_evidence, log_template

    windows = det.evidence_windows(bursts)
    if not windows:
        return {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for signal, lo, hi in windows:
        spans.setdefault(signal, []).append((epoch_us(lo), epoch_us(hi)))
    win = spark.createDataFrame(
        [(s, lo, hi) for s, v in spans.items() for lo, hi in v], "signal string, lo long, hi long"
    )
    found = signals.select("us", "line", sf.explode("signals").alias("signal"))
    if off is not None:
        found = found.unionByName(off)
    named = [(b.signal, int(t)) for b in bursts if ":value:" in b.signal for t in b.ticket_ids]
    if named:  # an amount alert's own lines, some logged before its stream had a baseline
        own = spark.createDataFrame(named, "signal string, line long").join(
            lines.select("line", "us"), "line"
        )
        found = found.unionByName(own.select("signal", "us", "line"))
    hits = (
        found.join(sf.broadcast(win), "signal")
        .where((sf.col("us") >= sf.col("lo")) & (sf.col("us") <= sf.col("hi")))
        .select("signal", "line")
        .distinct()
        .join(lines.select("line", "us", "service", "level", "message", "http_status", "error_code"), "line")
    )
    cap, concepts_given = det.max_ids, det.concepts

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        concepts = concepts_given if concepts_given is not None else load_concepts()
        signal = str(pdf["signal"].iloc[0])
        pdf = pdf.sort_values(["us", "line"])
        cache: dict[tuple[str, frozenset[str]], set[str]] = {}
        items = []
        for us, service, level, message, status, code in pdf[
            ["us", "service", "level", "message", "http_status", "error_code"]
        ].itertuples(index=False, name=None):
            line = _log_line(us, service, level, message, status, code)
            template = log_template(line.message) if line.level.lower() in ALERT_LEVELS else None
            items.append(line_evidence(line, template, concepts, cache))
        usv = pdf["us"].to_numpy()
        keep: set[int] = set()
        for lo, hi in spans[signal]:  # an item adding nothing an earlier one of the alert added
            ids: set[str] = set()  # cannot change the incident, nor can any once the cap is met
            words: set[str] = set()
            vals: set[str] = set()
            for i in range(len(items)):
                if not lo <= usv[i] <= hi:
                    continue
                if len(ids) + len(vals) >= cap:
                    break
                _t, f, w, v = items[i]
                if not (f <= ids and w <= words and v <= vals):
                    keep.add(i)
                    ids |= f
                    words |= w
                    vals |= v
        lns = pdf["line"].to_numpy()
        rows = [
            (signal, int(usv[i]), int(lns[i]), sorted(items[i][1]), sorted(items[i][2]), sorted(items[i][3]))
            for i in sorted(keep)
        ]
        return pd.DataFrame(rows, columns=["signal", "us", "line", "ids", "words", "vals"])

    out: dict[str, list[tuple[int, int, tuple[datetime, set[str], set[str], set[str]]]]] = {}
    for r in hits.groupBy("signal").applyInPandas(run, schema=_EVIDENCE_SCHEMA).collect():
        item = (from_epoch_us(r["us"]), set(r["ids"]), set(r["words"]), set(r["vals"]))
        out.setdefault(r["signal"], []).append((r["us"], r["line"], item))
    return {s: [x[2] for x in sorted(v, key=lambda x: (x[0], x[1]))] for s, v in out.items()}
