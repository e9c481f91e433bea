"""Investigation of stored cases on SQLite and PostgreSQL: same answers as the in-memory port."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.engines.investigate.test_correlation import T0, background, issuer_outage, log, pay, ticket

from paytriage.adapters.storage.batch import write_logs, write_releases, write_tickets, write_transactions
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.evidence import SqlEvidence
from paytriage.adapters.storage.orm import CaseRow, CaseTicketRow, LogEventRow, TicketRow
from paytriage.domain import LogEvent, NotFoundError, Release, Ticket, Transaction
from paytriage.engines.investigate.correlation import (
    Correlation,
    Correlator,
    TemplateRate,
    clues_from_tickets,
)
from paytriage.engines.investigate.detectors import DetectorConfig, DetectorContext
from paytriage.engines.investigate.evidence import LogQuery, MemoryEvidence, TxnQuery
from paytriage.engines.investigate.hypotheses import HypothesisKind
from paytriage.engines.investigate.investigator import Investigator
from paytriage.engines.investigate.spikes import could_spike, template_spike
from paytriage.engines.logmining.fields import enrich_event
from paytriage.services.investigation import assign_log_templates, case_tickets, investigate_case, load_miner


def _store(db: Database, txns: list[Transaction], logs: list[LogEvent], tickets: list[Ticket]) -> None:
    with db.session() as s:
        write_transactions(s, txns)
        write_logs(s, [enrich_event(e, text_line=False) for e in logs])  # ids from text, as ingest does
        write_releases(s, [Release("payments-core", "2.1.0", T0 - timedelta(days=2))])
        write_tickets(s, tickets, frt_target_s=3600, res_target_s=86400)
        s.commit()


def _case_of(db: Database, external_id: str) -> int:
    with db.session() as s:
        case_id = s.scalar(
            select(CaseTicketRow.case_id)
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .where(TicketRow.external_id == external_id)
        )
    assert case_id is not None
    return int(case_id)


@pytest.fixture
def stored(db: Database) -> tuple[Database, list[Transaction], list[LogEvent], dict[str, int]]:
    bg_t, bg_l = background()
    out_t, out_l = issuer_outage()
    lone = pay(T0 - timedelta(minutes=20), code="51", customer="cus_000051", bin6="422222")
    incident = ticket(f"declined again: {out_t[-1].external_id}")
    single = ticket(f"why was {lone.external_id} declined?")
    lone_log = log(
        lone.created_at, f"auth declined txn={lone.external_id} merchant=m_0000001 bin=422222 rc=51"
    )
    txns, logs = [*bg_t, *out_t, lone], [*bg_l, *out_l, lone_log]
    _store(db, txns, logs, [incident, single])
    cases = {"incident": _case_of(db, incident.external_id), "single": _case_of(db, single.external_id)}
    return db, txns, logs, cases


def test_templates_assigned_then_investigation_finds_the_outage(
    stored: tuple[Database, list[Transaction], list[LogEvent], dict[str, int]], tmp_path: Path
) -> None:
    db, _, logs, cases = stored
    state = tmp_path / "templates.json"
    assert assign_log_templates(db, state_path=state, batch_size=100) == len(logs)
    assert assign_log_templates(db, state_path=state) == 0  # incremental: nothing left
    with db.session() as s:
        assert s.scalar(select(func.count()).where(LogEventRow.template_id.is_(None))) == 0
    investigator = Investigator(miner=load_miner(state))
    with db.session() as s:
        inv = investigate_case(s, cases["incident"], investigator=investigator)
        lone = investigate_case(s, cases["single"], investigator=investigator)
    top = inv.systemic_cause
    assert top is not None and top.kind is HypothesisKind.DECLINE_SPIKE
    assert any(r.template.startswith("auth declined") and r.current >= 10 for r in inv.correlation.templates)
    assert lone.systemic_cause is None and lone.top is not None
    assert lone.top.kind is HypothesisKind.CUSTOMER_SIDE
    d = inv.to_dict()
    assert d["case_id"] == cases["incident"] and d["timeline"] and d["hypotheses"][0]["evidence"]


def test_investigation_without_stored_templates_mines_on_the_fly(
    stored: tuple[Database, list[Transaction], list[LogEvent], dict[str, int]],
) -> None:
    db, _, _, cases = stored
    with db.session() as s:
        inv = investigate_case(s, cases["incident"], investigator=Investigator())
    assert inv.systemic_cause is not None and inv.systemic_cause.kind is HypothesisKind.DECLINE_SPIKE


def test_unknown_case_is_not_found(db: Database) -> None:
    with db.session() as s, pytest.raises(NotFoundError):
        investigate_case(s, 424242, investigator=Investigator())


def test_sql_evidence_answers_like_the_memory_port(
    stored: tuple[Database, list[Transaction], list[LogEvent], dict[str, int]],
) -> None:
    db, txns, logs, _ = stored
    mem = MemoryEvidence(txns, logs, [Release("payments-core", "2.1.0", T0 - timedelta(days=2))])
    some = txns[-3]
    t_queries = [
        TxnQuery(ids=(some.external_id, "nope")),
        TxnQuery(card_bin="465901", start=T0 - timedelta(hours=2), end=T0 + timedelta(hours=1)),
        TxnQuery(merchant_id="m_0000003", kind="payment", start=T0 - timedelta(days=2)),
        TxnQuery(customer_id="cus_000051", amount_minor=1000, currency="EUR"),
    ]
    l_queries = [
        LogQuery(transaction_ids=(some.external_id,)),
        LogQuery(mentions=("bin=465901",), start=T0 - timedelta(hours=3), end=T0 + timedelta(hours=1)),
        LogQuery(levels=("error", "critical"), start=T0 - timedelta(days=1)),
        LogQuery(mentions=("m_0000002",), merchant_ids=("m_0000004",), start=T0 - timedelta(hours=6), end=T0),
        LogQuery(merchant_ids=("m_0000002",), customer_ids=("cus_000051",), levels=("warning",)),
        LogQuery(  # id seeks test every level on their rows; the text scan runs once per level
            mentions=("bin=465901",),
            merchant_ids=("m_0000002", "m_0000004"),
            transaction_ids=(some.external_id,),
            levels=("warning", "error", "critical"),
            start=T0 - timedelta(hours=6),
        ),
    ]
    with db.session() as s:
        sql = SqlEvidence(s)
        for q in t_queries:
            assert [t.external_id for t in sql.transactions(q, limit=500)] == [
                t.external_id for t in mem.transactions(q, limit=500)
            ], q
        for lq in l_queries:
            assert sorted(e.fingerprint or "" for e in sql.logs(lq, limit=1000)) == sorted(
                e.fingerprint or "" for e in mem.logs(lq, limit=1000)
            ), lq
            assert sql.count_logs(lq) == mem.count_logs(lq), lq
            assert sql.first_time(lq) == mem.first_time(lq), lq
        assert [r.version for r in sql.releases(T0 - timedelta(days=3), T0)] == ["2.1.0"]
        assert s.scalar(select(func.count()).select_from(CaseRow)) == 2


def test_sampled_template_rates_keep_exact_counts_and_first_times(
    stored: tuple[Database, list[Transaction], list[LogEvent], dict[str, int]], tmp_path: Path
) -> None:
    db, _, _, cases = stored
    state = tmp_path / "templates.json"
    assign_log_templates(db, state_path=state)
    full = Investigator(miner=load_miner(state))
    sampled = Investigator(miner=load_miner(state), correlator=Correlator(template_sample=3))
    with db.session() as s:
        a = investigate_case(s, cases["incident"], investigator=full).correlation.templates
        b = investigate_case(s, cases["incident"], investigator=sampled).correlation.templates
    assert any(r.current > 3 for r in a)  # the sample is smaller than the window
    assert [(r.template_id, r.current, r.baseline, r.first_seen) for r in b] == [
        (r.template_id, r.current, r.baseline, r.first_seen) for r in a
    ]
    for r in b:
        assert len(r.samples) <= 3 + len(r.own)
        assert {e.fingerprint for e in r.own} <= {e.fingerprint for e in r.samples}


def test_template_rows_are_read_only_for_rates_that_could_spike(
    stored: tuple[Database, list[Transaction], list[LogEvent], dict[str, int]], tmp_path: Path
) -> None:
    db, _, _, cases = stored
    state = tmp_path / "templates.json"
    assign_log_templates(db, state_path=state)
    miner = load_miner(state)
    skipped = 0
    for cfg in (DetectorConfig(), DetectorConfig(min_count=50, min_baseline_days=1)):
        inv = Investigator(miner=miner, config=cfg)
        with db.session() as s:
            src = SqlEvidence(s)
            for case_id in cases.values():
                clues = clues_from_tickets(case_tickets(s, case_id), extractor=inv.extractor)
                full = inv.correlator.correlate(clues, src, miner)
                lazy = inv.correlator.correlate(clues, src, miner, sample_when=partial(could_spike, cfg=cfg))
                assert [_rate_key(r) for r in lazy.templates] == [_rate_key(r) for r in full.templates]
                for a, b in zip(lazy.templates, full.templates, strict=True):
                    if could_spike(b, cfg):
                        assert [e.fingerprint for e in a.samples] == [e.fingerprint for e in b.samples]
                    else:  # not read: only the case's own lines
                        skipped += 1
                        assert {e.fingerprint for e in a.samples} == {e.fingerprint for e in a.own}
                ctx = DetectorContext(corr=full, source=src, codes=inv.codes, config=cfg)
                assert _spikes(ctx, lazy) == _spikes(ctx, full)
    assert skipped  # the test exercises rates left unread


def _rate_key(r: TemplateRate) -> tuple[object, ...]:
    return (r.template_id, r.http_status, r.current, r.baseline, r.baseline_days, r.first_seen, r.level)


def _spikes(ctx: DetectorContext, corr: Correlation) -> list[tuple[str, str, float]]:
    ctx.corr = corr
    return [(h.title, h.summary, h.confidence) for h in template_spike(ctx)]
