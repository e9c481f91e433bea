"""`paytriage problems detect|list|show` over the stored queue, with feedback and --notify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.adapters.notify.receivers import http_receiver
from tests.services.problem_seed import seed_cases
from typer.testing import CliRunner

from paytriage.adapters.cli.main import app
from paytriage.adapters.storage.database import Database
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.problem_feedback import rename_problem

runner = CliRunner()


@pytest.fixture
def seeded(cli_env: Path, tmp_path: Path) -> Database:
    cli_env.parent.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{cli_env}")
    db.ensure_schema()
    seed_cases(db, tmp_path)
    return db


def _json(args: list[str]) -> dict[str, object]:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out: dict[str, object] = json.loads(res.stdout)
    return out


def test_commands_have_help() -> None:
    for cmd in ("list", "show", "detect"):
        res = runner.invoke(app, ["problems", cmd, "--help"])
        assert res.exit_code == 0 and len(res.stdout) > 100


def test_detect_list_show_and_a_rename_that_survives(seeded: Database) -> None:
    run = _json(["problems", "detect", "--json"])
    assert run["cases"] == 8 and "notifications" not in run
    assert run["log_alerts"] == []  # the seed has no log lines
    assert all("log_detected_at" in d for d in run["systemic"])  # type: ignore[attr-defined]
    listed = _json(["problems", "list", "--json"])
    assert listed["count"] == run["problems"]
    data = listed["data"]
    assert isinstance(data, list)
    if not data:
        pytest.skip("the grouper found no problem in the seed")
    pid = data[0]["id"]
    shown = _json(["problems", "show", str(pid), "--json"])
    assert shown["id"] == pid and shown["escalation"] == f"/problems/{pid}/escalation"
    assert {"top_terms", "shared_entities", "examples", "trend", "suspected_root_cause"} <= set(shown)
    with seeded.session() as s:
        rename_problem(s, problem_id=pid, title="Named by Ana", actor="ana")
    again = _json(["problems", "detect", "--json"])
    assert again["feedback_applied"] == {"rename": 1}
    assert again["regressions"] == []  # no defect was resolved
    titles = [p["title"] for p in _json(["problems", "list", "--json", "--q", "named by"])["data"]]  # type: ignore[index]
    assert titles == ["Named by Ana"]
    table = runner.invoke(app, ["problems", "show", str(pid)])
    assert table.exit_code == 0 and "Named by Ana" in table.stdout and "Example tickets" in table.stdout


def test_detect_notify_posts_to_the_configured_webhook(
    seeded: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paytriage.config.settings import get_settings

    refunds = tmp_path / "refunds.log"  # JPY refund amounts a hundred times too small: a log alert
    yen = [1500 + 113 * (i % 30) if i < 40 else 15 + i % 7 for i in range(46)]
    refunds.write_text("".join(
        f'2026-11-0{1 + i // 24}T{i % 24:02d}:10:00Z level=info service=refund-service '
        f'msg="Refund re_{i:06d}x created amount={a} currency=JPY"\n'
        for i, a in enumerate(yen)
    ))  # fmt: skip
    ingest_file(seeded, refunds, IngestKind.LOGS)
    with http_receiver() as hook:
        cfg = tmp_path / "notifications.yaml"
        cfg.write_text("min_cases: 1\nnotify_statuses: [candidate, confirmed]\n"
                       "webhooks: [{name: t2, url_env: PAYTRIAGE_TEST_HOOK, retries: 0}]\n")  # fmt: skip
        monkeypatch.setenv("PAYTRIAGE_NOTIFICATIONS_CONFIG", str(cfg))
        monkeypatch.setenv("PAYTRIAGE_TEST_HOOK", hook.url)
        get_settings.cache_clear()
        run = _json(["problems", "detect", "--notify", "--json"])
        second = _json(["problems", "detect", "--notify", "--json"])
    sent = run["notifications"]["sent"]  # type: ignore[index]
    assert isinstance(run["problems"], int) and run["problems"] >= 1
    assert len(sent) == len(hook.bodies) == run["problems"] + 1
    [log_alert] = [b["paytriage"] for b in hook.bodies if b["paytriage"]["level"] == "log-alert"]
    assert log_alert["service"] == "refund-service" and "100× smaller" in log_alert["first_alert"]
    assert len(run["log_alerts"]) == 1  # type: ignore[arg-type]
    assert second["notifications"]["sent"] == []  # type: ignore[index]
    assert hook.url not in json.dumps(run)


def test_bad_input_is_one_line(seeded: Database, tmp_path: Path) -> None:
    res = runner.invoke(app, ["problems", "show", "99999"])
    assert res.exit_code == 1 and "problem 99999 not found" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["problems", "list", "--status", "bogus"])
    assert res.exit_code == 2 and "--status 'bogus'" in res.output
    res = runner.invoke(app, ["problems", "detect", "--notify", "--input", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "--notify applies to the stored queue" in res.output


def test_the_evidence_a_burst_needs_comes_from_the_environment(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAYTRIAGE_PROBLEM_MIN_CUSTOMERS / PAYTRIAGE_PROBLEM_ALPHA set how much evidence makes a problem
    systemic; a bad value is named in one line, never a traceback."""
    from tests.services.test_problems_service import _burst_queue

    from paytriage.config.settings import get_settings

    cli_env.parent.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{cli_env}")
    db.ensure_schema()
    _burst_queue(db, tmp_path)
    assert len(_json(["problems", "detect", "--json"])["systemic"]) == 1  # type: ignore[arg-type]
    monkeypatch.setenv("PAYTRIAGE_PROBLEM_MIN_CUSTOMERS", "6")
    get_settings.cache_clear()
    assert _json(["problems", "detect", "--json"])["systemic"] == []
    monkeypatch.setenv("PAYTRIAGE_PROBLEM_MIN_CUSTOMERS", "1")
    get_settings.cache_clear()
    bad = runner.invoke(app, ["problems", "detect", "--json"])
    assert bad.exit_code == 2 and "PAYTRIAGE_PROBLEM_MIN_CUSTOMERS" in bad.output
    assert "Traceback" not in bad.output


def test_intent_groups_named_in_the_environment_are_used_by_detect(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAYTRIAGE_INTENTS_DIR: a team fits its intent groups once (``problems cluster --model``) and
    every ``problems detect`` on the stored queue uses them; a bad path is named in one line."""
    from datetime import UTC, datetime

    from tests.adapters.cli.test_problems_cli import _intent_model, _intent_queue

    from paytriage.config.settings import get_settings
    from paytriage.engines.triage import Triager
    from paytriage.services.triage import triage_cases

    cli_env.parent.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{cli_env}")
    db.ensure_schema()
    rows = _intent_queue(datetime(2024, 3, 4, tzinfo=UTC))
    tickets = [
        {"id": r["ticket_id"], "created_at": r["created_at"], "requester_id": r["customer_id"],
         "description": r["text"]}
        for r in rows
    ]  # fmt: skip
    (tmp_path / "k.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tickets))
    ingest_file(db, tmp_path / "k.jsonl", IngestKind.TICKETS)
    triage_cases(db, Triager.from_config(), as_of_arrival=True)
    model = _intent_model(app, tmp_path)

    def intent_signals() -> list[str]:
        _json(["problems", "detect", "--json"])
        with db.session() as s:
            from paytriage.adapters.storage.orm import ProblemRow

            records = [p.detection or {} for p in s.query(ProblemRow).all()]
        return [x for r in records for x in r.get("signals", []) if "intent:" in x]

    assert intent_signals() == []
    monkeypatch.setenv("PAYTRIAGE_INTENTS_DIR", str(model))
    get_settings.cache_clear()
    assert intent_signals(), "the surge of one intent should burst on its intent group"
    for bad in (tmp_path / "nope", tmp_path / "k.jsonl"):
        monkeypatch.setenv("PAYTRIAGE_INTENTS_DIR", str(bad))
        get_settings.cache_clear()
        res = runner.invoke(app, ["problems", "detect", "--json"])
        assert res.exit_code == 2 and f"PAYTRIAGE_INTENTS_DIR {bad}" in res.output, res.output
        assert "Traceback" not in res.output
