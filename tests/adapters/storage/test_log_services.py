"""Each log service's first line by index seeks equals GROUP BY over the table, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from paytriage.adapters.storage.batch import write_logs
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.log_services import service_first_seen
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain import LogEvent, LogLevel
from paytriage.domain.clock import ensure_utc

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_first_line_per_service_matches_group_by(db: Database) -> None:
    names = ["payouts", "kyc-service", None, "payouts", "gateway"]
    levels = [LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR, LogLevel.DEBUG]
    events = [
        LogEvent(
            timestamp=T0 + timedelta(minutes=37 * ((i * 7) % 23)),  # not in insertion order
            service=svc,
            level=levels[i % len(levels)],
            message=f"line {i}",
        )
        for i, svc in enumerate(names * 5)
    ]
    with db.session() as s:
        write_logs(s, events)
        s.flush()
        grouped = s.execute(
            select(LogEventRow.service, func.min(LogEventRow.timestamp))
            .where(LogEventRow.service.is_not(None))
            .group_by(LogEventRow.service)
        ).all()
        assert service_first_seen(s) == {name: ensure_utc(first) for name, first in grouped}
        assert set(service_first_seen(s)) == {"payouts", "kyc-service", "gateway"}


def test_no_log_events_no_services(db: Database) -> None:
    with db.session() as s:
        assert service_first_seen(s) == {}
