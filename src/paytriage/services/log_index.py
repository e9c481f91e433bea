"""Re-index stored log events: the ids their text names into the id columns, and their template ids.

Ingest does both for new lines; this brings rows stored by an earlier version (or by a writer that
skipped it) up to date, so investigations find them by index seeks instead of scans. It walks the
table in id order, a batch at a time (bounded memory, resumable: a row once filled is not touched
again), and only ever fills empty columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain import LogLevel
from paytriage.engines.logmining.fields import extract_fields
from paytriage.services.investigation import assign_log_templates

__all__ = ["ReindexReport", "reindex_logs"]

_ID_COLUMNS = ("transaction_id", "request_id", "merchant_id", "customer_id")


@dataclass(slots=True)
class ReindexReport:
    scanned: int = 0
    ids_filled: int = 0
    levels_fixed: int = 0
    templates_assigned: int = 0


def reindex_logs(
    db: Database,
    *,
    templates: Path | None,
    batch_size: int = 20000,
    on_progress: Callable[[int], None] | None = None,
) -> ReindexReport:
    """Fill empty id columns from each message (and a ``level=`` the stored level missed); then, with
    ``templates`` (the miner state file), give rows without a template id theirs."""
    report = ReindexReport()
    t = LogEventRow.__table__  # the Core table: bulk updates by id, no ORM objects
    last_id = 0
    with db.session() as s:
        while True:
            rows = s.execute(
                select(t.c.id, t.c.message, t.c.level, *(t.c[c] for c in _ID_COLUMNS))
                .where(t.c.id > last_id)
                .order_by(t.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            changes: list[dict[str, Any]] = []
            for row in rows:
                found = extract_fields(row.message)
                values = {c: getattr(row, c) or getattr(found, c) for c in _ID_COLUMNS}
                level = row.level
                if found.level is not None and row.level == LogLevel.INFO.value:
                    level = LogLevel.parse(found.level).value
                filled = sum(1 for c in _ID_COLUMNS if values[c] != getattr(row, c))
                if filled or level != row.level:
                    report.ids_filled += filled
                    report.levels_fixed += level != row.level
                    changes.append(
                        {"row_id": row.id, "new_level": level, **{f"new_{c}": values[c] for c in values}}
                    )
            if changes:
                s.connection().execute(
                    update(t)  # type: ignore[arg-type]
                    .where(t.c.id == bindparam("row_id"))
                    .values(level=bindparam("new_level"), **{c: bindparam(f"new_{c}") for c in _ID_COLUMNS}),
                    changes,
                )
                s.commit()
            last_id = rows[-1].id
            report.scanned += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
    if templates is not None:
        report.templates_assigned = assign_log_templates(db, state_path=templates)
    return report
