"""New and escalating problems reach a webhook and an SMTP server on loopback, once per level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.adapters.notify.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver
from tests.services.problem_seed import regroup, seed_cases

from paytriage.adapters.notify import EmailSender, WebhookSender
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import ProblemNotificationRow
from paytriage.domain import ConfigurationError, ProblemStatus
from paytriage.services.notifications import (
    DEFAULT_NOTIFICATIONS,
    NotificationPlan,
    build_notification,
    level_for,
    load_notifications,
    notify_problems,
)
from paytriage.services.problem_catalog import get_problem
from paytriage.services.problem_feedback import rename_problem, set_problem_status


def _plan(hook: HttpReceiver, smtp: SmtpReceiver) -> NotificationPlan:
    return NotificationPlan(
        senders=[
            WebhookSender("slack", hook.url, retries=1, backoff_s=0.0),
            EmailSender("oncall", smtp.host, "pt@example.com", ("t2@example.com",), port=smtp.port,
                        starttls=False, retries=0),
        ],
        min_cases=3,
        base_url="http://paytriage.test",
    )  # fmt: skip


def _notify(db: Database, plan: NotificationPlan) -> tuple[int, int, int]:
    with db.session() as s:
        run = notify_problems(s, plan=plan)
    return len(run.sent), len(run.failed), run.duplicates_skipped


def test_new_then_escalating_then_quiet_across_reruns(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path, n=16)  # 0-7 declines, 8-15 payouts
    with http_receiver() as hook, smtp_receiver() as smtp:
        plan = _plan(hook, smtp)
        regroup(db, [cases[:3], cases[8:10]], status=ProblemStatus.CONFIRMED)
        assert _notify(db, plan) == (2, 0, 0)  # the 2-case problem is below min_cases
        body = hook.bodies[0]
        assert body["text"].startswith("New problem: auto title 0 — 3 cases")
        assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
        assert body["paytriage"]["level"] == "new" and body["paytriage"]["example_tickets"] == [
            "T0",
            "T1",
            "T2",
        ]
        assert (
            "New problem" in smtp.messages[0]["data"]
            and "http://paytriage.test/problems/" in smtp.messages[0]["data"]
        )
        assert _notify(db, plan) == (0, 0, 2)  # same run again: deduplicated
        regroup(db, [cases[:5], cases[8:10]], status=ProblemStatus.CONFIRMED)  # new ids, grew ×1.7
        assert _notify(db, plan) == (0, 0, 2)
        regroup(db, [cases[:6], cases[8:11]], status=ProblemStatus.CONFIRMED)  # ×2, and a new one
        assert _notify(db, plan) == (4, 0, 0)
        levels = sorted(b["paytriage"]["level"] for b in hook.bodies[1:])
        assert levels == ["grew-x2", "new"]
        assert any(b["text"].startswith("Escalating problem (x2)") for b in hook.bodies)
        assert _notify(db, plan) == (0, 0, 4)
    assert len(hook.bodies) == 3 and len(smtp.messages) == 3


def test_rejected_and_candidate_problems_stay_quiet(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    with http_receiver() as hook, smtp_receiver() as smtp:
        plan = _plan(hook, smtp)
        a, _ = regroup(db, [cases[:4], cases[4:]], status=ProblemStatus.CONFIRMED)
        with db.session() as s:
            set_problem_status(s, problem_id=a, status=ProblemStatus.REJECTED, actor="ana")
        assert _notify(db, plan) == (2, 0, 0)
        regroup(db, [cases[:4], cases[4:]])  # candidates
        assert _notify(db, plan) == (0, 0, 0)
    assert {b["paytriage"]["title"] for b in hook.bodies} == {"auto title 1"}


def test_failed_delivery_is_recorded_and_retried_next_run(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    with http_receiver() as hook, smtp_receiver() as smtp:
        plan = _plan(hook, smtp)
        hook.script = [(503, {}, 0.0)]
        regroup(db, [cases[:4]], status=ProblemStatus.CONFIRMED)
        assert _notify(db, plan) == (1, 1, 0)
        with db.session() as s:
            failed = s.scalars(
                select(ProblemNotificationRow).where(ProblemNotificationRow.outcome == "failed")
            ).one()
            assert (failed.channel, failed.attempts, failed.error) == (
                "slack",
                2,
                "webhook slack: HTTP 503 after 2 attempts",
            )
        hook.script = [(200, {}, 0.0)]
        assert _notify(db, plan) == (1, 0, 1)


def test_config_from_yaml_and_env(tmp_path: Path) -> None:
    shipped = load_notifications(DEFAULT_NOTIFICATIONS, env={})
    assert shipped.senders == [] and len(shipped.disabled) == 2
    assert all("is not set" in d for d in shipped.disabled)
    env = {
        "PAYTRIAGE_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/topsecret",
        "PAYTRIAGE_SMTP_HOST": "smtp.example.com",
        "PAYTRIAGE_SMTP_USERNAME": "bot",
        "PAYTRIAGE_SMTP_PASSWORD": "pw-topsecret",
    }
    plan = load_notifications(DEFAULT_NOTIFICATIONS, env=env)
    assert [s.name for s in plan.senders] == ["tier2-slack", "tier2-oncall"]
    assert plan.growth_factor == 2.0 and plan.notify_statuses == (ProblemStatus.CONFIRMED,)
    assert "topsecret" not in repr(plan)
    assert plan.log_alerts and plan.log_alert_max_age_hours == 24.0


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("growth_factor: 1", "growth_factor"),
        ("notify_statuses: [rejected]", "notify_statuses"),
        ("notify_statuses: [bogus]", "notify_statuses"),
        ("min_cases: -1", "min_cases"),
        ("webhooks: {a: 1}", "webhooks"),
        ("webhooks: [{name: x, url_env: HOME}]", "url_env"),
        ("webhooks: [{name: x, url: 'file:///etc/passwd'}]", "url"),
        ("email: [{name: x, host: h, sender: a@b.c, to: 5}]", "to"),
        ("[1, 2", "cannot read"),
        ("log_alerts: 5", "log_alerts"),
        ("log_alerts: {max_age_hours: -1}", "max_age_hours"),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, yaml_text: str, field: str) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigurationError, match=field):
        load_notifications(path, env={"HOME": "/root"})


@given(st.integers(1, 10_000), st.integers(1, 1000), st.floats(1.1, 10))
def test_levels_only_climb_as_a_problem_grows(size: int, baseline: int, factor: float) -> None:
    def rank(level: str) -> float:
        return 1.0 if level == "new" else float(level.removeprefix("grew-x"))

    assert rank(level_for(size, baseline, factor)) <= rank(level_for(size + 1, baseline, factor))
    assert (level_for(size, baseline, factor) == "new") == (size < baseline * factor)


def test_titles_cannot_mention_or_link_in_slack(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    (pid,) = regroup(db, [cases[:4]], status=ProblemStatus.CONFIRMED)
    with db.session() as s:
        rename_problem(s, problem_id=pid, title="<!channel> see <http://evil|here> & co", actor="x")
        note = build_notification(get_problem(s, pid), "new", "http://paytriage.test")
    assert "<!channel>" not in note.payload["text"] and "&lt;!channel&gt;" in note.payload["text"]
    assert "<!channel>" not in json.dumps(note.payload["blocks"][1:])
    assert note.payload["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!channel> see" in note.text  # the e-mail is plain text, shown as written
