"""`paytriage problems cluster|group|detect` through Typer's runner."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
