"""People's corrections survive a re-run of problem detection (row ids change, member cases do not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.services.problem_seed import case_ids as seed_ids
from tests.services.problem_seed import regroup, seed_cases

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import ProblemFeedbackRow, ProblemRow
from paytriage.domain import InputError, NotFoundError, ProblemStatus
from paytriage.services.problem_catalog import get_problem, members_by_problem
from paytriage.services.problem_feedback import (
    apply_feedback,
    match_problem,
    merge_problems,
    rename_problem,
    set_problem_status,
    split_problem,
)
from paytriage.services.problems import detect_problems


def _by_members(db: Database) -> dict[frozenset[int], ProblemRow]:
    with db.session() as s:
        members = members_by_problem(s)
        rows = {r.id: r for r in s.scalars(select(ProblemRow))}
        for r in rows.values():
            s.expunge(r)
    return {frozenset(c): rows[p] for p, c in members.items()}


def test_rename_and_reject_survive_a_rerun_that_grew_the_problem(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    a, b = regroup(db, [cases[:3], cases[4:]])
    with db.session() as s:
        rename_problem(s, problem_id=a, title="Issuer 453912 declines (code 91)", actor="ana")
        set_problem_status(s, problem_id=b, status=ProblemStatus.REJECTED, actor="ana")
    # the re-run finds a fourth case for the first problem, and the ids now name other problems
    regroup(db, [cases[4:], cases[:4]])
    with db.session() as s:
        assert members_by_problem(s).get(a) != cases[:3]
    with db.session() as s:
        replay = apply_feedback(s)
    assert replay.applied == {"rename": 1, "status": 1} and replay.unmatched == []
    found = _by_members(db)
    assert found[frozenset(cases[:4])].title == "Issuer 453912 declines (code 91)"
    assert found[frozenset(cases[:4])].status == "candidate"
    assert found[frozenset(cases[4:])].status == "rejected"
    assert found[frozenset(cases[4:])].title == "auto title 0"


def test_merge_is_reapplied_and_replay_is_idempotent(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    a, b, _c = regroup(db, [cases[:2], cases[2:4], cases[4:]])
    with db.session() as s:
        merged = merge_problems(s, problem_id=a, into_id=b, actor="ana")
        assert merged.id == b
        assert s.get(ProblemRow, a) is None
        assert members_by_problem(s)[b] == cases[:4]
        assert merged.affected_customers == 4
    regroup(db, [cases[:2], cases[2:4], cases[4:]])
    for _ in range(2):
        with db.session() as s:
            apply_feedback(s)
        assert set(_by_members(db)) == {frozenset(cases[:4]), frozenset(cases[4:])}


def test_split_is_reapplied_with_the_persons_title(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    (p,) = regroup(db, [cases])
    with db.session() as s:
        new = split_problem(s, problem_id=p, case_ids=cases[4:], actor="ana", title="Payouts late")
        assert new.title == "Payouts late" and new.status == "candidate"
    regroup(db, [cases])
    with db.session() as s:
        apply_feedback(s)
        apply_feedback(s)
    found = _by_members(db)
    assert set(found) == {frozenset(cases[:4]), frozenset(cases[4:])}
    assert found[frozenset(cases[4:])].title == "Payouts late"


def test_feedback_on_cases_no_problem_holds_any_more_is_reported_unmatched(
    db: Database, tmp_path: Path
) -> None:
    cases = seed_cases(db, tmp_path)
    (p,) = regroup(db, [cases[:4]])
    with db.session() as s:
        rename_problem(s, problem_id=p, title="gone soon", actor="ana")
    regroup(db, [cases[4:]])
    with db.session() as s:
        replay = apply_feedback(s)
        fb = s.scalars(select(ProblemFeedbackRow)).one()
    assert replay.unmatched == [fb.id]
    assert all(r.title != "gone soon" for r in _by_members(db).values())


def test_bad_corrections_are_refused_with_the_field(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    a, b = regroup(db, [cases[:4], cases[4:]])
    with db.session() as s:
        with pytest.raises(InputError) as e1:
            merge_problems(s, problem_id=a, into_id=a, actor="x")
        with pytest.raises(InputError) as e2:
            split_problem(s, problem_id=a, case_ids=cases[4:5], actor="x")
        with pytest.raises(InputError):
            split_problem(s, problem_id=a, case_ids=cases[:4], actor="x")
        with pytest.raises(InputError) as e3:
            rename_problem(s, problem_id=b, title="   ", actor="x")
        with pytest.raises(NotFoundError):
            set_problem_status(s, problem_id=999_999, status=ProblemStatus.REJECTED, actor="x")
    assert (e1.value.field, e2.value.field, e3.value.field) == ("into", "case_ids", "title")


def test_detail_shows_evidence_from_member_cases(db: Database, tmp_path: Path) -> None:
    cases = seed_cases(db, tmp_path)
    (p, _) = regroup(db, [cases[:4], cases[4:]])
    with db.session() as s:
        d = get_problem(s, p)
    assert d.case_ids == cases[:4] and d.problem.cases == 4
    assert "declined" in d.top_terms or "checkout" in d.top_terms
    assert {"kind": "decline_code", "value": "91", "cases": 4, "share": 1.0} in d.shared_entities
    assert d.suspected_root_cause and d.root_cause_source == "shared evidence"
    assert [e["ticket"] for e in d.examples] == ["T0", "T1", "T2", "T3"]
    assert sum(d.daily_cases.values()) == 4


def test_rename_survives_a_real_detect_problems_rerun(db: Database, tmp_path: Path) -> None:
    seed_cases(db, tmp_path)
    detect_problems(db)
    with db.session() as s:
        members = members_by_problem(s)
        if not members:
            pytest.skip("the grouper found no problem in the seed")
        pid = max(members, key=lambda k: len(members[k]))
        kept = set(members[pid])
        rename_problem(s, problem_id=pid, title="named by a person", actor="ana")
    detect_problems(db)
    with db.session() as s:
        apply_feedback(s)
    renamed = [c for c, r in _by_members(db).items() if r.title == "named by a person"]
    assert len(renamed) == 1 and len(renamed[0] & kept) * 2 >= len(kept)


@given(
    st.dictionaries(st.integers(1, 50), st.lists(st.integers(1, 200), min_size=1, max_size=20), max_size=8),
    st.lists(st.integers(1, 200), max_size=20),
)
def test_match_holds_at_least_half_of_the_remembered_cases(
    members: dict[int, list[int]], wanted: list[int]
) -> None:
    # problems are disjoint in storage; keep the first owner of each case
    owner: dict[int, int] = {}
    for pid, cs in members.items():
        for c in cs:
            owner.setdefault(c, pid)
    disjoint = {pid: sorted(c for c, o in owner.items() if o == pid) for pid in members}
    got = match_problem(disjoint, wanted)
    if got is None:
        assert not wanted or all(
            len(set(wanted) & set(cs)) * 2 < len(set(wanted)) for cs in disjoint.values()
        )
    else:
        share = len(set(wanted) & set(disjoint[got])) / len(set(wanted))
        assert share >= 0.5
        assert all(
            len(set(wanted) & set(cs)) <= len(set(wanted) & set(disjoint[got])) for cs in disjoint.values()
        )


def test_shared_evidence_includes_integration_and_stored_transactions(db: Database, tmp_path: Path) -> None:
    import json

    from paytriage.engines.triage.triager import Triager
    from paytriage.services.ingest import IngestKind, ingest_file
    from paytriage.services.triage import triage_cases

    txns = [{"id": f"pay_{i}", "created_at": f"2026-11-02T14:0{i}:00Z", "kind": "payment", "amount": "20.00",
             "currency": "EUR", "status": "declined", "response_code": "91", "card_bin": "453912",
             "processor": "acq-eu"} for i in range(3)]  # fmt: skip
    tickets = [{"id": f"T{i}", "created_at": f"2026-11-02T14:1{i}:00Z", "requester_id": f"c{i}",
                "transaction_id": f"pay_{i}", "integration": "woocommerce 8.2.1",
                "description": "payment failed at checkout"} for i in range(3)]  # fmt: skip
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in txns))
    (tmp_path / "k.jsonl").write_text("\n".join(json.dumps(t) for t in tickets))
    ingest_file(db, tmp_path / "t.jsonl", IngestKind.TRANSACTIONS)
    ingest_file(db, tmp_path / "k.jsonl", IngestKind.TICKETS)
    triage_cases(db, Triager.from_config(), as_of_arrival=True)
    cases = seed_ids(db)
    (pid,) = regroup(db, [cases])
    with db.session() as s:
        shared = {(e["kind"], e["value"]): e["cases"] for e in get_problem(s, pid).shared_entities}
    assert shared[("software", "woocommerce 8.2.1")] == 3
    assert (
        shared[("card_bin", "453912")]
        == shared[("response_code", "91")]
        == shared[("acquirer", "acq-eu")]
        == 3
    )
