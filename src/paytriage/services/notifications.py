"""Tell people about new and escalating problems, once per problem and level, on every channel.

A problem is *new* when it first reaches an announced status (``confirmed`` by default) with at
least ``min_cases`` cases; it is *escalating* each time it reaches ``growth_factor``ⁿ times the
size it had when first announced. What was sent is stored (``problem_notifications``) with the
problem's member cases, because problem ids change on every ``detect_problems`` re-run; a
problem is recognised again by the cases it holds (see ``problem_feedback.match_problem``).
Failed deliveries are stored too but do not count, so the next run tries again.

Configuration is data (``config/notifications.yaml``); secrets come from ``PAYTRIAGE_*``
environment variables named in it and never appear in output or logs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.notify import Delivery, EmailSender, Notification, Sender, WebhookSender
from paytriage.adapters.storage.orm import ProblemNotificationRow, ProblemRow
from paytriage.domain import ConfigurationError, ProblemStatus
from paytriage.services.problem_catalog import ProblemDetail, get_problem, members_by_problem
from paytriage.services.problem_feedback import match_problem

__all__ = [
    "DEFAULT_NOTIFICATIONS",
    "NotificationPlan",
    "NotificationRun",
    "build_notification",
    "level_for",
    "load_notifications",
    "mrkdwn",
    "notify_problems",
]

DEFAULT_NOTIFICATIONS = Path(__file__).resolve().parent.parent / "config" / "notifications.yaml"
NEW = "new"


@dataclass(slots=True)
class NotificationPlan:
    """Rules plus the channels that are configured; ``disabled`` says why others are not."""

    senders: list[Sender]
    min_cases: int = 3
    notify_statuses: tuple[ProblemStatus, ...] = (ProblemStatus.CONFIRMED,)
    growth_factor: float = 2.0
    base_url: str = "http://127.0.0.1:8000"
    disabled: list[str] = field(default_factory=list)
    #: also announce log alerts (raised from logs, often before any ticket): see log_alert_notices
    log_alerts: bool = True
    #: only log alerts this recent (before the newest one) are announced, so turning notifications on
    #: over months of history does not send months of alerts
    log_alert_max_age_hours: float = 24.0


@dataclass(slots=True)
class NotificationRun:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    duplicates_skipped: int = 0
    disabled: list[str] = field(default_factory=list)


def _env(entry: Mapping[str, Any], key: str, env: Mapping[str, str]) -> str | None:
    """``key`` given inline, or through ``key_env`` naming an environment variable."""
    if entry.get(key) not in (None, ""):
        return str(entry[key])
    name = entry.get(f"{key}_env")
    if name is None:
        return None
    if not str(name).startswith("PAYTRIAGE_"):
        raise ConfigurationError(f"{key}_env: secrets come from PAYTRIAGE_* variables, not {name!r}")
    return env.get(str(name)) or None


def _number(entry: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigurationError(f"{where}: {key} must be a non-negative number")
    return float(value)


def _webhook(entry: Mapping[str, Any], env: Mapping[str, str], i: int) -> Sender | str:
    name = str(entry.get("name") or f"webhook-{i + 1}")
    where = f"webhooks[{i}] ({name})"
    url = _env(entry, "url", env)
    if url is None:
        return f"{name}: {entry.get('url_env', 'url')} is not set"
    return WebhookSender(
        name=name,
        url=url,
        timeout_s=_number(entry, "timeout_s", 5, where),
        retries=int(_number(entry, "retries", 3, where)),
        backoff_s=_number(entry, "backoff_s", 0.5, where),
    )


def _email(entry: Mapping[str, Any], env: Mapping[str, str], i: int) -> Sender | str:
    name = str(entry.get("name") or f"email-{i + 1}")
    where = f"email[{i}] ({name})"
    host = _env(entry, "host", env)
    if host is None:
        return f"{name}: {entry.get('host_env', 'host')} is not set"
    to = entry.get("to") or []
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list):
        raise ConfigurationError(f"{where}: to must be a list of addresses")
    return EmailSender(
        name=name,
        host=host,
        port=int(_number(entry, "port", 587, where)),
        sender=str(entry.get("sender") or ""),
        to=tuple(str(a) for a in to),
        starttls=bool(entry.get("starttls", True)),
        implicit_tls=bool(entry.get("implicit_tls", False)),
        username=_env(entry, "username", env),
        password=_env(entry, "password", env),
        timeout_s=_number(entry, "timeout_s", 10, where),
        retries=int(_number(entry, "retries", 3, where)),
        backoff_s=_number(entry, "backoff_s", 0.5, where),
    )


def load_notifications(path: Path | None = None, *, env: Mapping[str, str] | None = None) -> NotificationPlan:
    """Read the YAML; build the channels whose settings (and secrets) are present."""
    path = path or DEFAULT_NOTIFICATIONS
    env = os.environ if env is None else env
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read notifications config: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{path}: expected a mapping at the top level")
    try:
        statuses = tuple(ProblemStatus(s) for s in doc.get("notify_statuses", ["confirmed"]))
    except ValueError as exc:
        raise ConfigurationError(f"{path}: notify_statuses: {exc}") from exc
    if ProblemStatus.REJECTED in statuses:
        raise ConfigurationError(f"{path}: notify_statuses: rejected problems are never announced")
    factor = _number(doc, "growth_factor", 2.0, str(path))
    if factor <= 1:
        raise ConfigurationError(f"{path}: growth_factor must be greater than 1")
    plan = NotificationPlan(
        senders=[],
        min_cases=int(_number(doc, "min_cases", 3, str(path))),
        notify_statuses=statuses,
        growth_factor=factor,
        base_url=str(doc.get("base_url") or "http://127.0.0.1:8000").rstrip("/"),
    )
    logs = doc.get("log_alerts", {})
    if not isinstance(logs, dict):
        raise ConfigurationError(f"{path}: log_alerts must be a mapping (enabled, max_age_hours)")
    plan.log_alerts = bool(logs.get("enabled", True))
    plan.log_alert_max_age_hours = _number(logs, "max_age_hours", 24.0, f"{path}: log_alerts")
    for key, build in (("webhooks", _webhook), ("email", _email)):
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            raise ConfigurationError(f"{path}: {key} must be a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigurationError(f"{path}: {key}[{i}] must be a mapping")
            made = build(entry, env, i)
            if isinstance(made, str):
                plan.disabled.append(made)
            else:
                plan.senders.append(made)
    return plan


def level_for(size: int, baseline: int, factor: float) -> str:
    """``new`` below ``factor`` × baseline, then ``grew-x2``, ``grew-x4``, … (for factor 2)."""
    if baseline <= 0 or size < baseline * factor:
        return NEW
    k = math.floor(math.log(size / baseline) / math.log(factor) + 1e-9)
    return f"grew-x{factor**k:g}"


def mrkdwn(text: str) -> str:
    """Text safe inside Slack mrkdwn: no ``<!channel>`` mention or ``<url|link>`` can be smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_notification(detail: ProblemDetail, level: str, base_url: str) -> Notification:
    """Slack-compatible ``text`` + ``blocks`` (and the facts as ``paytriage``), and an e-mail body."""
    p = detail.problem
    head = "New problem" if level == NEW else f"Escalating problem ({level.removeprefix('grew-')})"
    link = f"{base_url}/problems/{p.id}"
    money = ", ".join(f"{c} {v / 100:,.2f}" for c, v in p.money_minor_by_currency.items()) or "none recorded"
    facts = [
        ("Cases", str(p.cases)),
        ("Customers", str(p.affected_customers)),
        ("Merchants", str(p.affected_merchants)),
        ("Transactions", str(p.affected_transactions)),
        ("Money", money),
        ("Trend", f"{detail.trend.value} (×{detail.trend_ratio})"),
        ("First seen", p.first_seen.isoformat(timespec="minutes")),
        ("Last seen", p.last_seen.isoformat(timespec="minutes")),
    ]
    shared = ", ".join(f"{e['kind']} {e['value']} ({e['cases']})" for e in detail.shared_entities[:5])
    why = [
        f"Top terms: {', '.join(detail.top_terms[:8]) or '—'}",
        f"Shared: {shared or '—'}",
        f"Suspected root cause: {detail.suspected_root_cause or 'not yet known'}",
    ]
    reach = f"{p.cases} cases, {p.affected_customers} customers, {p.affected_merchants} merchants"
    text = f"{head}: {p.title} — {reach}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{head}: {p.title}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{mrkdwn(v)}"} for k, v in facts]},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn("\n".join(why))}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"<{link}|Open problem #{p.id}> · {level}"}],
        },
    ]
    facts_json = {
        "level": level,
        "problem_id": p.id,
        "title": p.title,
        "status": p.status.value,
        "url": link,
        "cases": p.cases,
        "affected_customers": p.affected_customers,
        "affected_merchants": p.affected_merchants,
        "affected_transactions": p.affected_transactions,
        "money_minor_by_currency": p.money_minor_by_currency,
        "first_seen": p.first_seen.isoformat(),
        "last_seen": p.last_seen.isoformat(),
        "trend": detail.trend.value,
        "top_terms": detail.top_terms,
        "shared_entities": detail.shared_entities,
        "suspected_root_cause": detail.suspected_root_cause,
        "example_tickets": [e["ticket"] for e in detail.examples],
    }
    body = "\n".join([text, "", *(f"{k}: {v}" for k, v in facts), "", *why, "", f"Open: {link}"])
    subject = f"[paytriage] {head}: {p.title} ({p.cases} cases)"
    # e-mail reads ``text`` (the long body); webhooks post ``payload``, whose short ``text`` wins
    # Slack reads ``text`` as mrkdwn: a title like "<!channel>" must not page everyone
    return Notification(subject, body, {"text": mrkdwn(text), "blocks": blocks, "paytriage": facts_json})


@dataclass(slots=True)
class _History:
    baseline: int = 0
    sent: set[tuple[str, str]] = field(default_factory=set)


def _history(session: Session, members: dict[int, list[int]]) -> dict[int, _History]:
    out: dict[int, _History] = {}
    rows = session.scalars(
        select(ProblemNotificationRow)
        .where(ProblemNotificationRow.outcome == "sent")
        .order_by(ProblemNotificationRow.at, ProblemNotificationRow.id)
    )
    for rec in rows:
        pid = match_problem(members, rec.case_ids)
        if pid is None:
            continue
        h = out.setdefault(pid, _History())
        if not h.baseline:
            h.baseline = len(rec.case_ids)
        h.sent.add((rec.level, rec.channel))
    return out


def notify_problems(
    session: Session, *, plan: NotificationPlan, now: datetime | None = None
) -> NotificationRun:
    """Send what is due for every announced, non-rejected problem; remember every delivery."""
    run = NotificationRun(disabled=list(plan.disabled))
    if not plan.senders:
        return run
    members = members_by_problem(session)
    history = _history(session, members)
    statuses = [s.value for s in plan.notify_statuses]
    for row in session.scalars(
        select(ProblemRow).where(ProblemRow.status.in_(statuses)).order_by(ProblemRow.id)
    ):
        cases = members.get(row.id, [])
        if len(cases) < max(1, plan.min_cases):
            continue
        h = history.get(row.id, _History())
        level = level_for(len(cases), h.baseline, plan.growth_factor) if h.baseline else NEW
        due = [s for s in plan.senders if (level, s.name) not in h.sent]
        run.duplicates_skipped += len(plan.senders) - len(due)
        if not due:
            continue
        message = build_notification(get_problem(session, row.id, now=now), level, plan.base_url)
        for sender in due:
            delivery = sender.send(message)
            _record(session, row, cases, level, delivery)
            item = {"problem_id": row.id, "title": row.title, "level": level, "channel": sender.name,
                    "attempts": delivery.attempts, "error": delivery.error}  # fmt: skip
            (run.sent if delivery.ok else run.failed).append(item)
    session.flush()
    return run


def _record(session: Session, row: ProblemRow, cases: Sequence[int], level: str, d: Delivery) -> None:
    session.add(
        ProblemNotificationRow(
            at=datetime.now(UTC),
            level=level,
            channel=d.channel[:128],
            outcome="sent" if d.ok else "failed",
            attempts=d.attempts,
            title=row.title[:512],
            case_ids=list(cases),
            error=d.error,
        )
    )
