"""Problem packages: sections summed over cases, environment mix, release impact, honest gaps."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from tests.engines.escalate.helpers import T0, hypothesis, make_input

from paytriage.domain import Ticket
from paytriage.engines.escalate.completeness import SECTIONS
from paytriage.engines.escalate.package import Subject
from paytriage.engines.escalate.problem import (
    CaseEvidence,
    ProblemFacts,
    ProblemInput,
    ReleaseSuspect,
    build_problem_package,
    strongest,
)
from paytriage.engines.escalate.render import to_markdown
from paytriage.engines.investigate.hypotheses import HypothesisKind
from paytriage.engines.redaction import luhn_valid


def _ticket(n: int, integration: str, country: str, tier: str = "smb") -> Ticket:
    return Ticket(
        external_id=f"T-{n}",
        source="test",
        created_at=T0 + timedelta(hours=n),
        subject=f"checkout broken {n}",
        description="card 4111 1111 1111 1111 fails",
        requester_id=f"m_{n}",
        custom_fields={
            "integration": integration,
            "country": country,
            "merchant_id": f"m_{n}",
            "merchant_tier": tier,
        },
    )


def _input(*, reps: bool = True, release: bool = True) -> ProblemInput:
    case = make_input([hypothesis(HypothesisKind.ERROR_SPIKE, component="payments-core")])
    weak = make_input([hypothesis(HypothesisKind.ERROR_SPIKE, confidence=0.3)])
    assert case.investigation is not None and weak.investigation is not None
    tickets = [_ticket(1, "woocommerce 4.2.1", "DE"), _ticket(2, "woocommerce 4.2.1", "FR", "enterprise"),
               _ticket(3, "2024-06-01", "DE")]  # fmt: skip
    facts = ProblemFacts(
        cases=3, open_cases=2, sla_breached=1, transactions=4, customers=2, merchants=3,
        money_minor_by_currency={"EUR": 5000}, transaction_countries=Counter({"DE": 3}),
        priorities=Counter({"P2": 1, "P3": 2}), case_of_ticket={"T-1": 11, "T-2": 12, "T-3": 13},
        queries=["SELECT count(*) FROM transactions WHERE ..."],
    )  # fmt: skip
    return ProblemInput(
        subject=Subject(kind="problem", id=7, title="checkout broken", created_at=T0),
        tickets=tickets,
        facts=facts,
        now=T0 + timedelta(days=1),
        representatives=[
            CaseEvidence(12, weak.tickets, weak.investigation, weak.triage),
            CaseEvidence(11, case.tickets, case.investigation, case.triage),
        ]
        if reps
        else [],
        daily_counts=[("d1", 1), ("d2", 2)],
        releases=[
            ReleaseSuspect("payments-core", "4.1.0", T0 - timedelta(hours=3), "errors", 2, 40, 20.0, 1e-9)
        ]
        if release
        else [],
        releases_checked=None if release else "none: 2 release(s) checked",
    )


def test_problem_package_fills_every_section_from_evidence() -> None:
    pkg = build_problem_package(_input())
    d = pkg.to_dict()
    assert pkg.id == "problem-7" and pkg.completeness.complete, pkg.completeness.ask_for
    # impact: the hypothesis scope (9 transactions) is larger than the 4 ticketed ones
    assert d["impact"]["tickets"] == 3 and d["impact"]["cases"] == 3 and d["impact"]["transactions"] == 9
    assert "1 past the resolution target" in d["impact"]["sla_exposure"]
    env = d["environment"]
    assert env["plugin_sdk"].startswith("woocommerce 4.2.1 ×2") and "2024-06-01" in env["api_version"]
    assert env["region"].startswith("DE ×")
    assert d["severity"]["priority"] == "P2" and "systemic: 3 merchants" in d["severity"]["reason"]
    assert d["suspected_component"] == "payments-core" and d["suspected_release"].startswith(
        "payments-core 4.1.0"
    )
    assert [r["why"] for r in d["related_tickets"]][:2] == ["problem 7, case 11", "problem 7, case 12"]
    assert d["customer_context"]["merchant_tier"].startswith("smb ×2")
    steps = d["reproduction_steps"]
    assert steps and all(s.startswith("case 1") for s in steps)
    assert "Most likely cause (case 11)" in d["summary"]  # the stronger representative leads
    assert pkg.queries[0].startswith("SELECT count(*)")
    text = to_markdown(pkg)
    assert not any(luhn_valid(w) for w in text.replace(" ", "").split("|") if w.isdigit())
    assert "4111 1111 1111 1111" not in text


def test_without_representatives_sections_stay_empty_and_are_named() -> None:
    pkg = build_problem_package(_input(reps=False, release=False))
    c = pkg.completeness
    assert not c.complete
    for name in ("log_excerpts", "reproduction_steps", "suspected_component", "timeline"):
        assert name in c.missing_sections
    assert pkg.to_dict()["suspected_release"] == "none: 2 release(s) checked"
    assert set(c.filled) | set(c.missing_sections) == set(SECTIONS)


def test_impact_names_missing_money() -> None:
    inp = _input()
    inp = replace(
        inp, facts=replace(inp.facts, transactions=0, money_minor_by_currency={}), representatives=[]
    )
    pkg = build_problem_package(inp)
    assert "impact.transactions" in pkg.completeness.ask_for
    assert "impact.money_at_stake" in pkg.completeness.ask_for


def test_a_representative_pointing_elsewhere_adds_no_evidence() -> None:
    inp = _input()
    other = make_input([hypothesis(HypothesisKind.DECLINE_SPIKE, confidence=0.5, party="issuer")])
    assert other.investigation is not None
    other.investigation.correlation.logs[0].message = "unrelated issuer line"
    inp = replace(
        inp, representatives=[*inp.representatives, CaseEvidence(13, other.tickets, other.investigation)]
    )
    pkg = build_problem_package(inp)
    d = pkg.to_dict()
    assert "unrelated issuer line" not in d["log_excerpts"]
    assert not any(s.startswith("case 13") for s in d["reproduction_steps"])
    assert not any("not defect" in x for x in d["ruled_out"])  # no contradiction of the decision


def test_a_concurrent_incident_does_not_outvote_the_problems_cause() -> None:
    kyc = make_input([hypothesis(HypothesisKind.UPLOAD_FAILURES, confidence=0.7, component="kyc-service")])
    loud = make_input(
        [hypothesis(HypothesisKind.AMOUNT_ANOMALY, confidence=0.97, component="refund-service")]
    )
    assert kyc.investigation is not None and loud.investigation is not None
    reps = [
        CaseEvidence(1, kyc.tickets, kyc.investigation),
        CaseEvidence(2, loud.tickets, loud.investigation),
        CaseEvidence(3, loud.tickets, loud.investigation),
    ]
    assert strongest(reps, "account_verification_restriction") is reps[0]
    assert strongest(reps, "refund") is reps[1]  # two votes and it fits refunds
    assert strongest(reps, "login_and_access") is reps[1]  # nothing fits: the loudest finding
    inp = replace(_input(release=False), representatives=reps)
    inp.subject.category = "account_verification_restriction"
    assert build_problem_package(inp).to_dict()["suspected_component"] == "kyc-service"


def test_a_step_shared_by_representatives_is_listed_once() -> None:
    inp = _input()
    first = inp.representatives[1]
    twin = CaseEvidence(13, first.tickets, first.investigation, first.triage)  # same evidence, another case
    pkg = build_problem_package(replace(inp, representatives=[*inp.representatives, twin]))
    steps = pkg.sections["reproduction_steps"].value
    bodies = [s.split(": ", 1)[1] for s in steps]
    assert steps and len(bodies) == len(set(bodies))
    assert not any(s.startswith("case 13:") for s in steps)


def _login_problem(categories: Counter[str], transactions: int = 0) -> ProblemInput:
    inp = _input()
    facts = replace(inp.facts, transactions=transactions, money_minor_by_currency={}, categories=categories)
    return replace(inp, facts=facts, representatives=[])


def test_a_login_problem_with_one_misrouted_case_moves_no_money() -> None:
    pkg = build_problem_package(_login_problem(Counter({"login_and_access": 3, "card_payment_declined": 1})))
    assert pkg.sections["impact"].value["money_at_stake"].startswith("none: login_and_access")
    assert not any(a.startswith("impact.") and a != "impact.trend" for a in pkg.completeness.ask_for)


def test_money_is_still_asked_when_the_problem_is_not_mostly_about_access() -> None:
    half = build_problem_package(_login_problem(Counter({"login_and_access": 2, "card_payment_declined": 2})))
    assert "impact.money_at_stake" in half.completeness.ask_for
    named = build_problem_package(_login_problem(Counter({"login_and_access": 4}), transactions=2))
    assert "impact.money_at_stake" in named.completeness.ask_for  # a transaction is named: how much?
