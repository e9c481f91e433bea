"""Escalation of a stored problem: count its impact, investigate representative cases, check releases.

Everything :func:`~paytriage.engines.escalate.problem.build_problem_package` needs, read from the
database: every case and ticket of the problem; the transactions its tickets name (counted by one
query, quoted in the package); a few representative cases investigated like a single case would be
(the onset case first, then those naming transactions, worst priority first; more, up to
:data:`MAX_REPRESENTATIVES`, until two agree on the finding); and the release impact
of every release in the three days before the problem began, tested on its component's error log
rate (exact Poisson test, as in ``paytriage problems detect``). Filing in Jira records the defect and
links every case of the problem to it (``case_defects``), so the link outlives regrouping.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.connectors.jira import EscalationAction, JiraClient, TicketLink
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.log_services import DISTINCT_SERVICES
from paytriage.adapters.storage.mapping import case_from_row, ticket_from_row
from paytriage.adapters.storage.orm import (
    CaseRow,
    CaseTicketRow,
    DefectRow,
    LogEventRow,
    ProblemRow,
    ReleaseRow,
    TicketRow,
    TransactionRow,
)
from paytriage.domain import NotFoundError, Ticket, utcnow
from paytriage.domain.defect import DefectStatus
from paytriage.domain.release import Release
from paytriage.engines.escalate.attribution import canonical
from paytriage.engines.escalate.package import EscalationPackage, Subject
from paytriage.engines.escalate.problem import (
    CaseEvidence,
    ProblemFacts,
    ProblemInput,
    ReleaseSuspect,
    agreeing,
    build_problem_package,
    strongest,
)
from paytriage.engines.investigate.investigator import Investigator
from paytriage.engines.patterns.detection import CountSeries
from paytriage.engines.patterns.releases import release_impact
from paytriage.services.defects import LinkReason, link_cases
from paytriage.services.escalation import EscalationResult
from paytriage.services.investigation import case_tickets, investigate_case

__all__ = ["escalate_problem", "load_problem_input", "problem_package"]

REPRESENTATIVES = 3
#: More cases are investigated (up to this many) until two agree on the finding.
MAX_REPRESENTATIVES = 6
RELEASE_LOOKBACK = timedelta(hours=72)
TREND_DAYS = 14
_ERROR_LEVELS = ("error", "critical", "fatal", "ERROR", "CRITICAL", "FATAL")
_CLOSED = ("resolved", "closed")


def _problem_cases(session: Session, problem_id: int) -> tuple[ProblemRow, list[CaseRow]]:
    problem = session.get(ProblemRow, problem_id)
    if problem is None:
        raise NotFoundError(f"problem {problem_id} not found")
    cases = list(
        session.scalars(select(CaseRow).where(CaseRow.problem_id == problem_id).order_by(CaseRow.id))
    )
    if not cases:
        raise NotFoundError(f"problem {problem_id} has no cases")
    return problem, cases


def _tickets(session: Session, case_ids: list[int]) -> tuple[list[Ticket], dict[str, int]]:
    tickets: list[Ticket] = []
    case_of: dict[str, int] = {}
    for start in range(0, len(case_ids), 500):
        for row, cid in session.execute(
            select(TicketRow, CaseTicketRow.case_id)
            .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
            .where(CaseTicketRow.case_id.in_(case_ids[start : start + 500]))
        ):
            tickets.append(ticket_from_row(row))
            case_of[row.external_id] = cid
    tickets.sort(key=lambda t: t.created_at)
    return tickets, case_of


def _named_transactions(case: CaseRow) -> list[str]:
    ids = [
        str(e.get("value") or e.get("text"))
        for e in (case.triage or {}).get("entities", [])
        if e.get("kind") == "transaction_id" and (e.get("value") or e.get("text"))
    ]
    return ids


def _facts(
    session: Session, problem: ProblemRow, cases: list[CaseRow], tickets: list[Ticket], now: datetime
) -> tuple[ProblemFacts, dict[int, list[str]]]:
    f = ProblemFacts(
        cases=len(cases),
        priorities=Counter(c.priority for c in cases if c.priority),
        categories=Counter(c.category for c in cases if c.category),
    )
    for c in cases:
        if c.status in _CLOSED:
            continue
        f.open_cases += 1
        left = case_from_row(c).resolution_sla.remaining(now)
        f.sla_breached += left < timedelta(0)
        f.sla_due_24h += timedelta(0) <= left < timedelta(hours=24)
    named = {c.id: _named_transactions(c) for c in cases}
    ids = {i for v in named.values() for i in v}
    ids.update(
        str(t.custom_fields["transaction_id"]) for t in tickets if t.custom_fields.get("transaction_id")
    )
    merchants: set[str] = {
        str(t.custom_fields["merchant_id"]) for t in tickets if t.custom_fields.get("merchant_id")
    }
    customers: set[str] = set()
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        for merchant, customer, ccy, minor, country in session.execute(
            select(
                TransactionRow.merchant_id, TransactionRow.customer_id,
                TransactionRow.currency, TransactionRow.amount_minor, TransactionRow.country,
            ).where(TransactionRow.external_id.in_(wanted[start : start + 500]))
        ):  # fmt: skip
            f.transactions += 1
            f.money_minor_by_currency[ccy] = f.money_minor_by_currency.get(ccy, 0) + int(minor)
            if merchant:
                merchants.add(merchant)
            if customer:
                customers.add(customer)
            if country:
                f.transaction_countries[country] += 1
    f.merchants = max(len(merchants), problem.affected_merchants or 0)
    f.customers = max(len(customers), problem.affected_customers or 0)
    f.case_of_ticket = {}
    f.queries.append(
        f"SELECT count(*), count(DISTINCT merchant_id), count(DISTINCT customer_id), currency, "
        f"sum(amount_minor), country FROM transactions WHERE external_id IN (<{len(wanted)} ids named in "
        f"the {len(tickets)} tickets of problem {problem.id}>) GROUP BY currency, country"
        f" → {f.transactions} found"
    )
    f.queries.append(
        f"SELECT cases.* FROM cases WHERE problem_id = {problem.id} → {len(cases)} cases, "
        f"{f.open_cases} open, {f.sla_breached} past the resolution target as of {now:%Y-%m-%d %H:%M}Z"
    )
    return f, named


def _candidates(cases: list[CaseRow], named: dict[int, list[str]]) -> list[int]:
    """Investigation order: the onset case, then cases naming transactions, worst priority first, then
    the rest by age."""
    order = sorted(cases, key=lambda c: (not named.get(c.id), c.priority or "P9", c.created_at, c.id))
    onset = min(cases, key=lambda c: (c.created_at, c.id))
    return [onset.id, *(c.id for c in order if c.id != onset.id)]


def _daily_counts(tickets: list[Ticket]) -> list[tuple[str, int]]:
    if not tickets:
        return []
    last = max(t.created_at for t in tickets)
    first = max(min(t.created_at for t in tickets), last - timedelta(days=TREND_DAYS - 1))
    days = (last.date() - first.date()).days + 1
    counts = Counter(f"{t.created_at:%Y-%m-%d}" for t in tickets)
    span = [f"{last - timedelta(days=i):%Y-%m-%d}" for i in range(max(days, 2) - 1, -1, -1)]
    return [(d, counts.get(d, 0)) for d in span]


#: The distinct log services as one seek per service (see :mod:`~paytriage.adapters.storage.log_services`).
_DISTINCT_SERVICES = DISTINCT_SERVICES


def _service_names(session: Session, component: str) -> list[str]:
    """Log services of a release component: itself, its loggers (``c.p.kyc.UploadController`` for
    ``kyc-service``) and numbered instances (``webhook-dispatcher-2``)."""
    names = session.scalars(_DISTINCT_SERVICES).all()
    return sorted(s for s in names if s and (s == component or canonical(s, [component]) != s))


def _release_suspects(
    session: Session, problem: ProblemRow, *, alpha: float = 0.01
) -> tuple[list[ReleaseSuspect], str, list[str]]:
    """Releases in the 72 h before the onset after which their component's error log rate rose."""
    onset = problem.first_seen
    lo = onset - RELEASE_LOOKBACK
    rels = session.scalars(
        select(ReleaseRow).where(ReleaseRow.released_at >= lo, ReleaseRow.released_at <= onset)
    ).all()
    queries = [
        f"SELECT * FROM releases WHERE released_at BETWEEN '{lo:%Y-%m-%d %H:%M}Z' AND the onset → {len(rels)}"
    ]
    found: list[ReleaseSuspect] = []
    for rel in rels:
        services = _service_names(session, rel.component)
        if not services:
            continue
        start = (rel.released_at - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=49)
        stamps = session.scalars(
            select(LogEventRow.timestamp).where(
                LogEventRow.service.in_(services),
                LogEventRow.level.in_(_ERROR_LEVELS),
                LogEventRow.timestamp >= start,
                LogEventRow.timestamp < end,
            )
        ).all()
        counts = np.zeros(49)
        for ts in stamps:
            counts[int((ts - start) // timedelta(hours=1))] += 1
        signal = f"error log lines of {'/'.join(services)}"
        series = CountSeries(signal, start, counts, component=rel.component)
        queries.append(
            f"SELECT timestamp FROM log_events WHERE service IN ({', '.join(services)}) AND level IN "
            f"(error, critical) AND timestamp within 24 h of {rel.component} {rel.version} → {len(stamps)}"
        )
        reports = release_impact(
            [Release(rel.component, rel.version, rel.released_at)], [series], alpha=alpha
        )
        found += [
            ReleaseSuspect(
                rel.component,
                rel.version,
                rel.released_at,
                ch.signal,
                ch.before,
                ch.after,
                ch.rate_ratio,
                ch.p_value,
            )
            for report in reports
            for ch in report.changes
            if ch.significant and ch.after > ch.before
        ]
    checked = (
        f"none found: {len(rels)} release(s) between {lo:%Y-%m-%d %H:%M}Z and the onset "
        f"{onset:%Y-%m-%d %H:%M}Z, none followed by a significant rise of its component's errors"
    )
    return found, checked, queries


def load_problem_input(
    session: Session,
    problem_id: int,
    *,
    investigator: Investigator,
    now: datetime | None = None,
    representatives: int = REPRESENTATIVES,
    replay_base_url: str | None = None,
) -> ProblemInput:
    """Everything the problem package needs (read-only)."""
    problem, cases = _problem_cases(session, problem_id)
    tickets, case_of = _tickets(session, [c.id for c in cases])
    when = now or utcnow()
    facts, named = _facts(session, problem, cases, tickets, when)
    facts.case_of_ticket = case_of
    cats = Counter(c.category for c in cases if c.category)
    category = cats.most_common(1)[0][0] if cats else None
    reps: list[CaseEvidence] = []
    for cid in _candidates(cases, named):
        if len(reps) >= representatives and (
            len(agreeing(reps, strongest(reps, category))) >= min(2, representatives)
            or len(reps) >= MAX_REPRESENTATIVES
        ):
            break
        rep_tickets = case_tickets(session, cid)
        if not rep_tickets:
            continue
        inv = investigate_case(session, cid, investigator=investigator, replay_base_url=replay_base_url)
        row = session.get(CaseRow, cid)
        reps.append(CaseEvidence(cid, rep_tickets, inv, row.triage if row else None))
    releases, checked, queries = _release_suspects(session, problem)
    facts.queries.extend(queries)
    known = sorted(set(session.scalars(select(ReleaseRow.component).distinct())))
    return ProblemInput(
        subject=Subject(
            kind="problem",
            id=problem.id,
            title=problem.title,
            created_at=problem.first_seen,
            status=problem.status,
            category=category,
        ),
        tickets=tickets,
        facts=facts,
        now=when,
        representatives=reps,
        daily_counts=_daily_counts(tickets),
        releases=releases,
        releases_checked=checked,
        known_components=known,
    )


def problem_package(
    session: Session, problem_id: int, *, investigator: Investigator, now: datetime | None = None
) -> EscalationPackage:
    return build_problem_package(load_problem_input(session, problem_id, investigator=investigator, now=now))


def escalate_problem(
    db: Database,
    problem_id: int,
    *,
    investigator: Investigator,
    jira: JiraClient | None = None,
    dry_run: bool = False,
    ticket_url: str | None = None,
    now: datetime | None = None,
) -> EscalationResult:
    """Build the problem's package; with ``jira`` file it (or comment on its duplicate) and link every
    case of the problem to the recorded defect."""
    with db.session() as s:
        package = problem_package(s, problem_id, investigator=investigator, now=now)
        if jira is None:
            return EscalationResult(package)
        rows: list[dict[str, Any]] = package.sections["related_tickets"].value or []
        links = (
            [TicketLink(url=ticket_url.format(id=r["ticket"]), title=str(r["ticket"])) for r in rows]
            if ticket_url
            else []
        )
        outcome = jira.escalate(package.to_dict(), tickets=links, dry_run=dry_run)
        if dry_run or outcome.action == EscalationAction.DRY_RUN:
            return EscalationResult(package, outcome)
        at = now or utcnow()
        defect = None
        if outcome.key:
            defect = s.scalars(select(DefectRow).where(DefectRow.external_key == outcome.key)).first()
        if defect is None:
            defect = DefectRow(
                title=package.title, status=DefectStatus.OPEN.value, created_at=at, external_key=outcome.key,
                external_url=outcome.url, component=package.sections["suspected_component"].value,
            )  # fmt: skip
            s.add(defect)
            s.flush()
        problem = s.get(ProblemRow, problem_id)
        if problem is not None and problem.defect_id is None:
            problem.defect_id = defect.id
        case_ids = s.scalars(select(CaseRow.id).where(CaseRow.problem_id == problem_id)).all()
        link_cases(s, defect.id, case_ids, reason=LinkReason.ESCALATED, now=at)
        s.commit()
        return EscalationResult(package, outcome, defect.id)
