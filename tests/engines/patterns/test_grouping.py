"""Problem grouping: hand-built tickets whose right grouping is obvious to a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paytriage.domain.errors import InputError
from paytriage.domain.ticket import Ticket
from paytriage.engines.patterns import (
    ProblemGrouper,
    TicketFeatures,
    Trend,
    entity_keys,
    features_from_ticket,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def tk(tid: str, text: str, hours: float = 0.0, **keys: str) -> TicketFeatures:
    return TicketFeatures(
        ticket_id=tid,
        text=text,
        created_at=T0 + timedelta(hours=hours),
        keys=entity_keys(keys),
        customer_id=f"cust-{tid}",
        merchant_id=keys.get("merchant"),
        transaction_ids=(f"tx-{tid}",),
        amounts_minor={"EUR": 1000},
    )


CASES = [
    # (name, tickets, expected partition as sets of ticket ids)
    (
        "two groups sharing a BIN become one problem despite different words",
        [
            tk("a1", "card declined at checkout", 0, bin="411111", merchant="m1"),
            tk("a2", "payment refused for cardholder", 1, bin="411111", merchant="m2"),
            tk("b1", "payout delayed to bank account", 2, merchant="m3"),
            tk("a3", "declined again card refused", 3, bin="411111", merchant="m4"),
        ],
        [{"a1", "a2", "a3"}, {"b1"}],
    ),
    (
        "same words, different strong keys do not override a big time gap",
        [
            tk("x1", "webhook signature invalid after rotation", 0),
            tk("x2", "webhook signature invalid after rotation", 24 * 60),
        ],
        [{"x1"}, {"x2"}],
    ),
    (
        "near-identical texts group without any key",
        [
            tk("w1", "refund stuck pending since monday", 0),
            tk("w2", "refund stuck pending since monday please check", 2),
            tk("z1", "apple pay button missing on checkout page", 3),
        ],
        [{"w1", "w2"}, {"z1"}],
    ),
    (
        "a shared country alone never groups",
        [
            tk("c1", "settlement report missing columns", 0, country="de"),
            tk("c2", "customer cannot reset password", 1, country="de"),
        ],
        [{"c1"}, {"c2"}],
    ),
    (
        "plugin version ties tickets, a different version does not",
        [
            tk("p1", "checkout broken after update", 0, plugin="woocommerce@8.2.1"),
            tk("p2", "orders not created, blank page", 1, plugin="woocommerce@8.2.1"),
            tk("p3", "shipping fee rounding question", 2, plugin="woocommerce@7.0.0"),
        ],
        [{"p1", "p2"}, {"p3"}],
    ),
]


def partition(g: ProblemGrouper) -> list[set[str]]:
    return sorted((set(p.ticket_ids) for p in g.problems_.values()), key=lambda s: sorted(s))


@pytest.mark.parametrize(("name", "tickets", "expected"), CASES, ids=[c[0] for c in CASES])
def test_grouping_table(name: str, tickets: list[TicketFeatures], expected: list[set[str]]) -> None:
    g = ProblemGrouper().fit(tickets)
    assert partition(g) == sorted(expected, key=lambda s: sorted(s)), name


def test_assignment_explains_shared_key_and_score() -> None:
    g = ProblemGrouper()
    first = g.add(tk("a1", "card declined at checkout", 0, bin="411111"))
    second = g.add(tk("a2", "card declined online", 1, bin="411111"))
    assert first.is_new and not second.is_new
    assert second.problem_id == first.problem_id
    assert second.explanation.shared_keys == ("bin:411111",)
    assert "declined" in second.explanation.shared_terms
    assert second.score >= g.join_threshold


def test_summary_counts_parties_money_and_trend() -> None:
    tickets = [tk(f"t{i}", "card declined", i, bin="411111", merchant=f"m{i % 2}") for i in range(4)]
    g = ProblemGrouper().fit(tickets)
    (p,) = g.problems_.values()
    s = p.summary()
    assert (s.tickets, s.affected_customers, s.affected_merchants, s.affected_transactions) == (4, 4, 2, 4)
    assert s.money_minor_by_currency == {"EUR": 4000}
    assert s.first_seen == T0 and s.last_seen == T0 + timedelta(hours=3)
    assert s.trend is Trend.NEW
    assert s.title.startswith("bin:411111")
    assert p.to_problem().affected_merchants == 2


def test_rename_reject_remembered() -> None:
    a1, a2 = tk("a1", "card declined", 0, bin="411111"), tk("a2", "card declined", 1, bin="411111")
    g = ProblemGrouper().fit([a1, a2])
    pid = g.assignments_["a1"]
    g.rename(pid, "BIN 411111 declines")
    assert g.problem(pid).summary().title == "BIN 411111 declines"
    moved = g.reject(pid, a2)
    assert moved.problem_id != pid and moved.is_new
    assert ("a2", pid) in g.rejected_tickets_
    with pytest.raises(InputError):
        g.rename(pid, "  ")


def test_merge_resolves_old_id_and_split_is_not_re_suggested() -> None:
    g = ProblemGrouper()
    x = [tk("x1", "3ds challenge loops forever", 0), tk("x2", "3ds challenge loops forever", 1)]
    y = [tk("y1", "refund pending for days", 2), tk("y2", "refund pending for days", 3)]
    for t in x + y:
        g.add(t)
    px, py = g.assignments_["x1"], g.assignments_["y1"]
    assert px != py
    survivor = g.merge(px, py)
    assert g.resolve(py) == survivor and g.problem(py).size == 4
    new = g.split(survivor, y)
    assert {g.assignments_["y1"], g.assignments_["y2"]} == {new}
    assert all(s.problem_b != new and s.problem_a != new for s in g.suggest_merges(min_score=0.0))
    later = g.add(tk("y3", "refund pending for days", 4))
    assert later.problem_id == new


def test_suggest_merges_finds_twins_and_respects_rejection() -> None:
    g = ProblemGrouper(join_threshold=2.0)  # nothing joins on its own
    g.add(tk("a", "sepa mandate rejected by bank", 0, bank="bnp"))
    g.add(tk("b", "sepa mandate rejected by bank", 1, bank="bnp"))
    sugg = g.suggest_merges(min_score=0.5)
    assert [(s.problem_a, s.problem_b) for s in sugg] == [(1, 2)]
    assert "bank:bnp" in sugg[0].shared_keys
    g.reject_merge(1, 2)
    assert g.suggest_merges(min_score=0.5) == []


def test_duplicate_ticket_is_refused() -> None:
    g = ProblemGrouper()
    g.add(tk("a", "x y z words"))
    with pytest.raises(InputError, match="already grouped"):
        g.add(tk("a", "x y z words"))


def test_entity_keys_normalise() -> None:
    keys = entity_keys(
        {"bin": ["4111 1122", "12"], "plugin": "WooCommerce@8.2", "color": "red", "bank": None}
    )
    assert keys == frozenset({"bin:411111", "plugin:woocommerce@8.2"})


def test_features_from_domain_ticket_use_triage_entities() -> None:
    t = Ticket(
        external_id="Z-1",
        source="zendesk",
        created_at=T0,
        subject="Declines",
        description="WooCommerce plugin 8.2.1 fails on POST /v1/payments, BIN 411111, "
        "response code 05 do not honor",
        organization="Shop-1",
    )
    f = features_from_ticket(t, extra_keys={"country": "DE"})
    assert {"bin:411111", "country:de", "merchant:shop-1", "error:05"} <= f.keys
    assert any(k.startswith("plugin:woocommerce@8.2.1") for k in f.keys)
    assert any(k.startswith("endpoint:") for k in f.keys)


def test_move_gathers_tickets_and_freeze_keeps_add_out() -> None:
    g = ProblemGrouper()
    a, b, c = (
        tk("m1", "card declined at checkout", 0, bin="411111"),
        tk("m2", "payout late again", 0.1),
        tk("m3", "card declined at checkout", 0.2, bin="411111"),
    )
    for t in (a, b, c):
        g.add(t)
    pid = g.move([a, b])
    assert set(g.problem(pid).ticket_ids) == {"m1", "m2"}
    assert g.assignments_["m2"] == pid
    g.freeze(pid)
    d = tk("m4", "card declined at checkout", 0.3, bin="411111")
    assert g.add(d).problem_id != pid  # a frozen problem takes tickets only through move
    assert g.move([d], pid) == pid and "m4" in g.problem(pid).ticket_ids
    with pytest.raises(InputError):
        g.move([tk("zz", "never grouped")])


def test_file_types_are_keys() -> None:
    t = Ticket(
        source="t",
        external_id="f1",
        subject="upload",
        description="My PDF upload fails, also tried .jpg",
        created_at=T0,
    )
    assert {"file:pdf", "file:jpeg"} <= set(features_from_ticket(t).keys)
    t2 = Ticket(source="t", external_id="f2", subject="x", description="pdfs and mypdf", created_at=T0)
    assert not any(k.startswith("file:") for k in features_from_ticket(t2).keys)


def _stream_with_code(code: str, n: int, other_codes: int) -> list[TicketFeatures]:
    """``n`` tickets sharing no word; one in ``other_codes`` carries ``code``, the rest other codes."""
    out = []
    for i in range(n):
        c = code if i % other_codes == 0 else f"X{i % other_codes}"
        out.append(tk(f"s{i}", f"word{i}a word{i}b", i * 0.01, error=c))  # no shared words
    return out


def test_a_common_code_alone_stops_joining_once_it_is_common() -> None:
    # Code "05" on every second ticket: after the warm-up it is too common to say "same problem".
    g = ProblemGrouper(key_warmup=100)
    g.fit(_stream_with_code("05", 600, 2))
    late = [g.assignments_[f"s{i}"] for i in range(400, 600, 2)]
    assert len(set(late)) > 50
    # With the discount off, the same stream piles every "05" ticket into one problem.
    off = ProblemGrouper(key_warmup=100, key_common_share=0.0).fit(_stream_with_code("05", 600, 2))
    assert len({off.assignments_[f"s{i}"] for i in range(400, 600, 2)}) == 1


def test_a_rare_code_still_joins_on_its_own() -> None:
    g = ProblemGrouper(key_warmup=100)
    tickets = _stream_with_code("Q7", 600, 60)  # one ticket in 60: rarer than key_common_share
    g.fit(tickets)
    assert len({g.assignments_[f"s{i}"] for i in range(360, 600, 60)}) == 1


def _version_pair() -> list[TicketFeatures]:
    text = "webhook never fires since we upgraded the plugin"
    return [
        tk("v1", text, 0, plugin="woocommerce@7.6.2"),
        tk("v2", text, 0.5, plugin="woocommerce@7.6.2"),
        tk("v3", text + " again", 1, plugin="woocommerce@8.0.1"),
    ]


def test_a_contradicting_key_keeps_same_wording_apart() -> None:
    # Same words, but the third ticket names another version than the problem's: evidence against.
    g = ProblemGrouper().fit(_version_pair())
    assert partition(g) == [{"v1", "v2"}, {"v3"}]
    # Without the conflict term the wording alone joins it (so the test fails if the rule goes).
    off = ProblemGrouper(conflict_weight=0.0).fit(_version_pair())
    assert partition(off) == [{"v1", "v2", "v3"}]


def test_no_conflict_when_the_problem_has_no_key_of_that_kind() -> None:
    text = "refund stuck pending since monday"
    g = ProblemGrouper().fit([tk("n1", text, 0), tk("n2", text, 1, error="E4280")])
    assert partition(g) == [{"n1", "n2"}]


def test_plugin_keys_drop_the_kind_word() -> None:
    keys = entity_keys({"plugin": ["WooCommerce plugin", "woocommerce plugin@7.6.2", "stripe-php sdk"]})
    assert keys == frozenset({"plugin:woocommerce", "plugin:woocommerce@7.6.2", "plugin:stripe-php"})
