"""Log alerts reach a webhook and an SMTP server on loopback once each, recent ones only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from tests.adapters.notify.receivers import http_receiver, smtp_receiver

from paytriage.adapters.notify import EmailSender, WebhookSender
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import ProblemNotificationRow
from paytriage.services.log_alert_notices import LOG_ALERT, build_log_alert, log_alert_key, notify_log_alerts
from paytriage.services.notifications import NotificationPlan

T = datetime(2026, 11, 2, 14, 3, tzinfo=UTC)


def _alert(
    hours_before: float, service: str = "refund-service", problem: int | None = None
) -> dict[str, Any]:
    return {
        "detected_at": T - timedelta(hours=hours_before),
        "service": service,
        "alerts": 1,
        "signal": f"log:{service}:value:amount:JPY:Refund <*> created",
        "first_alert": f"log:{service}:value:amount:JPY: 6 lines in 3 h; amount in JPY about 100× smaller",
        "signals": [f"log:{service}:value:amount:JPY:Refund <*> created"],
        "examples": ["re_000101", "re_000102"],
        "problem_id": problem,
    }


def test_recent_alerts_are_sent_once_on_every_channel(db: Database) -> None:
    alerts = [_alert(0, problem=7), _alert(2, "payouts"), _alert(30, "old-service")]
    with http_receiver() as hook, smtp_receiver() as smtp:
        plan = NotificationPlan(
            senders=[
                WebhookSender("slack", hook.url, retries=0),
                EmailSender("oncall", smtp.host, "pt@example.com", ("t2@example.com",), port=smtp.port,
                            starttls=False, retries=0),
            ],
            base_url="http://paytriage.test",
        )  # fmt: skip
        with db.session() as s:
            first = notify_log_alerts(s, plan=plan, alerts=alerts)
        with db.session() as s:
            again = notify_log_alerts(s, plan=plan, alerts=alerts)
        bodies, mails = list(hook.bodies), list(smtp.messages)
    assert len(first.sent) == 4 and first.failed == []  # two recent alerts × two channels; 30 h is too old
    assert len(again.sent) == 0 and again.duplicates_skipped == 4
    services = sorted(b["paytriage"]["service"] for b in bodies)
    assert services == ["payouts", "refund-service"]
    refund = next(b for b in bodies if b["paytriage"]["service"] == "refund-service")
    assert refund["paytriage"]["problem_id"] == 7 and refund["paytriage"]["url"].endswith("/problems/7")
    assert "100× smaller" in refund["blocks"][1]["text"]["text"]
    assert len(mails) == 2 and all("Log alert" in m["data"] for m in mails)
    with db.session() as s:
        rows = s.scalars(
            select(ProblemNotificationRow).where(ProblemNotificationRow.level == LOG_ALERT)
        ).all()
    assert {r.title for r in rows} == {log_alert_key(a) for a in alerts[:2]}


def test_disabled_or_no_channel_sends_nothing_and_failures_are_retried(db: Database) -> None:
    alert = [_alert(0)]
    with db.session() as s:
        assert notify_log_alerts(s, plan=NotificationPlan(senders=[]), alerts=alert).sent == []
    with http_receiver() as hook:
        off = NotificationPlan(senders=[WebhookSender("slack", hook.url, retries=0)], log_alerts=False)
        with db.session() as s:
            assert notify_log_alerts(s, plan=off, alerts=alert).sent == []
        hook.script = [(500, {}, 0.0)]
        on = NotificationPlan(senders=[WebhookSender("slack", hook.url, retries=0)])
        with db.session() as s:
            assert len(notify_log_alerts(s, plan=on, alerts=alert).failed) == 1
        hook.script = [(200, {}, 0.0)]
        with db.session() as s:
            assert len(notify_log_alerts(s, plan=on, alerts=alert).sent) == 1


def test_service_names_cannot_mention_or_link_in_slack() -> None:
    message = build_log_alert(_alert(0, service="<!channel>"), "http://paytriage.test")
    assert "<!channel>" not in message.payload["text"]
    assert "<!channel>" not in message.payload["blocks"][1]["text"]["text"]
    assert message.payload["paytriage"]["url"] == "http://paytriage.test/problems"
