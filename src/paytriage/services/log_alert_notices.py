"""Announce log alerts on the problem channels, once each: the logs often show an incident before
any customer writes in, and an alert nobody hears about detects nothing.

An alert is one log incident from a detection run (see ``problems.log_alert_rows``): the service,
when its first alert fired and that alert in words, the signals, a few identifiers its lines name
and the stored problem it explains, if any. It is recognised again on the next run by its service,
first signal and detection time (log detection is streaming, so a re-run over more lines keeps
them); deliveries are stored with the problem notifications at level ``log-alert``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.notify import Notification
from paytriage.adapters.storage.orm import ProblemNotificationRow
from paytriage.services.notifications import NotificationPlan, NotificationRun, mrkdwn

__all__ = ["LOG_ALERT", "build_log_alert", "log_alert_key", "notify_log_alerts"]

LOG_ALERT = "log-alert"


def log_alert_key(alert: Mapping[str, Any]) -> str:
    """What recognises an alert across runs: service, first signal and when it fired."""
    when = alert["detected_at"]
    return f"{alert['service']} {when.isoformat()} {alert['signal']}"[:512]


def build_log_alert(alert: Mapping[str, Any], base_url: str) -> Notification:
    """Slack-compatible ``text`` + ``blocks`` (the facts under ``paytriage``), and an e-mail body."""
    when: datetime = alert["detected_at"]
    head = f"Log alert: {alert['service']}"
    pid = alert.get("problem_id")
    where = f"explains problem #{pid}" if pid is not None else "no ticket problem yet"
    text = f"{head} at {when.isoformat(timespec='minutes')} ({where})"
    lines = [
        f"First alert: {alert['first_alert']}",
        f"Alerts: {alert['alerts']}; signals: {', '.join(alert['signals'])}",
        f"Named in its lines: {', '.join(alert['examples']) or '—'}",
    ]
    link = f"{base_url}/problems/{pid}" if pid is not None else f"{base_url}/problems"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn("\n".join([text, *lines]))}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"<{link}|Open in paytriage> · {LOG_ALERT}"}],
        },
    ]
    facts = {
        "level": LOG_ALERT,
        "service": alert["service"],
        "detected_at": when.isoformat(),
        "alerts": alert["alerts"],
        "first_alert": alert["first_alert"],
        "signals": list(alert["signals"]),
        "examples": list(alert["examples"]),
        "problem_id": pid,
        "url": link,
    }
    body = "\n".join([text, "", *lines, "", f"Open: {link}"])
    return Notification(f"[paytriage] {head} ({where})", body,
                        {"text": mrkdwn(text), "blocks": blocks, "paytriage": facts})  # fmt: skip


def notify_log_alerts(
    session: Session,
    *,
    plan: NotificationPlan,
    alerts: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> NotificationRun:
    """Send each alert at most ``plan.log_alert_max_age_hours`` older than ``now`` (default: the
    newest alert, so replayed history announces its last day, not every day) not yet sent on a
    channel; remember every delivery (failed ones are tried again next run)."""
    run = NotificationRun(disabled=list(plan.disabled))
    if not plan.senders or not plan.log_alerts or not alerts:
        return run
    latest = now or max(a["detected_at"] for a in alerts)
    horizon = latest - timedelta(hours=plan.log_alert_max_age_hours)
    sent = {
        (r.title, r.channel)
        for r in session.scalars(
            select(ProblemNotificationRow).where(
                ProblemNotificationRow.level == LOG_ALERT, ProblemNotificationRow.outcome == "sent"
            )
        )
    }
    for alert in sorted(alerts, key=lambda a: a["detected_at"]):
        if alert["detected_at"] < horizon:
            continue
        key = log_alert_key(alert)
        due = [s for s in plan.senders if (key, s.name) not in sent]
        run.duplicates_skipped += len(plan.senders) - len(due)
        if not due:
            continue
        message = build_log_alert(alert, plan.base_url)
        for sender in due:
            delivery = sender.send(message)
            session.add(
                ProblemNotificationRow(
                    at=datetime.now(UTC), level=LOG_ALERT, channel=delivery.channel[:128],
                    outcome="sent" if delivery.ok else "failed", attempts=delivery.attempts, title=key,
                    case_ids=[], error=delivery.error,
                )
            )  # fmt: skip
            item = {"log_alert": key, "service": alert["service"], "level": LOG_ALERT, "channel": sender.name,
                    "attempts": delivery.attempts, "error": delivery.error}  # fmt: skip
            (run.sent if delivery.ok else run.failed).append(item)
    session.flush()
    return run
