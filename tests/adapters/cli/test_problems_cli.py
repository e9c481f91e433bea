"""`paytriage problems cluster|group|detect` through Typer's runner."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from paytriage.adapters.cli.problems import register

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    register(root)

    @root.command("noop")
    def _noop() -> None:  # a second command keeps "problems" a sub-command
        """Nothing."""

    return root


def test_every_command_has_help(app: typer.Typer) -> None:
    for cmd in ("cluster", "group", "detect"):
        res = runner.invoke(app, ["problems", cmd, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output


def test_cluster_writes_rows_back_with_cluster_column(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    rows = ["card not arrived", "card still not delivered", "refund missing", "refund not received"] * 3
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows([[i, t] for i, t in enumerate(rows)])
    out = tmp_path / "c.csv"
    args = ["--k", "2", "--features", "tfidf", "--algorithm", "kmeans", "--json"]
    res = runner.invoke(app, ["problems", "cluster", "--input", str(src), "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    got = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["id"] for r in got] == [str(i) for i in range(len(rows))]
    by_text = {r["text"]: r["cluster"] for r in got}
    assert by_text["card not arrived"] == by_text["card still not delivered"] != by_text["refund missing"]
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["n_clusters"] == 2 and all(c["top_terms"] for c in summary["clusters"])


def test_cluster_missing_column_is_one_line_error(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("body\nhello\n")
    res = runner.invoke(app, ["problems", "cluster", "--input", str(src), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and "text" in res.output and "Traceback" not in res.output


def test_group_and_detect_from_jsonl(app: typer.Typer, tmp_path: Path) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    tickets = tmp_path / "t.jsonl"
    lines = [
        {"ticket_id": "1", "text": "card declined", "created_at": t0.isoformat(), "bin": "411111"},
        {
            "ticket_id": "2",
            "text": "payment refused",
            "created_at": (t0 + timedelta(hours=1)).isoformat(),
            "bin": "411111",
        },
        {"ticket_id": "3", "text": "payout late", "created_at": (t0 + timedelta(hours=2)).isoformat()},
    ]
    tickets.write_text("".join(json.dumps(r) + "\n" for r in lines))
    out = tmp_path / "g.csv"
    res = runner.invoke(
        app, ["problems", "group", "--input", str(tickets), "--out", str(out), "--key", "bin=bin", "--json"]
    )
    assert res.exit_code == 0, res.output
    got = {r["ticket_id"]: r["problem_id"] for r in csv.DictReader(out.read_text().splitlines())}
    assert got["1"] == got["2"] != got["3"]
    assert json.loads(res.stdout)["problems"] == 2

    events = tmp_path / "e.csv"
    with events.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["signal", "ts"])
        for h in range(10 * 24):
            for _ in range(3 if h < 200 else 20):
                w.writerow(["decline:05", (t0 + timedelta(hours=h)).isoformat()])
    res = runner.invoke(app, ["problems", "detect", "--input", str(events), "--json"])
    assert res.exit_code == 0, res.output
    alerts = json.loads(res.stdout)["alerts"]
    assert [a["start"] for a in alerts] == [(t0 + timedelta(hours=200)).isoformat()]


def test_detect_bad_timestamp_names_line(app: typer.Typer, tmp_path: Path) -> None:
    events = tmp_path / "e.csv"
    events.write_text("signal,ts\na,2024-01-01T00:00:00\na,yesterday\n")
    res = runner.invoke(app, ["problems", "detect", "--input", str(events)])
    assert res.exit_code == 1 and "line 3" in res.output and "ts" in res.output


def _log_rows(t0: datetime, spike_at: int = 200) -> list[dict[str, object]]:
    """Ten days of a gateway's routine 404s and an ACS connector's ordinary warnings; from hour
    ``spike_at`` the connector's timeouts climb sevenfold."""
    rows: list[dict[str, object]] = []
    for h in range(10 * 24):
        at = t0 + timedelta(hours=h)
        rows += [
            {"ts": (at + timedelta(minutes=10 * k)).isoformat(), "service": "api-gateway", "level": "warn",
             "message": f"GET /v1/payments/p{h}x{k} 404 resource_missing", "http_status": 404}
            for k in range(3)
        ]  # fmt: skip
        rows += [
            {"ts": (at + timedelta(minutes=7 * k + 1)).isoformat(), "service": "acs-connector-2",
             "level": "WARNING", "message": f"ACS did not answer CReq within 10000ms txn=pay_{h}a{k}"}
            for k in range(3 if h < spike_at else 21)
        ]  # fmt: skip
    return rows


def test_detect_log_lines_alerts_on_the_template_whose_rate_climbs(app: typer.Typer, tmp_path: Path) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in _log_rows(t0)))
    res = runner.invoke(
        app, ["problems", "detect", "--input", str(logs), "--log-lines", "--time-column", "ts", "--json"]
    )
    assert res.exit_code == 0, res.output
    alerts = json.loads(res.stdout)["alerts"]
    assert {a["signal"] for a in alerts} == {
        "log:acs-connector:level:warning",
        "log:acs-connector:template:ACS did not answer CReq within <*> txn=<*>",
    }
    assert {a["start"] for a in alerts} == {(t0 + timedelta(hours=200)).isoformat()}
    # the minute-window stream calls it within two hours, with what its lines name
    [incident] = json.loads(res.stdout)["log_incidents"]
    assert incident["service"] == "acs-connector"
    assert "log:acs-connector:template:ACS did not answer CReq within <*> txn=<*>" in incident["signals"]
    assert incident["detected_at"] < (t0 + timedelta(hours=202)).isoformat()
    assert "pay_200a10" in incident["identifiers"] and "~3ds" in incident["words"]


def test_detect_log_lines_reads_a_servers_own_syslog(app: typer.Typer, tmp_path: Path) -> None:
    """The same ten days written by syslog (no year, the program as the service): the same alert."""
    import os

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = sorted(_log_rows(t0), key=lambda r: str(r["ts"]))
    logs = tmp_path / "messages"
    stamp = "%b %e %H:%M:%S"
    logs.write_text(
        "".join(
            f"{datetime.fromisoformat(str(r['ts'])):{stamp}} pay-01 {r['service']}[42]: {r['message']}\n"
            for r in rows
        )
    )
    written = (t0 + timedelta(days=11)).timestamp()
    os.utime(logs, (written, written))  # year-less lines are placed before the file's last write
    res = runner.invoke(app, ["problems", "detect", "--input", str(logs), "--log-lines", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    template = "log:acs-connector:template:ACS did not answer CReq within <*> txn=<*>"
    assert {a["start"] for a in out["alerts"] if a["signal"] == template} == {
        (t0 + timedelta(hours=200)).isoformat()
    }
    [incident] = out["log_incidents"]
    assert incident["service"] == "acs-connector" and template in incident["signals"]
    assert incident["detected_at"] < (t0 + timedelta(hours=202)).isoformat()


def _yen_refunds(t0: datetime) -> list[dict[str, object]]:
    yen = [4000 + 137 * (k % 20) for k in range(60)] + [40 + k for k in range(10)]
    rows = [
        {"ts": (t0 + timedelta(minutes=50 * k)).isoformat(), "service": "refund-service", "level": "info",
         "message": f"Refund re_{k} created amount={a} currency=JPY"}
        for k, a in enumerate(yen)
    ]  # fmt: skip
    return rows


def test_detect_log_lines_reports_amounts_that_drop_a_hundredfold(app: typer.Typer, tmp_path: Path) -> None:
    """INFO refund lines whose yen amounts become 100× too small: no rate moves, the amounts do."""
    rows = _yen_refunds(datetime(2024, 1, 1, tzinfo=UTC))
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = runner.invoke(
        app, ["problems", "detect", "--input", str(logs), "--log-lines", "--time-column", "ts", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["alerts"] == []
    [shift] = out["value_shifts"]
    assert shift["signal"].startswith("log:refund-service:value:amount:JPY:Refund <*> created")
    assert "100× smaller" in shift["evidence"] and shift["lines"] >= 5
    text = runner.invoke(
        app, ["problems", "detect", "--input", str(logs), "--log-lines", "--time-column", "ts"]
    )
    assert text.exit_code == 0 and "1 amount shifts" in text.output


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::ResourceWarning")
def test_detect_log_lines_on_spark_reports_the_same_amount_shift(app: typer.Typer, tmp_path: Path) -> None:
    from paytriage.engines.patterns.spark import spark_available

    if not spark_available():
        pytest.skip("pyspark or java not installed")
    import pandas as pd

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = _with_new_warning(_yen_refunds(t0), t0)
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    frame = (
        pd.DataFrame(rows).assign(timestamp=lambda f: pd.to_datetime(f["ts"], utc=True)).drop(columns="ts")
    )
    frame.to_parquet(tmp_path / "logs.parquet", coerce_timestamps="us", allow_truncated_timestamps=True)
    local = runner.invoke(
        app, ["problems", "detect", "-i", str(logs), "--log-lines", "--time-column", "ts", "--json"]
    )
    spark = runner.invoke(
        app,
        [
            "problems",
            "detect",
            "-i",
            str(tmp_path / "logs.parquet"),
            "--log-lines",
            "--engine",
            "spark",
            "--json",
        ],
    )
    assert spark.exit_code == 0, spark.output
    want, got = json.loads(local.stdout), json.loads(spark.stdout)
    assert len(want["value_shifts"]) == 1 and got["value_shifts"] == want["value_shifts"]
    assert len(want["first_seen"]) == 1 and got["first_seen"] == want["first_seen"]
    assert len(want["log_incidents"]) == 2 and got["log_incidents"] == want["log_incidents"]


def _with_new_warning(rows: list[dict[str, object]], t0: datetime) -> list[dict[str, object]]:
    """A connector's routine hourly warning for two days, then a warning it never logged before."""
    routine = [
        {"ts": (t0 + timedelta(hours=h, minutes=5)).isoformat(), "service": "bank-connector", "level": "warn",
         "message": f"retrying statement fetch attempt={h % 3}"}
        for h in range(48)
    ]  # fmt: skip
    new = {"ts": (t0 + timedelta(hours=40, minutes=7)).isoformat(), "service": "bank-connector",
           "level": "warn", "message": "camt.054 overdue bank=HANSDEFFXXX lag_s=6009"}  # fmt: skip
    return sorted([*rows, *routine, new], key=lambda r: str(r["ts"]))


def test_detect_log_lines_reports_a_warning_never_seen_before(app: typer.Typer, tmp_path: Path) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in _with_new_warning([], t0)))
    res = runner.invoke(
        app, ["problems", "detect", "-i", str(logs), "--log-lines", "--time-column", "ts", "--json"]
    )
    assert res.exit_code == 0, res.output
    [first] = json.loads(res.stdout)["first_seen"]
    assert first["signal"] == "log:bank-connector:template:<*> overdue bank=HANSDEFFXXX lag_s=<*>"
    assert "first seen" in first["evidence"] and first["detected_at"].startswith("2024-01-02T16:07")


def test_detect_log_lines_bad_row_names_line_and_field(app: typer.Typer, tmp_path: Path) -> None:
    logs = tmp_path / "logs.csv"
    logs.write_text("timestamp,service,level,message,http_status\n"
                    "2024-01-01T00:00:00Z,gw,warn,GET /x 500,500\n"
                    "2024-01-01T00:01:00Z,gw,warn,GET /y 500,five hundred\n")  # fmt: skip
    res = runner.invoke(app, ["problems", "detect", "--input", str(logs), "--log-lines"])
    assert res.exit_code == 1 and "line 3" in res.output and "http_status" in res.output


def _queue_and_logs(t0: datetime) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Five days of everyday tickets, then an issuer outage: customers of many merchants whose cards
    in BIN 465901 are declined, while payments-core logs the issuer's failures from minutes before."""
    import random

    rng = random.Random(3)
    everyday = {
        "refund": "Where is the refund for order {n}? It has been a week.",
        "payout_withdrawal": "Our payout for last week has not arrived in the bank account.",
        "login_and_access": "I cannot log in to the dashboard, password reset mail never comes.",
        "card_payment_declined": "Customer card declined at checkout with code 05, please check.",
    }
    tickets: list[dict[str, object]] = []
    logs: list[dict[str, object]] = []
    t = t0
    n = 0
    while t < t0 + timedelta(days=5):
        t += timedelta(minutes=rng.expovariate(1 / (25 if 8 <= t.hour < 20 else 70)))
        n += 1
        cat = rng.choice(sorted(everyday))
        keys = [f"country:{rng.choice(['de', 'fr', 'gb', 'nl'])}"] + (
            ["error:05"] if "declined" in cat else []
        )
        tickets.append({"ticket_id": f"b{n}", "text": everyday[cat].format(n=n), "created_at": t.isoformat(),
                        "customer_id": f"c{n}", "category": cat, "keys": keys})  # fmt: skip
    m = 0
    t = t0
    while t < t0 + timedelta(days=5):
        t += timedelta(minutes=rng.expovariate(1 / 6))
        m += 1
        text = f"auth declined txn=pay_{m:08d} bin=4{m % 9}2222 rc=05 insufficient funds"
        logs.append(
            {"timestamp": t.isoformat(), "service": "payments-core-1", "level": "warn", "message": text}
        )
    outage = t0 + timedelta(days=4, hours=10)
    for j in range(45):
        at = outage - timedelta(minutes=20) + timedelta(minutes=2 * j)
        text = f"auth failed txn=pay_x{j:06d} bin=465901 rc=91 issuer=hanse unavailable"
        logs.append(
            {"timestamp": at.isoformat(), "service": "payments-core-2", "level": "error", "message": text}
        )
    for k in range(8):
        at = outage + timedelta(minutes=9 * k)
        text = f"All cards starting 465901 are declined since this morning, issuer unavailable? ({k})"
        tickets.append({"ticket_id": f"o{k}", "created_at": at.isoformat(), "customer_id": f"v{k}",
                        "text": text, "category": "card_payment_declined",
                        "keys": ["bin:465901", "error:91"]})  # fmt: skip
    tickets.sort(key=lambda r: str(r["created_at"]))
    logs.sort(key=lambda r: str(r["timestamp"]))
    return tickets, logs


def test_group_tells_systemic_problems_and_their_log_alerts(app: typer.Typer, tmp_path: Path) -> None:
    tickets, logs = _queue_and_logs(datetime(2024, 3, 4, tzinfo=UTC))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tickets))
    (tmp_path / "l.jsonl").write_text("".join(json.dumps(r) + "\n" for r in logs))
    args = ["problems", "group", "-i", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "a.csv"), "--json"]
    res = runner.invoke(app, [*args, "--logs", str(tmp_path / "l.jsonl")])
    assert res.exit_code == 0, res.output
    [problem] = json.loads(res.stdout)["systemic"]
    # called at the third customer, on the tickets linked to the issuer failures in the logs
    assert problem["evidence"].startswith("alert:payments-core: 3 customers"), problem
    assert problem["tickets"] >= 8 and problem["log_alerts"], problem
    assert problem["log_alerts"][0].startswith("log:payments-core:")
    with (tmp_path / "a.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["ticket_id"] for r in rows if r["systemic"] == "True"} >= {f"o{k}" for k in range(8)}
    # without logs the burst is still called, later or on the tickets' evidence alone
    alone = runner.invoke(app, [*args, "--systemic"])
    assert alone.exit_code == 0, alone.output
    [called] = json.loads(alone.stdout)["systemic"]
    assert called["log_alerts"] == [] and called["detected_at"] >= problem["detected_at"]


def _group(
    app: typer.Typer, tmp_path: Path, fmt: str, *extra: str
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``problems group`` on ``t.<fmt>`` with ``extra`` options: its JSON and its rows by ticket."""
    out = tmp_path / f"a_{fmt}.csv"
    res = runner.invoke(
        app, ["problems", "group", "-i", str(tmp_path / f"t.{fmt}"), "-o", str(out), "--json", *extra]
    )
    assert res.exit_code == 0, res.output
    with out.open() as fh:
        return json.loads(res.stdout), sorted(csv.DictReader(fh), key=lambda r: r["ticket_id"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::ResourceWarning")
def test_group_on_spark_finds_the_same_systemic_problems(app: typer.Typer, tmp_path: Path) -> None:
    """Tickets and logs as Parquet on Spark (log incidents in the executors, tickets streamed to the
    tracker): the same systemic problems, evidence and log alerts as in-process."""
    from paytriage.engines.patterns.spark import spark_available

    if not spark_available():
        pytest.skip("pyspark or java not installed")
    import pandas as pd

    tickets, logs = _queue_and_logs(datetime(2024, 3, 4, tzinfo=UTC))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tickets))
    (tmp_path / "l.jsonl").write_text("".join(json.dumps(r) + "\n" for r in logs))
    us = {"coerce_timestamps": "us", "allow_truncated_timestamps": True}
    frame = pd.DataFrame(tickets)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    frame.to_parquet(tmp_path / "t.parquet", **us)
    lines = pd.DataFrame(logs)
    lines["timestamp"] = pd.to_datetime(lines["timestamp"], utc=True, format="ISO8601")
    lines.to_parquet(tmp_path / "l.parquet", **us)

    want, want_rows = _group(app, tmp_path, "jsonl", "--logs", str(tmp_path / "l.jsonl"))
    got, got_rows = _group(
        app, tmp_path, "parquet", "--logs", str(tmp_path / "l.parquet"), "--engine", "spark"
    )
    assert len(want["systemic"]) == 1 and got["systemic"] == want["systemic"]
    flags = {r["ticket_id"]: (r["problem_id"], r["systemic"]) for r in want_rows}
    assert {r["ticket_id"]: (r["problem_id"], r["systemic"]) for r in got_rows} == flags


def test_group_names_a_missing_logs_file(app: typer.Typer, tmp_path: Path) -> None:
    tickets, _logs = _queue_and_logs(datetime(2024, 3, 4, tzinfo=UTC))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tickets[:20]))
    args = ["problems", "group", "-i", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "a.csv")]
    res = runner.invoke(app, [*args, "--logs", str(tmp_path / "nope.parquet")])
    assert res.exit_code != 0 and "--logs" in res.output and "nope.parquet" in res.output
    assert "Traceback" not in res.output


_TOPICS = {
    "topup": ["my top up is still pending", "top up not showing in my balance",
              "added money by top up, not there", "top up failed but money left my bank",
              "why is my top up taking so long"],
    "card": ["my new card has not arrived", "card delivery is late", "when will my card be delivered",
             "still waiting for the card in the post", "card not received yet"],
    "pin": ["forgot my pin code", "pin blocked after three tries", "how do I reset my pin",
            "unblock my pin please", "pin is not accepted"],
    "fees": ["why was I charged a fee", "exchange fee looks too high", "what fees apply abroad",
             "fee for receiving money", "monthly fee question"],
}  # fmt: skip


def _intent_queue(t0: datetime) -> list[dict[str, object]]:
    """Six days of everyday questions (a top-up now and then) and a surge of top-up complaints
    from eight customers within an hour, with no category and no identifier to burst on."""
    import random

    rng = random.Random(7)
    rows: list[dict[str, object]] = []
    t = t0
    while t < t0 + timedelta(days=6):
        t += timedelta(minutes=rng.expovariate(1 / 20))
        topic = "topup" if rng.random() < 0.05 else rng.choice(["card", "pin", "fees"])
        n = len(rows)
        rows.append({"ticket_id": f"b{n}", "created_at": t.isoformat(), "customer_id": f"c{n}",
                     "text": rng.choice(_TOPICS[topic])})  # fmt: skip
    at = t0 + timedelta(days=5, hours=10)
    for k in range(8):
        rows.append({"ticket_id": f"s{k}", "created_at": (at + timedelta(minutes=7 * k)).isoformat(),
                     "customer_id": f"hit{k}", "text": _TOPICS["topup"][k % 5]})  # fmt: skip
    return sorted(rows, key=lambda r: str(r["created_at"]))


def _intent_model(app: typer.Typer, tmp_path: Path) -> Path:
    """A clusterer fitted on past tickets by ``problems cluster --model``."""
    past = tmp_path / "past.csv"
    with past.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows([[f"{t}{i}", text] for t, texts in _TOPICS.items() for i, text in enumerate(texts * 4)])
    model = tmp_path / "intents"
    args = ["--k", "4", "--features", "tfidf", "--algorithm", "kmeans", "--model", str(model)]
    res = runner.invoke(app, ["problems", "cluster", "-i", str(past), "-o", str(tmp_path / "c.csv"), *args])
    assert res.exit_code == 0, res.output
    return model


def test_group_with_intents_finds_a_surge_that_names_nothing(app: typer.Typer, tmp_path: Path) -> None:
    """Past tickets clustered once (``problems cluster --model``); their intent groups then make a
    surge of one intent visible to ``group --systemic``, which sees nothing else to burst on."""
    model = _intent_model(app, tmp_path)
    past = tmp_path / "past.csv"
    queue = _intent_queue(datetime(2024, 3, 4, tzinfo=UTC))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queue))
    group = ["problems", "group", "-i", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "a.csv"), "--json"]
    without = runner.invoke(app, [*group, "--systemic"])
    assert without.exit_code == 0, without.output
    assert json.loads(without.stdout)["systemic"] == []
    res = runner.invoke(app, [*group, "--systemic", "--intents", str(model)])
    assert res.exit_code == 0, res.output
    [problem] = json.loads(res.stdout)["systemic"]
    assert problem["evidence"].startswith("intent:"), problem
    with (tmp_path / "a.csv").open() as fh:
        called = {r["ticket_id"] for r in csv.DictReader(fh) if r["systemic"] == "True"}
    assert {f"s{k}" for k in range(8)} <= called and len(called) <= 10
    # a wrong or missing model is named, never a traceback
    for bad in (tmp_path / "nope", past):
        res = runner.invoke(app, [*group, "--intents", str(bad)])
        assert res.exit_code != 0 and "--intents" in res.output and "Traceback" not in res.output


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::ResourceWarning")
def test_group_with_intents_on_spark_predicts_in_the_executors(app: typer.Typer, tmp_path: Path) -> None:
    """The clusterer is broadcast and predicts each ticket's group in the executors: the same
    systemic problem and assignments as in-process."""
    from paytriage.engines.patterns.spark import spark_available

    if not spark_available():
        pytest.skip("pyspark or java not installed")
    import pandas as pd

    model = _intent_model(app, tmp_path)
    queue = _intent_queue(datetime(2024, 3, 4, tzinfo=UTC))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queue))
    frame = pd.DataFrame(queue)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    frame.to_parquet(tmp_path / "t.parquet", coerce_timestamps="us", allow_truncated_timestamps=True)

    want, want_rows = _group(app, tmp_path, "jsonl", "--systemic", "--intents", str(model))
    got, got_rows = _group(
        app, tmp_path, "parquet", "--systemic", "--intents", str(model), "--engine", "spark"
    )
    assert len(want["systemic"]) == 1 and got["systemic"] == want["systemic"]
    flags = {r["ticket_id"]: (r["problem_id"], r["systemic"]) for r in want_rows}
    assert {r["ticket_id"]: (r["problem_id"], r["systemic"]) for r in got_rows} == flags


def test_detect_takes_intents_only_for_the_stored_queue(app: typer.Typer, tmp_path: Path) -> None:
    events = tmp_path / "e.csv"
    events.write_text("signal,ts\na,2024-03-04T10:00:00Z\n")
    res = runner.invoke(app, ["problems", "detect", "-i", str(events), "--intents", str(tmp_path)])
    assert res.exit_code != 0 and "--intents applies to the stored queue" in res.output
    res = runner.invoke(app, ["problems", "detect", "--intents", str(tmp_path / "none")])
    assert res.exit_code != 0 and "--intents" in res.output and "none" in res.output
    assert "Traceback" not in res.output
