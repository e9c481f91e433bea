"""The distinct log services, read as one index seek per service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from paytriage.adapters.storage.batch import write_logs
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain import LogEvent, LogLevel
from paytriage.services.problem_escalation import _DISTINCT_SERVICES, _service_names

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_distinct_services_match_select_distinct(db: Database) -> None:
    names = ["kyc-service", "c.p.kyc.UploadController", None, "webhook-dispatcher-2", "kyc-service", "api"]
    events = [
        LogEvent(timestamp=T0 + timedelta(seconds=i), service=svc, level=LogLevel.ERROR, message=f"line {i}")
        for i, svc in enumerate(names * 3)
    ]
    with db.session() as s:
        write_logs(s, events)
        s.flush()
        expected = sorted(n for n in s.scalars(select(LogEventRow.service).distinct()) if n)
        assert sorted(s.scalars(_DISTINCT_SERVICES)) == expected
        assert _service_names(s, "kyc-service") == ["c.p.kyc.UploadController", "kyc-service"]


def test_no_log_events_no_services(db: Database) -> None:
    with db.session() as s:
        assert list(s.scalars(_DISTINCT_SERVICES)) == []
