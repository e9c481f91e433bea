"""Investigation of stored cases, and the log-template pass that makes template rates an index lookup.

``assign_log_templates`` mines every log event still without a ``template_id`` (in id order, so
ids are stable and incremental) and stores the miner's state next to the database; investigations
then count a template's events in any window through ``ix_log_events_template_time``. Without it
an investigation still works, mining the windows it looks at on the fly (slower, bounded).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, update
from sqlalchemy.orm import Session

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.evidence import SqlEvidence
from paytriage.adapters.storage.mapping import ticket_from_row
from paytriage.adapters.storage.orm import CaseRow, CaseTicketRow, LogEventRow, TicketRow
from paytriage.domain import NotFoundError, Ticket
from paytriage.engines.investigate.correlation import stored_template_id
from paytriage.engines.investigate.investigator import Investigation, Investigator
from paytriage.engines.investigate.replay import replay
from paytriage.engines.logmining import TemplateMiner

__all__ = ["assign_log_templates", "case_tickets", "investigate_case", "load_miner"]


def load_miner(path: Path | None) -> TemplateMiner | None:
    """The saved template miner, or None when there is none yet."""
    if path is None or not path.exists():
        return None
    return TemplateMiner.load(path)


def case_tickets(session: Session, case_id: int) -> list[Ticket]:
    if session.get(CaseRow, case_id) is None:
        raise NotFoundError(f"case {case_id} not found")
    rows = session.scalars(
        select(TicketRow)
        .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
        .where(CaseTicketRow.case_id == case_id)
        .order_by(TicketRow.created_at)
    ).all()
    return [ticket_from_row(r) for r in rows]


def investigate_case(
    session: Session,
    case_id: int,
    *,
    investigator: Investigator,
    as_of: datetime | None = None,
    replay_base_url: str | None = None,
    replay_auth: str | None = None,
) -> Investigation:
    """Investigate one stored case (read-only). ``as_of`` defaults to the newest ticket's time.

    With ``replay_base_url`` the request found in the tickets (or the gateway log) is replayed
    against that sandbox and its answer diffed with the response the ticket quotes.
    """
    tickets = case_tickets(session, case_id)
    if not tickets:
        raise NotFoundError(f"case {case_id} has no tickets")
    inv = investigator.investigate(tickets, SqlEvidence(session), as_of=as_of, case_id=case_id)
    if replay_base_url and inv.request is not None:
        inv.replay = replay(
            inv.request, base_url=replay_base_url, expected=inv.expected, auth_header=replay_auth
        )
    elif replay_base_url:
        inv.notes.append("no request to replay: none pasted in the tickets or logged by the gateway")
    return inv


def assign_log_templates(
    db: Database,
    *,
    state_path: Path,
    batch_size: int = 20000,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Give every log event without one a ``template_id`` (``E<n>``, ``E<n>/<HTTP status>`` when it has
    one); returns how many were assigned.

    The miner state at ``state_path`` is loaded when present and saved after the pass, so later
    ingests continue the same template ids. Ingest may call this after writing logs.
    """
    miner = load_miner(state_path) or TemplateMiner()
    assigned = 0
    last_id = 0
    with db.session() as s:
        while True:
            rows = s.execute(
                select(LogEventRow.id, LogEventRow.message, LogEventRow.http_status)
                .where(LogEventRow.template_id.is_(None), LogEventRow.id > last_id)
                .order_by(LogEventRow.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            values = [
                {"row_id": rid, "tid": stored_template_id(miner.add_line(msg), status)}
                for rid, msg, status in rows
            ]
            s.connection().execute(
                update(LogEventRow.__table__)  # type: ignore[arg-type]
                .where(LogEventRow.__table__.c.id == _bind("row_id"))
                .values(template_id=_bind("tid")),
                values,
            )
            s.commit()
            last_id = rows[-1][0]
            assigned += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
    state_path.parent.mkdir(parents=True, exist_ok=True)
    miner.save(state_path)
    return assigned


def _bind(name: str) -> BindParameter[Any]:
    return bindparam(name)
