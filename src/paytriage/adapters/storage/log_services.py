"""The log services stored, and when each began logging, by index seeks rather than table scans.

``SELECT DISTINCT service`` or ``GROUP BY service`` read every row of ``log_events`` (seconds at ten
million events); a recursive "loose index scan" on ``ix_log_events_service_time`` costs one seek per
service, and each service's first line is one more seek on the same index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain.clock import ensure_utc

__all__ = ["DISTINCT_SERVICES", "service_first_seen"]

DISTINCT_SERVICES = text(
    "WITH RECURSIVE svc(name) AS ("
    " SELECT MIN(service) FROM log_events"
    " UNION ALL"
    " SELECT (SELECT MIN(l.service) FROM log_events l WHERE l.service > svc.name) FROM svc"
    " WHERE svc.name IS NOT NULL"
    ") SELECT name FROM svc WHERE name IS NOT NULL"
)


def service_first_seen(session: Session) -> dict[str, datetime]:
    """Each log service and the time of its first stored line, at any level."""
    out: dict[str, datetime] = {}
    for name in session.scalars(DISTINCT_SERVICES).all():
        first = session.scalar(select(func.min(LogEventRow.timestamp)).where(LogEventRow.service == name))
        if name and first is not None:
            out[name] = ensure_utc(first)
    return out
