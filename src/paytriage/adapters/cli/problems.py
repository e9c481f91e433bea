"""`paytriage problems cluster|group|detect|list|show`: pattern recognition over files and the queue.

``cluster`` discovers intents in any text column; ``group`` groups ticket rows into problems;
``detect --input`` finds emerging issues in event rows or raw log lines (``--log-lines``) and the
impact of releases, while plain ``detect`` regroups the stored queue into problems (``--notify``
announces new and escalating ones); ``list``/``show`` read stored problems (``problems_db``).
``--engine spark`` runs ``group`` and ``detect --input`` through PySpark over Parquet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.config.settings import get_settings
from paytriage.domain.errors import PaytriageError

__all__ = ["cluster", "detect", "group", "register"]

problems_app = typer.Typer(
    help="Pattern recognition: intents, problems, emerging issues.", no_args_is_help=True
)


class Engine(StrEnum):
    INPROCESS = "inprocess"
    SPARK = "spark"


EngineOption = Annotated[
    Engine, typer.Option("--engine", help="inprocess (default) or spark (PySpark local mode, Parquet input).")
]
IntentsOption = Annotated[
    Path | None,
    typer.Option(
        "--intents",
        help="A clusterer saved by 'problems cluster --model' on past tickets: each ticket's intent group "
        "becomes a key, so a surge of one intent worded many ways bursts on its own.",
    ),
]


def register(app: typer.Typer) -> None:
    """Attach ``paytriage problems …`` to the root app."""
    from paytriage.adapters.cli import problems_db  # noqa: F401 - registers list, show

    app.add_typer(problems_app, name="problems")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    with Progress(
        TextColumn(label + " {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Records of a CSV/JSON/JSONL file, or of a Parquet file (line = row number + 1)."""
    if not path.is_file():
        fail(f"--input {path}: no such file")
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        return [(i + 2, r) for i, r in enumerate(pq.read_table(path).to_pylist())]
    from paytriage.adapters.connectors.files import read_records

    out = []
    for rec in read_records(path):
        if rec.error is not None or rec.data is None:
            fail(f"{path.name}: line {rec.line}: {rec.error}")
        out.append((rec.line, rec.data))
    return out


@problems_app.command("cluster")
def cluster(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="CSV or JSONL file with a text column.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="CSV to write: the input rows plus a cluster column.")
    ],
    text_column: Annotated[
        list[str] | None,
        typer.Option(
            "--text-column",
            help="Column holding the text (default: text); repeat to join several (subject, description).",
        ),
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=1, help="Number of clusters (default: estimated).")
    ] = None,
    features: Annotated[str, typer.Option(help="auto, tfidf, embeddings or hybrid.")] = "auto",
    algorithm: Annotated[str, typer.Option(help="auto, spectral, ward or kmeans.")] = "auto",
    summary: Annotated[
        Path | None, typer.Option(help="Side summary JSON (default: OUT with .summary.json).")
    ] = None,
    model_dir: Annotated[
        Path | None, typer.Option("--model", help="Also save the fitted clusterer here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Group the texts of INPUT without labels; write them back with a ``cluster`` column."""
    from paytriage.engines.classifier.dataset import read_table
    from paytriage.engines.patterns.intents import TextClusterer
    from paytriage.engines.patterns.intents_io import save_clusterer

    if features not in ("auto", "tfidf", "embeddings", "hybrid"):
        fail(f"--features {features!r}: use auto, tfidf, embeddings or hybrid", code=EXIT_USAGE)
    if algorithm not in ("auto", "spectral", "ward", "kmeans"):
        fail(f"--algorithm {algorithm!r}: use auto, spectral, ward or kmeans", code=EXIT_USAGE)
    if not input_path.is_file():
        fail(f"--input {input_path}: no such file")
    try:
        first, *more = text_column or ["text"]
        table = read_table(input_path, text_column=first, also=more)
        model = TextClusterer(k, features=features, algorithm=algorithm)  # type: ignore[arg-type]
        with _progress("clustering") as update:
            labels = model.fit(table.texts, progress=update).labels_
    except PaytriageError as exc:
        fail(str(exc))
    side = summary or out.with_suffix(".summary.json")
    sizes = [int((labels == c).sum()) for c in range(model.n_clusters_)]
    clusters: list[dict[str, Any]] = [
        {"cluster": c, "size": sizes[c], "top_terms": model.top_terms_[c]} for c in range(model.n_clusters_)
    ]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        names = [n for n in table.fieldnames if n != "cluster"] + ["cluster"]
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=names, extrasaction="ignore")
            writer.writeheader()
            for rec, label in zip(table.records, labels.tolist(), strict=True):
                writer.writerow({**rec, "cluster": label})
        doc = {
            "rows": len(table.texts),
            "n_clusters": model.n_clusters_,
            "features": model.features_used_,
            "algorithm": model.algorithm_used_,
            "k_scores": model.k_scores_,
            "clusters": clusters,
        }
        side.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        if model_dir is not None:
            save_clusterer(model, model_dir)
    except OSError as exc:
        fail(f"cannot write output: {exc}")
    result = {
        "rows": len(table.texts),
        "n_clusters": model.n_clusters_,
        "out": str(out),
        "summary": str(side),
    }
    if json_output:
        emit({**result, "clusters": clusters}, json_output=True)
    else:
        emit(result, json_output=False)
        top = sorted(clusters, key=lambda c: -int(c["size"]))[:15]
        emit([{**c, "top_terms": ", ".join(c["top_terms"][:6])} for c in top], json_output=False)


def _ticket_features(path: Path, text_col: str, time_col: str, id_col: str, key_cols: list[str]) -> list[Any]:
    from paytriage.adapters.connectors.rows import parse_timestamp
    from paytriage.engines.patterns.features import TicketFeatures, entity_keys

    out = []
    for line, row in _rows(path):
        if row.get(text_col) in (None, ""):
            raise PaytriageError(f"line {line}: field '{text_col}': is required")
        keys = entity_keys({c.split("=")[0]: row.get(c.split("=")[-1]) for c in key_cols})
        if isinstance(row.get("keys"), list):
            keys |= frozenset(str(k) for k in row["keys"])
        out.append(
            TicketFeatures(
                ticket_id=str(row.get(id_col) or line),
                text=str(row[text_col]),
                created_at=parse_timestamp(row.get(time_col), field=time_col, line=line),
                keys=keys,
                customer_id=row.get("customer_id"),
                merchant_id=row.get("merchant_id"),
            )
        )
    return out


@problems_app.command("group")
def group(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="Tickets: CSV, JSONL or Parquet.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="CSV of ticket_id, problem_id, is_new, score, why.")
    ],
    text_column: Annotated[str, typer.Option("--text-column")] = "text",
    time_column: Annotated[str, typer.Option("--time-column")] = "created_at",
    id_column: Annotated[str, typer.Option("--id-column")] = "ticket_id",
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Entity column as KIND=COLUMN (kinds: error, bin, plugin, endpoint, bank, processor, "
            "country, merchant); repeatable. A 'keys' list column is used as is.",
        ),
    ] = None,
    systemic: Annotated[
        bool,
        typer.Option(
            "--systemic",
            help="Also tell which problems are systemic: tickets sharing a key (or a category, from a "
            "'category' column) arriving far faster than its baseline; adds a 'systemic' column.",
        ),
    ] = False,
    logs: Annotated[
        Path | None,
        typer.Option(
            "--logs",
            help="Log lines (timestamp, service, level, message; optional http_status, error_code) whose "
            "incidents corroborate the tickets and time the problems they explain; implies --systemic.",
        ),
    ] = None,
    intents: IntentsOption = None,
    engine: EngineOption = Engine.INPROCESS,
    json_output: JsonOption = False,
) -> None:
    """Group tickets into problems; print the largest problems with their evidence."""
    from paytriage.engines.patterns.features import with_intents
    from paytriage.engines.patterns.grouping import ProblemGrouper
    from paytriage.engines.patterns.systemic import SystemicTracker

    for option, given in (("--input", input_path), ("--logs", logs), ("--intents", intents)):
        if given is not None and not given.exists():
            fail(f"{option} {given}: no such file or folder", code=EXIT_USAGE)
    clusterer = None if intents is None else load_intents(intents)
    grouper = ProblemGrouper()
    tracker = SystemicTracker(grouper=grouper) if systemic or logs is not None else None
    rows: list[dict[str, Any]] = []
    try:
        if engine == Engine.SPARK:
            from paytriage.engines.patterns.spark import group_parquet, spark_session, systemic_parquet

            spark = spark_session()
            if tracker is not None:
                systemic_parquet(spark, str(input_path), tracker, logs=None if logs is None else str(logs),
                                 intents=clusterer)  # fmt: skip
                assigned = dict(grouper.assignments_)
            else:
                assigned = group_parquet(spark, str(input_path), grouper, intents=clusterer)
            rows = [{"ticket_id": t, "problem_id": p} for t, p in assigned.items()]
        else:
            tickets = _ticket_features(input_path, text_column, time_column, id_column, key or [])
            if clusterer is not None:
                with_intents(tickets, clusterer)
            if tracker is not None:
                tracker.reset()
                if logs is not None:
                    tracker.use_logs(_log_line_events(logs, "timestamp")[1])
            categories = _ticket_categories(input_path, id_column) if tracker is not None else {}
            for t in sorted(tickets, key=lambda x: (x.created_at, x.ticket_id)):
                a = (
                    grouper.add(t)
                    if tracker is None
                    else tracker.add(t, category=categories.get(t.ticket_id))
                )
                rows.append({"ticket_id": a.ticket_id, "problem_id": a.problem_id, "is_new": a.is_new,
                             "score": a.score, "why": a.explanation.reason})  # fmt: skip
    except PaytriageError as exc:
        fail(str(exc))
    found = tracker.systemic() if tracker is not None else []
    if tracker is not None:
        owner = {t: p.problem_id for p in found for t in p.ticket_ids}
        final = {t: grouper.resolve(pid) for t, pid in grouper.assignments_.items()}
        for row in rows:
            row["problem_id"] = final.get(row["ticket_id"], row["problem_id"])
            row["systemic"] = owner.get(row["ticket_id"]) is not None
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["ticket_id", "problem_id"])
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        fail(f"cannot write output: {exc}")
    top = sorted(grouper.problems_.values(), key=lambda p: -p.size)[:20]
    summaries = [asdict(p.summary()) for p in top]
    calls = [_systemic_row(p, tracker) for p in found] if tracker is not None else []
    if json_output:
        out_json: dict[str, Any] = {
            "tickets": len(rows),
            "problems": len(grouper.problems_),
            "top": summaries,
        }
        if tracker is not None:
            out_json["systemic"] = calls
        emit(out_json, json_output=True)
        return
    cols = ["problem_id", "title", "tickets", "first_seen", "last_seen", "trend", "affected_merchants"]
    emit(summaries, json_output=False, columns=cols, title=f"{len(grouper.problems_)} problems")
    if tracker is not None:
        emit(calls, json_output=False, columns=["problem_id", "detected_at", "tickets", "evidence"],
             title=f"{len(calls)} systemic problems")  # fmt: skip


def load_intents(path: Path, *, option: str = "--intents") -> Any:
    """A clusterer saved by ``problems cluster --model``, or a clear error naming where it came from."""
    from paytriage.engines.patterns.intents_io import load_clusterer

    try:
        return load_clusterer(path)
    except PaytriageError as exc:
        fail(f"{option} {path}: {exc}", code=EXIT_USAGE)


def _ticket_categories(path: Path, id_column: str) -> dict[str, str]:
    """ticket id → its ``category`` column, where the file has one."""
    return {
        str(row.get(id_column) or line): str(row["category"])
        for line, row in _rows(path)
        if row.get("category")
    }


def _systemic_row(problem: Any, tracker: Any) -> dict[str, Any]:
    """One systemic problem: when it was called, on what evidence, and the log alerts it links."""
    links = sorted(
        {f"{alert} ({tracker.logs_[i].service}, detected {tracker.logs_[i].detected_at:%Y-%m-%d %H:%M})"
         for t in problem.ticket_ids for i, alert in tracker.links_.get(t, ())}
    )  # fmt: skip
    return {
        "problem_id": problem.problem_id,
        "detected_at": problem.detected_at,
        "tickets": len(problem.ticket_ids),
        "evidence": problem.first_burst.describe(),
        "bursts": [b.describe() for b in problem.bursts],
        "log_alerts": links,
    }


def _log_events(path: Path, time_col: str) -> Iterator[tuple[int, Any]]:
    """(line, LogEvent) of a CSV/JSONL/Parquet file, or of a plain-text server log (the layouts of
    ``ingest logs``), PCI-redacted as ingest stores them."""
    from paytriage.adapters.connectors.files import FileFormat, detect_format, read_text_log_records
    from paytriage.adapters.connectors.log_layouts import LineHeads
    from paytriage.adapters.connectors.rows import log_from_record, log_from_text
    from paytriage.engines.logmining.fields import enrich_event
    from paytriage.engines.redaction import redact

    if path.is_file() and path.suffix.lower() != ".parquet" and detect_format(path) == FileFormat.TEXT:
        heads = LineHeads(reference=datetime.fromtimestamp(path.stat().st_mtime, UTC))
        for rec in read_text_log_records(path, heads):
            assert rec.data is not None
            ev = log_from_text(rec.data["_text"], line=rec.line, source=path.stem, heads=heads)
            ev.message = redact(ev.message).text
            enrich_event(ev, text_line=True, default_service=None)
            yield rec.line, ev
        return
    for n, r in _rows(path):
        row = {("timestamp" if k == time_col else k): v for k, v in r.items()}
        ev = log_from_record(row, line=n, source=path.name)
        ev.message = redact(ev.message).text
        yield n, ev


def _log_line_events(path: Path, time_col: str) -> tuple[list[tuple[str, Any]], list[Any]]:
    """(signal, time) for each rate signal of each log line in a file, and the log incidents the
    streaming detector finds in the lines (minute-window rates, amount shifts, first-seen warnings;
    each service's history from its first line)."""
    from paytriage.engines.patterns.log_signals import LogLine, LogSignalDetector, line_signals

    out: list[tuple[str, Any]] = []
    raw: list[tuple[int, Any]] = []
    for n, ev in _log_events(path, time_col):
        line = LogLine(ev.timestamp, ev.service or ev.source, ev.level.value, ev.message, ev.http_status,
                       ev.error_code, attributes=ev.attributes)  # fmt: skip
        out += [(s, ev.timestamp) for s in line_signals(line)]
        raw.append((n, line))
    ordered = [line for _n, line in sorted(raw, key=lambda x: (x[1].timestamp, x[0]))]
    return out, LogSignalDetector().detect(ordered)


def _incident_rows(incidents: list[Any]) -> list[dict[str, Any]]:
    """A log incident for people and for JSON: when, which signals, what its lines name."""
    return [
        {
            "service": i.service,
            "start": i.start,
            "detected_at": i.detected_at,
            "last_alert_at": i.last_alert_at,
            "signals": i.signals,
            "alerts": [a.describe() for a in i.alerts],
            "identifiers": sorted(i.ids)[:50],
            "values": sorted(i.values)[:50],
            "words": sorted(i.words)[:50],
        }
        for i in incidents
    ]


@problems_app.command("detect")
def detect(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="Events: CSV, JSONL or Parquet, one a row (omit: the stored queue)."
        ),
    ] = None,
    signal_column: Annotated[str, typer.Option("--signal-column")] = "signal",
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Default: ts (events), timestamp (--log-lines).")
    ] = None,
    log_lines: Annotated[
        bool,
        typer.Option(
            "--log-lines",
            help="Rows are log lines (timestamp, service, level, message; optional http_status, error_code): "
            "alert on each service's template, status, error-code and level rates, on amounts that "
            "move by orders of magnitude (unit bugs) and on warnings a service never logged before.",
        ),
    ] = False,
    releases: Annotated[
        Path | None, typer.Option(help="Releases CSV/JSONL (component, version, released_at).")
    ] = None,
    alpha: Annotated[float, typer.Option(min=1e-12, max=0.5, help="p-value an alert must reach.")] = 1e-4,
    min_count: Annotated[int, typer.Option(min=1, help="Events an alert window must hold.")] = 5,
    min_ratio: Annotated[float, typer.Option(min=1.0, help="Observed/expected an alert must reach.")] = 2.0,
    engine: EngineOption = Engine.INPROCESS,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Stored queue: announce new/escalating problems (notifications.yaml)."),
    ] = False,
    intents: IntentsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Alerts for signals above their hour-of-day/weekday baseline and release impact (--input),
    or problems in the stored queue with people's corrections re-applied (no --input)."""
    if input_path is None:
        from paytriage.adapters.cli.problems_db import detect_stored

        # a team that fitted its intent groups once names them in the environment, not on every run
        option = "--intents"
        if intents is None and get_settings().intents_dir is not None:
            intents, option = get_settings().intents_dir, "PAYTRIAGE_INTENTS_DIR"
        if intents is not None and not intents.exists():
            fail(f"{option} {intents}: no such file or folder", code=EXIT_USAGE)
        clusterer = None if intents is None else load_intents(intents, option=option)
        detect_stored(notify=notify, json_output=json_output, intents=clusterer)
        return
    for option, given in (("--notify", notify), ("--intents", intents)):
        if given:
            fail(f"{option} applies to the stored queue; drop --input", code=EXIT_USAGE)
    from paytriage.adapters.connectors.rows import parse_timestamp, release_from_row
    from paytriage.engines.patterns.detection import EmergingIssueDetector, hourly_counts
    from paytriage.engines.patterns.releases import release_impact

    detector = EmergingIssueDetector(alpha=alpha, min_count=min_count, min_ratio=min_ratio)
    time_col = time_column or ("timestamp" if log_lines else "ts")
    incidents: list[Any] = []
    try:
        if engine == Engine.SPARK and log_lines:
            from paytriage.engines.patterns.spark import (
                detect_log_parquet,
                log_incidents_parquet,
                spark_session,
            )

            spark = spark_session()
            alerts = detect_log_parquet(spark, str(input_path), detector, time_col=time_col)
            incidents = log_incidents_parquet(spark, str(input_path), time_col=time_col)
            series: list[Any] = []
        elif engine == Engine.SPARK:
            from paytriage.engines.patterns.spark import detect_parquet, spark_session

            alerts = detect_parquet(spark_session(), str(input_path), detector, signal_col=signal_column,
                                    time_col=time_col)  # fmt: skip
            series = []
        else:
            if log_lines:
                events, incidents = _log_line_events(input_path, time_col)
            else:
                events = [
                    (str(r.get(signal_column)), parse_timestamp(r.get(time_col), field=time_col, line=n))
                    for n, r in _rows(input_path)
                ]
            series = hourly_counts(events)
            alerts = detector.detect_many(series)
        impact = []
        if releases is not None:
            rels = [release_from_row(r, line=n) for n, r in _rows(releases)]
            impact = [asdict(r) for r in release_impact(rels, series, alerts=alerts)]
    except PaytriageError as exc:
        fail(str(exc))
    found = [asdict(a) for a in alerts]
    raised = [a for i in incidents for a in i.alerts]
    shifts = [a for a in raised if ":value:" in a.signal]
    first = [a for a in raised if a.note.startswith("first seen")]
    moved = [
        {"signal": b.signal, "detected_at": b.detected_at, "p_value": b.p_value, "lines": len(b.ticket_ids),
         "evidence": b.note}
        for b in shifts
    ]  # fmt: skip
    novel = [
        {"signal": b.signal, "detected_at": b.detected_at, "evidence": b.describe(), "routine": b.routine}
        for b in first
    ]
    if json_output:
        out: dict[str, Any] = {"alerts": found, "releases": impact}
        if log_lines:
            out["value_shifts"] = moved
            out["first_seen"] = novel
            out["log_incidents"] = _incident_rows(incidents)
        emit(out, json_output=True)
        return
    cols = ["signal", "start", "detected_at", "observed", "expected", "ratio", "score", "ended_at"]
    emit(found, json_output=False, columns=cols, title=f"{len(found)} alerts")
    if moved:
        emit(moved, json_output=False, columns=["signal", "detected_at", "evidence"],
             title=f"{len(moved)} amount shifts")  # fmt: skip
    if novel:
        emit(novel, json_output=False, columns=["signal", "detected_at"],
             title=f"{len(novel)} first-seen warnings")  # fmt: skip
    if incidents:
        cols = ["service", "start", "detected_at", "signals"]
        emit(_incident_rows(incidents), json_output=False, columns=cols,
             title=f"{len(incidents)} log incidents (minute windows)")  # fmt: skip
    for rep in impact:
        hits = [c for c in rep["changes"] if c["significant"]]
        emit(f"release {rep['component']} {rep['version']}: {len(hits)} signals up, "
             f"{len(rep['alerts_after'])} alerts after", json_output=False)  # fmt: skip
