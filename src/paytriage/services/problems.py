"""Problems over the stored queue: group triaged cases into problems as they arrived, flag systemic ones.

Replays cases in arrival order through the incremental :class:`ProblemGrouper` and the
:class:`SystemicTracker`, so the moment a problem is recognised is the moment it would have been
recognised live. A problem is *systemic* once tickets from ``min_customers`` different customers
sharing a specific key (BIN, response code, plugin version, bank, acquirer, file type, or a country or
currency within a category, or one text group) arrive far above that key's own seasonal baseline;
its detection time is the arrival of the ticket that crossed that line (a line drawn lower for signals
an active log alert corroborates, see :class:`SystemicTracker`). Grouping keys come from the
ticket text and from what the stored transactions already say (card BIN, response code, bank, acquirer,
country, currency, plugin).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.log_services import service_first_seen
from paytriage.adapters.storage.mapping import ticket_from_row
from paytriage.adapters.storage.orm import (
    CaseDefectRow,
    CaseRow,
    LogAlertRow,
    LogEventRow,
    ProblemRow,
    TicketRow,
    TransactionRow,
)
from paytriage.domain import ProblemStatus, Ticket
from paytriage.domain.clock import ensure_utc
from paytriage.engines.investigate.codes import CodeBook
from paytriage.engines.patterns.bursts import KeyBurstDetector
from paytriage.engines.patterns.features import features_from_ticket, with_intents
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import (
    LogIncident,
    LogLine,
    LogSignalDetector,
    first_link,
    key_tokens,
    line_values,
    token_weights,
)
from paytriage.engines.patterns.problem_state import ProblemState
from paytriage.engines.patterns.systemic import SystemicTracker
from paytriage.engines.patterns.value_aliases import ValueAliases

__all__ = ["DetectedProblem", "ProblemRun", "detect_problems", "log_incidents"]

#: Levels never alerted on; everything else (and any HTTP status >= 400) feeds the log signals.
_QUIET_LEVELS = ("info", "debug", "trace", "notice")

_ID_ENTITY_KINDS = {"transaction_id"}


@dataclass(slots=True)
class DetectedProblem:
    """A problem that crossed the systemic line: when, with which tickets (external ids)."""

    problem_id: int
    detected_at: datetime
    title: str
    ticket_ids: list[str]
    case_ids: list[int]
    row_id: int | None = None
    #: the burst signals that made it systemic, first one first, e.g. ``["bin:465901", "error:91"]``
    signals: list[str] = field(default_factory=list)
    #: the first burst's evidence in words ("5 customers in 1 h where 0.04 expected, p=2e-09")
    evidence: str = ""
    #: when the logs alone had raised the log incident that explains it (None: no log evidence)
    log_detected_at: datetime | None = None
    log_signals: list[str] = field(default_factory=list)
    #: the service whose log incident explains it, and that incident's alerts in words
    log_service: str | None = None
    log_evidence: list[str] = field(default_factory=list)
    log_incident: LogIncident | None = None


@dataclass(slots=True)
class ProblemRun:
    cases: int = 0
    problems: int = 0
    systemic: list[DetectedProblem] = field(default_factory=list)
    #: ticket external id → problem id (only for tickets in systemic problems)
    attribution: dict[str, int] = field(default_factory=dict)
    #: candidate problems raised from logs alone (linked to a systemic problem or not)
    log_incidents: list[LogIncident] = field(default_factory=list)


def _transaction_keys(session: Session, ids: Iterable[str]) -> dict[str, dict[str, str]]:
    wanted = sorted({i for i in ids if i})
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in session.execute(
            select(
                TransactionRow.external_id,
                TransactionRow.card_bin,
                TransactionRow.response_code,
                TransactionRow.processor,
                TransactionRow.country,
                TransactionRow.currency,
                TransactionRow.attributes,
            ).where(TransactionRow.external_id.in_(chunk))
        ):
            attrs = row.attributes if isinstance(row.attributes, dict) else {}
            keys = {
                "bin": row.card_bin,
                "error": _failure_code(row.response_code),
                # the counterparty that matters: a partner bank for transfers, top-ups and
                # payouts, else the acquirer the card payment went through
                "bank": attrs.get("partner_bank"),
                "processor": None if attrs.get("partner_bank") else row.processor,
                "country": row.country,
                "currency": row.currency,
                "plugin": _plugin(attrs.get("integration")),
            }
            out[row.external_id] = {k: str(v) for k, v in keys.items() if v}
    return out


def _failure_code(code: object) -> str | None:
    """A transaction's response code as an error key, unless the code book says nothing went wrong
    (ISO 8583 ``00`` approved, ``85`` no reason to decline): every approved payment of a busy hour
    shares it, so it would tie any two incidents whose tickets name card payments."""
    text = str(code or "").strip()
    if not text:
        return None
    info = CodeBook.load().get(text)
    return None if info is not None and not info.fixable_by else text


def _plugin(value: object) -> str | None:
    """``name/1.2.3`` or ``name 1.2.3`` → ``name@1.2.3``."""
    if not isinstance(value, str) or not value.strip():
        return None
    name, _, version = value.strip().replace("/", " ").partition(" ")
    return f"{name}@{version.strip()}" if version.strip() else name


def _ticket_transactions(ticket: Ticket, triage: dict[str, Any] | None) -> list[str]:
    ids = [
        str(e.get("value") or e.get("text"))
        for e in (triage or {}).get("entities", [])
        if e.get("kind") in _ID_ENTITY_KINDS
    ]
    cf = ticket.custom_fields.get("transaction_id")
    if cf:
        ids.append(str(cf))
    return ids


def _stored_entities(triage: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The entities triage stored with the case (reused: extracting again is most of the cost)."""
    ents = (triage or {}).get("entities")
    return ents if isinstance(ents, list) else None


def _extra_keys(ticket: Ticket, txn_keys: list[dict[str, str]]) -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {}
    for keys in txn_keys:
        for kind, value in keys.items():
            extra.setdefault(kind, []).append(value)
    plugin = _plugin(ticket.custom_fields.get("integration"))
    if plugin:
        extra.setdefault("plugin", []).append(plugin)
    for kind, field_name in (("merchant", "merchant_id"), ("country", "country")):
        field_value = ticket.custom_fields.get(field_name)
        if isinstance(field_value, str) and field_value:
            extra.setdefault(kind, []).append(field_value)
    return extra


def detect_problems(
    db: Database,
    *,
    grouper: ProblemGrouper | None = None,
    tracker: SystemicTracker | None = None,
    min_tickets: int = 3,
    min_customers: int = 3,
    alpha: float = 1e-6,
    batch_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
    logs: LogSignalDetector | None = None,
    log_lead_hours: float = 3.0,
    min_log_link: float = 1.5,
    intents: Any | None = None,
) -> ProblemRun:
    """Regroup every triaged case and store the problems (replacing those not linked to a defect).

    ``tracker`` (default: a :class:`SystemicTracker` over ``grouper`` with ``min_tickets`` and a
    burst detector needing ``min_customers`` at level ``alpha``) decides which problems are
    systemic. Log incidents (``logs``, default :class:`LogSignalDetector`) detected from
    ``log_lead_hours`` before the onset of a systemic problem's surge (the first ticket of the
    burst that made it systemic, not its first member, which may be an unrelated ticket from days
    before) until its detection, sharing
    identifiers, values or words with it worth at least ``min_log_link`` (each counted by its
    specificity, see :func:`~paytriage.engines.patterns.log_signals.link_weight`), give it a log
    detection time. The defaults (3 h, 1.5) were chosen on sandbox seeds 5, 7, 11, 13 (12 h and 2.0
    linked 3 of 33 problems to alerts from before their incident began) and confirmed on seeds 17
    and 23: 18 links, none before its incident (12 h / 2.0: 16, 2 wrong); see docs/patterns.md.
    ``intents``: a text clusterer fitted on past tickets; each ticket then carries its intent group
    as a key (:func:`~paytriage.engines.patterns.features.with_intents`)."""
    tracker = tracker or SystemicTracker(
        grouper=grouper or ProblemGrouper(),
        detector=KeyBurstDetector(min_customers=min_customers, alpha=alpha),
        min_tickets=min_tickets,
    )
    tracker.reset()
    grouper = tracker.grouper_
    run = ProblemRun()
    with db.session() as session:
        # log incidents first: each corroborates tickets only from the moment it was detected
        run.log_incidents = log_incidents(session, logs or LogSignalDetector())
    tracker.use_logs(run.log_incidents)
    case_of: dict[str, int] = {}
    external_of: dict[str, str] = {}
    detected: dict[int, DetectedProblem] = {}
    with db.session() as session:
        last_id = 0
        while True:
            cases = list(
                session.scalars(
                    select(CaseRow)
                    .options(selectinload(CaseRow.tickets))
                    .where(CaseRow.triage.is_not(None), CaseRow.id > last_id)
                    .order_by(CaseRow.id)
                    .limit(batch_size)
                )
            )
            if not cases:
                break
            last_id = cases[-1].id
            firsts = {c.id: min(ct.ticket_id for ct in c.tickets) for c in cases if c.tickets}
            rows = {
                r.id: r for r in session.scalars(select(TicketRow).where(TicketRow.id.in_(firsts.values())))
            }
            pairs = [(c, ticket_from_row(rows[firsts[c.id]])) for c in cases if c.id in firsts]
            txn_ids = {c.id: _ticket_transactions(t, c.triage) for c, t in pairs}
            known = _transaction_keys(session, (i for ids in txn_ids.values() for i in ids))
            batch = []
            for case, ticket in sorted(pairs, key=lambda p: (p[1].created_at, p[0].id)):
                ticket.id = case.id  # the grouper's ticket id is the case id
                ids = txn_ids[case.id]
                feats = features_from_ticket(
                    ticket,
                    extra_keys=_extra_keys(ticket, [known[i] for i in ids if i in known]),
                    transaction_ids=ids,
                    entities=_stored_entities(case.triage),
                )
                batch.append((case, ticket, feats))
            if intents is not None:
                with_intents([f for _c, _t, f in batch], intents)
            for case, ticket, feats in batch:
                tracker.add(feats, category=case.category)
                case_of[str(case.id)] = case.id
                external_of[str(case.id)] = ticket.external_id
                run.cases += 1
            if on_progress is not None:
                on_progress(len(cases))
        weights = token_weights(run.log_incidents)
        aliases = bank_aliases(session)
        for sp in tracker.systemic():
            state = grouper.problem(sp.problem_id)
            title = state.summary().title
            detected[sp.problem_id] = DetectedProblem(
                sp.problem_id,
                sp.detected_at,
                title,
                [],
                [],
                signals=[b.signal for b in sp.bursts],
                evidence=sp.first_burst.describe(),
            )
            _link_logs(
                detected[sp.problem_id],
                state,
                tracker,
                run.log_incidents,
                _onset(sp.first_burst.ticket_ids, tracker, state.first_seen),
                log_lead_hours,
                min_log_link,
                weights,
                aliases,
            )
        _merge_one_outage(detected, grouper)
        _store(session, grouper, detected, case_of, external_of, run)
        _store_log_alerts(session, run)
    return run


def log_incidents(session: Session, detector: LogSignalDetector) -> list[LogIncident]:
    """Log incidents from the stored warning/error lines, HTTP error statuses and, at any level, the
    lines that carry amounts (for the value-shift signal)."""
    since = service_first_seen(session)
    rows = session.execute(
        select(
            LogEventRow.timestamp,
            LogEventRow.service,
            LogEventRow.source,
            LogEventRow.level,
            LogEventRow.message,
            LogEventRow.http_status,
            LogEventRow.error_code,
            LogEventRow.transaction_id,
            LogEventRow.merchant_id,
            LogEventRow.customer_id,
            LogEventRow.attributes,
        )
        .where(
            or_(
                LogEventRow.level.not_in(_QUIET_LEVELS),
                LogEventRow.http_status >= 400,
                *(LogEventRow.message.like(f"%{k}%") for k in detector.value_keys),
                *(LogEventRow.attributes[k].as_string().is_not(None) for k in detector.value_keys),
            )
        )
        .order_by(LogEventRow.timestamp, LogEventRow.id)
    )
    return detector.detect(
        (
            LogLine(
                ensure_utc(r.timestamp),
                r.service or r.source,
                r.level,
                r.message,
                r.http_status,
                r.error_code,
                ids=tuple(i for i in (r.transaction_id, r.merchant_id, r.customer_id) if i),
                attributes=r.attributes if isinstance(r.attributes, dict) else None,
            )
            for r in rows
        ),
        service_since=since,
    )


def bank_aliases(session: Session, *, limit: int = 50_000) -> ValueAliases:
    """Other names logs use for the partner banks transactions name (``HANSDEFFXXX`` for ``Hanse
    Handelsbank``), learned from up to ``limit`` log lines that name a transaction with a bank."""
    bank = TransactionRow.attributes["partner_bank"].as_string()
    rows = session.execute(
        select(LogEventRow.message, LogEventRow.attributes, bank)
        .select_from(TransactionRow)
        .join(LogEventRow, LogEventRow.transaction_id == TransactionRow.external_id)
        .where(bank.is_not(None))
        .limit(limit)
    )
    return ValueAliases().fit(
        (line_values(r.message, r.attributes if isinstance(r.attributes, dict) else None), str(r[2]))
        for r in rows
    )


def _problem_tokens(
    state: ProblemState, tracker: SystemicTracker, aliases: ValueAliases | None = None
) -> set[str]:
    """What a log line could share with a ticket problem: every member's identifiers (transactions,
    customers, merchants), the values of the keys many members carry (a bank also by the names the
    logs give it), the top terms and the concepts (``~3ds``) many members write about."""
    feats = [tracker.features_[t] for t in state.ticket_ids if t in tracker.features_]
    tokens = {i for f in feats for i in f.transaction_ids}
    tokens |= {x for f in feats for x in (f.customer_id, f.merchant_id) if x}
    tokens |= key_tokens(k for k in state.key_counts if k.startswith("merchant:"))
    common = max(2.0, 0.1 * state.size)  # keys a few joiners bring along do not speak for the problem
    keys = [k for k, n in state.key_counts.items() if n >= common]
    tokens |= key_tokens(keys)
    if aliases is not None:
        tokens |= aliases.expand(key_tokens(k for k in keys if k.startswith("bank:")))
    tokens |= set(state.top_terms(30))
    tagged = Counter(t for f in feats for t in tracker.concepts_.tags(f.text))
    tokens |= {t for t, n in tagged.items() if n >= common}
    return tokens


def _link_logs(
    found: DetectedProblem,
    state: ProblemState,
    tracker: SystemicTracker,
    incidents: list[LogIncident],
    onset: datetime,
    lead_hours: float,
    min_link: float,
    weights: dict[str, float] | None = None,
    aliases: ValueAliases | None = None,
) -> None:
    """Give a systemic problem the earliest log alert that explains it (see detect_problems)."""
    weights = token_weights(incidents) if weights is None else weights
    tokens = _problem_tokens(state, tracker, aliases)
    lo = onset - timedelta(hours=lead_hours)
    best: tuple[datetime, float, LogIncident] | None = None
    for inc in incidents:
        if not lo <= inc.detected_at <= found.detected_at:
            continue
        hit = first_link(inc, tokens, weights, min_link, until=found.detected_at)
        if hit is not None and (best is None or (hit[0], -hit[1]) < (best[0], -best[1])):
            best = (hit[0], hit[1], inc)
    if best is not None:
        found.log_detected_at = best[0]
        # from the alert whose lines tied it (the link may be timed by a line logged after it)
        first = max((a.detected_at for a in best[2].alerts if a.detected_at <= best[0]), default=best[0])
        alerts = [a for a in best[2].alerts if a.detected_at >= first]
        found.log_signals = [a.signal for a in alerts]
        found.log_service = best[2].service
        found.log_incident = best[2]
        found.log_evidence = [a.describe() for a in alerts[:10]]


def _segment_keys(state: ProblemState) -> set[str]:
    """Keys (not categories) at least 30 % of a problem's tickets carry: the segment it hits."""
    floor = max(2.0, 0.3 * state.size)
    return {k for k, n in state.key_counts.items() if n >= floor and not k.startswith("category:")}


def _one_alert_behind(a: DetectedProblem, b: DetectedProblem) -> bool:
    """One of the two was called only from customers tied to a log incident's alerts, and the other
    is tied to that same incident through the same first alert: the same outage. Not merely one
    incident: a gateway logs every merchant's errors, so one of its incidents can hold two outages."""
    return (
        a.log_incident is not None
        and a.log_incident is b.log_incident
        and bool(a.log_signals)
        and a.log_signals[:1] == b.log_signals[:1]
        and any(all(s.startswith("alert:") for s in p.signals) for p in (a, b))
    )


def _merge_one_outage(
    detected: dict[int, DetectedProblem],
    grouper: ProblemGrouper,
    *,
    within: timedelta = timedelta(hours=6),
    log_gap: timedelta = timedelta(minutes=10),
) -> None:
    """Fold systemic problems that are one outage seen through different ticket categories.

    Why: an ACS outage reaches support as failed payments, cards that will not bind and
    verification questions; each category bursts on its own and becomes a problem of its own.
    Two problems are one when the later is detected within ``within`` of the earlier, one service's
    logs explained both from the same moment (log detections at most ``log_gap`` apart), and they
    hit the same segment (a shared key, not a category, on at least 30 % of each one's tickets) or
    one was called from a log incident's alert links alone and the other is tied to that incident by
    the same first alert. The latter because the first customers linked to
    an outage's alerts often share no key with the category burst that follows: on held-out seed 151
    an expired SAML certificate was called from four customers tied to the identity service's alerts
    and again six minutes later from the login category, one alert behind both. The same incident
    alone is not enough: on seed 59 an issuer outage and an API rate limit, four minutes apart, were
    tied to one api-gateway log incident through its first alert (issuer_unavailable; the rate
    limit's link was early and wrong), so one side must be called from the alert links alone. One
    service,
    because two outages can start within minutes of each other in different places: on sandbox
    seed 29 a payout delay (payouts) and a duplicate-charge retry bug (payments-core), both logged
    from about 10:40 and both with many US merchants, were folded into one.
    """
    order = sorted(detected.values(), key=lambda d: (d.detected_at, d.problem_id))
    kept: list[DetectedProblem] = []
    for d in order:
        into = None
        if d.log_detected_at is not None:
            seg = _segment_keys(grouper.problem(d.problem_id))
            for k in kept:
                if (
                    k.log_detected_at is not None
                    and k.log_service == d.log_service
                    and d.detected_at - k.detected_at <= within
                    and abs(d.log_detected_at - k.log_detected_at) <= log_gap
                    and (seg & _segment_keys(grouper.problem(k.problem_id)) or _one_alert_behind(k, d))
                ):
                    into = k
                    break
        if into is None:
            kept.append(d)
            continue
        del detected[d.problem_id]
        old = into.problem_id
        into.problem_id = grouper.merge(into.problem_id, d.problem_id)
        if into.problem_id != old:
            detected[into.problem_id] = detected.pop(old)
        into.signals += [x for x in d.signals if x not in into.signals]
        if (
            d.log_detected_at is not None
            and into.log_detected_at is not None
            and (d.log_detected_at < into.log_detected_at)
        ):  # the earlier log evidence speaks for the merged problem
            into.log_detected_at, into.log_signals = d.log_detected_at, d.log_signals
            into.log_service, into.log_evidence = d.log_service, d.log_evidence
            into.log_incident = d.log_incident


def _onset(ticket_ids: Iterable[str], tracker: SystemicTracker, default: datetime) -> datetime:
    """When the surge began: the first ticket of the burst that made the problem systemic."""
    times = [tracker.features_[t].created_at for t in ticket_ids if t in tracker.features_]
    return min(times, default=default)


def _heir(kept: dict[int, list[int]], members: list[int]) -> int | None:
    """The defect-linked problem whose cases this new group mostly holds (half or more of them)."""
    have = set(members)
    best: tuple[float, int] | None = None
    for row_id, cases in kept.items():
        if not cases:
            continue
        share = len(have.intersection(cases)) / len(cases)
        if share >= 0.5 and (best is None or share > best[0]):
            best = (share, row_id)
    return None if best is None else best[1]


def detection_record(found: DetectedProblem) -> dict[str, Any]:
    """What a person needs to check a systemic detection: when, which bursts, and the log alerts
    that explain it (with when the logs alone had it), as stored on the problem row."""
    record: dict[str, Any] = {
        "detected_at": found.detected_at.isoformat(),
        "signals": list(found.signals),
        "evidence": found.evidence,
    }
    if found.log_detected_at is not None:
        record["log"] = {
            "detected_at": found.log_detected_at.isoformat(),
            "service": found.log_service,
            "signals": list(found.log_signals[:10]),
            "evidence": list(found.log_evidence),
        }
    return record


def log_alert_rows(run: ProblemRun) -> list[dict[str, Any]]:
    """The run's log incidents, newest first, each with its first alert in words and the stored
    problem it explains (None: raised from logs alone, no ticket problem matches it yet)."""
    explains = {id(d.log_incident): d.row_id for d in run.systemic if d.log_incident is not None}
    return [
        {
            "detected_at": inc.detected_at,
            "service": inc.service,
            "alerts": len(inc.alerts),
            "signal": inc.alerts[0].signal,
            "first_alert": inc.alerts[0].describe(),
            "signals": list(dict.fromkeys(inc.signals))[:5],
            "examples": sorted(inc.ids)[:5],
            "problem_id": explains.get(id(inc)),
        }
        for inc in sorted(run.log_incidents, key=lambda i: i.detected_at, reverse=True)
    ]


def _store_log_alerts(session: Session, run: ProblemRun) -> None:
    """The run's log alerts replace the previous run's (pages and the API read them from here)."""
    session.execute(delete(LogAlertRow))
    session.add_all(LogAlertRow(**row) for row in log_alert_rows(run))
    session.flush()


def _store(
    session: Session,
    grouper: ProblemGrouper,
    detected: dict[int, DetectedProblem],
    case_of: dict[str, int],
    external_of: dict[str, str],
    run: ProblemRun,
) -> None:
    # Problems linked to a defect outlive the regroup: the new group holding most of their cases
    # (members before the regroup plus the defect's explicit case links) takes over their row, so the
    # defect keeps its problem and a ticket joining it after the fix can be seen as a regression.
    kept: dict[int, list[int]] = {}
    for row_id, defect_id in session.execute(
        select(ProblemRow.id, ProblemRow.defect_id).where(ProblemRow.defect_id.is_not(None))
    ):
        cases = set(session.scalars(select(CaseRow.id).where(CaseRow.problem_id == row_id)))
        linked = select(CaseDefectRow.case_id).where(CaseDefectRow.defect_id == defect_id)
        cases.update(session.scalars(linked))
        kept[row_id] = sorted(cases)
    session.execute(update(CaseRow).where(CaseRow.problem_id.is_not(None)).values(problem_id=None))
    for old in session.scalars(select(ProblemRow).where(ProblemRow.defect_id.is_(None))):
        session.delete(old)
    session.flush()
    for pid in sorted({grouper.resolve(p) for p in list(grouper.problems_)}):
        state = grouper.problem(pid)
        if state.size < 2:
            continue
        s = state.summary()
        found = detected.get(pid)
        members = [case_of[t] for t in state.ticket_ids if t in case_of]
        status = (ProblemStatus.CONFIRMED if found else ProblemStatus.CANDIDATE).value
        fields: dict[str, Any] = {
            "summary": ", ".join(s.top_terms) + (f"; keys {dict(s.top_keys)}" if s.top_keys else ""),
            "first_seen": s.first_seen,
            "last_seen": s.last_seen,
            "affected_customers": s.affected_customers,
            "affected_merchants": s.affected_merchants,
            "affected_transactions": s.affected_transactions,
            "money_minor_by_currency": s.money_minor_by_currency,
            "detection": detection_record(found) if found is not None else {},
        }
        heir = _heir(kept, members)
        row = session.get(ProblemRow, heir) if heir is not None else None
        if row is not None:
            del kept[row.id]
            for name, value in fields.items():
                setattr(row, name, value)
            if row.status == ProblemStatus.CANDIDATE.value:
                row.status = status  # people's and the defect's statuses (resolved, regressed, …) stay
        else:
            row = ProblemRow(title=s.title[:500], status=status, **fields)
            session.add(row)
        session.flush()
        run.problems += 1
        for start in range(0, len(members), 500):
            session.execute(
                update(CaseRow).where(CaseRow.id.in_(members[start : start + 500])).values(problem_id=row.id)
            )
        if found is not None:
            found.row_id = row.id
            found.case_ids = members
            found.ticket_ids = [external_of[t] for t in state.ticket_ids if t in external_of]
            for ext in found.ticket_ids:
                run.attribution[ext] = pid
            run.systemic.append(found)
    run.systemic.sort(key=lambda d: d.detected_at)
