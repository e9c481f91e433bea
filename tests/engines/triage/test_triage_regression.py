"""Triage output on ~55 varied tickets must not change when the engine is made faster.

``data/regression_expected.json`` was generated from the engine *before* the speed work and is
only regenerated on purpose, when a behaviour change is intended (say why in the commit):
``python tests/engines/triage/test_triage_regression.py --regenerate``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paytriage.domain.ticket import Ticket
from paytriage.engines.triage import TriageContext, Triager

DATA = Path(__file__).with_name("data")
TICKETS = DATA / "regression_tickets.jsonl"
EXPECTED = DATA / "regression_expected.json"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def load_cases() -> tuple[list[Ticket], list[TriageContext | None]]:
    tickets: list[Ticket] = []
    contexts: list[TriageContext | None] = []
    for line in TICKETS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row["text"] * int(row.get("repeat", 1))
        tickets.append(Ticket(external_id=row["id"], source="test", created_at=NOW, description=text))
        ctx = row.get("context")
        contexts.append(TriageContext(**ctx) if ctx is not None else None)
    return tickets, contexts


def snapshot(triager: Triager, *, workers: int = 1) -> dict[str, dict[str, Any]]:
    """``to_dict()`` of every result, keyed by ticket id, JSON round-tripped (tuples become lists)."""
    tickets, contexts = load_cases()
    if workers > 1:  # big enough a batch to use the pool
        tickets, contexts = tickets * 10, contexts * 10
    results = triager.triage_many(tickets, contexts, workers=workers)
    return {r.id: json.loads(json.dumps(r.to_dict())) for r in results}


def _compare(got: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    assert set(got) == set(expected)
    for tid, exp in expected.items():
        res = dict(got[tid])
        if abs(res.pop("category_confidence") - exp["category_confidence"]) > 1e-3:
            problems.append(f"{tid}: category_confidence {got[tid]['category_confidence']}")
        for key, value in exp.items():
            if key != "category_confidence" and res.get(key) != value:
                problems.append(f"{tid}: {key}: expected {value!r}, got {res.get(key)!r}")
    return problems


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return data


def test_cases_are_varied(expected: dict[str, dict[str, Any]]) -> None:
    """The fixed set exercises many categories, every route and priority and most entity kinds."""
    assert len(expected) >= 50
    assert len({r["category"] for r in expected.values()}) >= 12
    assert {r["route"] for r in expected.values()} >= {"tier1", "tier2", "engineering", "payments_ops"}
    assert len({r["priority"] for r in expected.values()}) >= 3
    kinds = {e["kind"] for r in expected.values() for e in r["entities"]}
    assert len(kinds) >= 12


def test_batch_output_unchanged(triager: Triager, expected: dict[str, dict[str, Any]]) -> None:
    assert _compare(snapshot(triager), expected) == []


def test_two_worker_processes_match(expected: dict[str, dict[str, Any]]) -> None:
    triager = Triager.from_config()
    try:
        assert _compare(snapshot(triager, workers=2), expected) == []
        bare = ["I was charged twice", "How do I reset my password?"] * 300
        ids = [r.id for r in triager.triage_many(bare, workers=2)]
        assert ids == [str(i + 1) for i in range(len(bare))]
    finally:
        triager.close()


def test_one_at_a_time_matches_batch(triager: Triager, expected: dict[str, dict[str, Any]]) -> None:
    tickets, contexts = load_cases()
    got = {}
    for t, c in zip(tickets[::5], contexts[::5], strict=True):
        got[t.external_id] = json.loads(json.dumps(triager.triage(t, c).to_dict()))
    assert _compare(got, {k: expected[k] for k in got}) == []


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/engines/triage/test_triage_regression.py --regenerate")
    out = snapshot(Triager.from_config())
    EXPECTED.write_text(
        json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(out)} results to {EXPECTED}")
