"""Systemic problems from key bursts: a planted burst is one problem; everyday traffic is none."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.bursts import KeyBurstDetector
from paytriage.engines.patterns.detection import count_tail
from paytriage.engines.patterns.features import TicketFeatures
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import LogLine, LogSignalDetector, link_score, log_template
from paytriage.engines.patterns.systemic import SystemicTracker, ticket_signals

START = datetime(2026, 3, 2, tzinfo=UTC)
CATEGORIES = ["refund", "card_payment_declined", "payout_withdrawal", "login_and_access", "other"]
WORDS = {
    "refund": "where is my refund for the order",
    "card_payment_declined": "my card was declined at checkout",
    "payout_withdrawal": "when will my payout arrive",
    "login_and_access": "cannot log in to the dashboard",
    "other": "question about pricing and fees",
}


def background(seed: int, days: int, per_hour: float = 3.0) -> list[tuple[TicketFeatures, str]]:
    """Everyday tickets: steady categories, common countries, a day/night rhythm."""
    rng = random.Random(seed)
    out = []
    t = START
    n = 0
    while t < START + timedelta(days=days):
        rate = per_hour * (1.5 if 8 <= t.hour < 20 else 0.4)
        t += timedelta(hours=rng.expovariate(rate))
        cat = rng.choice(CATEGORIES)
        keys = {f"country:{rng.choice(['de', 'gb', 'fr', 'us'])}"}
        if cat == "card_payment_declined":
            keys.add(f"error:{rng.choice(['05', '51', '54'])}")
        n += 1
        out.append((TicketFeatures(f"b{n}", WORDS[cat], t, frozenset(keys), f"c{n}"), cat))
    return out


def planted(at: datetime, n: int = 8) -> list[tuple[TicketFeatures, str]]:
    """An issuer outage: declines on one BIN with response code 91, from different customers."""
    return [
        (
            TicketFeatures(
                f"i{k}",
                "all payments with our cards fail, issuer unavailable",
                at + timedelta(minutes=7 * k),
                frozenset({"bin:465901", "error:91", "country:gb"}),
                f"victim{k}",
            ),
            "card_payment_declined",
        )
        for k in range(n)
    ]


def run(tickets: list[tuple[TicketFeatures, str]]) -> SystemicTracker:
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector())
    for feats, cat in sorted(tickets, key=lambda x: x[0].created_at):
        tracker.add(feats, category=cat)
    return tracker


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_everyday_traffic_is_never_systemic(seed: int) -> None:
    assert run(background(seed, days=6)).systemic() == []


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_burst_is_one_problem_detected_early(seed: int) -> None:
    at = START + timedelta(days=4, hours=10)
    tracker = run(background(seed, days=6) + planted(at))
    found = tracker.systemic()
    assert len(found) == 1, [p.bursts for p in found]
    p = found[0]
    members = set(tracker.grouper_.problem(p.problem_id).ticket_ids)
    assert {f"i{k}" for k in range(8)} <= members
    # the burst window's other carriers of the key come along; they stay a small minority
    assert len(members - {f"i{k}" for k in range(8)}) <= 3
    assert p.detected_at <= at + timedelta(minutes=7 * 3)  # by the fourth ticket
    assert p.first_burst.p_value <= 1e-6 and p.first_burst.observed >= 3


def test_same_customer_repeating_is_not_a_burst() -> None:
    at = START + timedelta(days=4, hours=10)
    repeats = [
        (
            TicketFeatures(
                f"r{k}", "declined again", at + timedelta(minutes=k), frozenset({"bin:465901"}), "same"
            ),
            "other",
        )
        for k in range(10)
    ]
    assert run(background(4, days=5) + repeats).systemic() == []


def test_no_burst_before_history() -> None:
    """A brand-new queue has no baseline: its first hours are never called a burst."""
    assert run(planted(START)).systemic() == []


def test_signals_combine_category_and_keys() -> None:
    sig = ticket_signals(["bin:465901", "country:gb", "merchant:m1"], "card_payment_declined")
    assert "bin:465901" in sig and "country:gb" not in sig and "merchant:m1" not in sig
    assert "category:card_payment_declined|country:gb" in sig
    assert "category:card_payment_declined" in sig


def test_detector_rejects_out_of_order_and_bad_parameters() -> None:
    det = KeyBurstDetector()
    det.observe("a", START + timedelta(hours=1), ["x"])
    with pytest.raises(InputError):
        det.observe("b", START, ["x"])
    with pytest.raises(InputError):
        KeyBurstDetector(alpha=2.0).observe("a", START, ["x"])


def test_count_tail_edges() -> None:
    assert count_tail(0, 3.0) == 1.0
    assert count_tail(1, 0.0) == 0.0
    assert count_tail(10, 1.0) < count_tail(3, 1.0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.sampled_from(["a", "b", "c"]), st.integers(0, 30)), max_size=60
    )
)
def test_bursts_always_meet_minimum_evidence(events: list[tuple[int, str, int]]) -> None:
    det = KeyBurstDetector(min_history_hours=1)
    for minute, sig, who in sorted(events):
        for b in det.observe(f"{minute}{sig}{who}", START + timedelta(minutes=minute), [sig], str(who)):
            assert b.observed >= det.min_customers
            assert b.p_value <= det.alpha
            assert b.observed >= det.min_ratio * b.expected


def test_log_template_masks_numbers_and_keeps_words() -> None:
    assert log_template("issuer response 91 for bin=465901 retryable=true") == (
        "issuer response <*> for bin=<*> retryable=true"
    )


def test_log_burst_is_one_incident_with_evidence() -> None:
    lines = [
        LogLine(
            START + timedelta(minutes=20 * k), "payments-core", "warn", f"auth declined txn=pay_{k:08d} rc=05"
        )
        for k in range(3 * 72)
    ]
    at = START + timedelta(days=3, hours=2)
    lines += [
        LogLine(
            at + timedelta(seconds=30 * k),
            "payments-core-2",
            "error",
            f"issuer timeout bin={k} txn=pay_x{k:07d}",
        )
        for k in range(40)
    ]
    incidents = LogSignalDetector().detect(lines)
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.service == "payments-core"
    assert at <= inc.detected_at <= at + timedelta(minutes=5)
    assert "issuer" in inc.words and "pay_x0000001" in inc.ids
    assert link_score(inc, ["pay_x0000001"], ["issuer", "timeout"]) == 3


def _outage(
    prefix: str, at: datetime, text: str, keys: set[str], n: int = 8
) -> list[tuple[TicketFeatures, str]]:
    return [
        (
            TicketFeatures(
                f"{prefix}{k}", text, at + timedelta(minutes=6 * k), frozenset(keys), f"{prefix}c{k}"
            ),
            "card_payment_declined",
        )
        for k in range(n)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_hub_key_bursting_again_days_later_is_a_new_outage(seed: int) -> None:
    # one acquirer carries both outages; the second shows first on that key alone, with other words
    first = START + timedelta(days=2, hours=10)
    second = START + timedelta(days=4, hours=15)
    acs = _outage(
        "a", first, "3-D Secure page times out and the payment fails", {"processor:acq-eu", "bin:454313"}
    )
    issuer = _outage(
        "j", second, "issuer unavailable, every card from our bank refused", {"processor:acq-eu"}
    )
    tracker = run(background(seed, days=6) + acs + issuer)
    owners = {}
    for p in tracker.systemic():
        for t in tracker.grouper_.problem(p.problem_id).ticket_ids:
            owners[t] = p.problem_id
    a = {owners.get(f"a{k}") for k in range(8)}
    j = {owners.get(f"j{k}") for k in range(8)}
    assert None not in a and None not in j
    assert not a & j, "the second outage was filed under the first"


def _acquirer_day(seed: int) -> list[tuple[TicketFeatures, str]]:
    """Everyday tickets, a third of them processed by one acquirer (its key is everywhere)."""
    rng = random.Random(seed)
    out = []
    for feats, cat in background(seed, 4):
        if rng.random() < 0.35:
            feats = TicketFeatures(feats.ticket_id, feats.text, feats.created_at,
                                   feats.keys | {"processor:acq-eu"}, feats.customer_id)  # fmt: skip
        out.append((feats, cat))
    return out


def test_a_key_on_many_tickets_joins_only_tickets_that_read_like_the_problem() -> None:
    """A yen refund outage at the biggest acquirer makes its key burst too; a rate-limit ticket
    processed there an hour later is not part of it, a refund ticket worded like it is."""
    at = START + timedelta(days=3, hours=10)
    outage = [
        (
            TicketFeatures(
                f"y{k}",
                "my refund is way less than i paid",
                at + timedelta(minutes=2 * k),
                frozenset({"processor:acq-eu", "currency:jpy"}),
                f"y{k}",
            ),
            "refund",
        )
        for k in range(15)
    ]
    later = at + timedelta(minutes=45)
    api = TicketFeatures(
        "api", "we hit 429 too many requests on the api", later, frozenset({"processor:acq-eu"}), "dev"
    )
    alike = TicketFeatures(
        "alike", "refund way less than what i paid", later, frozenset({"processor:acq-eu"}), "z"
    )

    def run(**kw: float) -> set[str]:
        tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector(), **kw)  # type: ignore[arg-type]
        extra = [(api, "api_integration"), (alike, "refund")]
        for feats, cat in sorted(_acquirer_day(2) + outage + extra, key=lambda x: x[0].created_at):
            tracker.add(feats, category=cat)
        [problem] = [p for p in tracker.systemic() if "y0" in p.ticket_ids]
        assert any(b.signal == "processor:acq-eu" for b in problem.bursts)
        return problem.ticket_ids

    members = run()
    assert "alike" in members and "api" not in members
    assert "api" in run(broad_share=1.0)  # without the rule the acquirer's key pulls it in


def test_a_category_bursting_again_joins_a_problem_only_with_tickets_that_read_like_it() -> None:
    """Refunds rejected by a plugin, then three hours later (the category's burst has gone quiet
    against its everyday volume) refunds that arrive halved: one category, two incidents. The
    second burst joins the first only if its words match."""
    at = START + timedelta(days=3, hours=9)
    webhook = "shopware plugin rejects every refund with signature mismatch"
    topup = "customer received only half the amount back, currency conversion wrong"

    def tickets(prefix: str, text: str, when: datetime) -> list[tuple[TicketFeatures, str]]:
        return [
            (
                TicketFeatures(
                    f"{prefix}{k}", text, when + timedelta(minutes=4 * k), frozenset(), f"{prefix}c{k}"
                ),
                "refund",
            )
            for k in range(8)
        ]

    def run(**kw: float) -> list[set[str]]:
        tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector(), **kw)  # type: ignore[arg-type]
        stream = background(4, 4) + tickets("w", webhook, at) + tickets("t", topup, at + timedelta(hours=3))
        for feats, cat in sorted(stream, key=lambda x: x[0].created_at):
            tracker.add(feats, category=cat)
        return [p.ticket_ids for p in tracker.systemic()]

    found = run()
    assert any({f"w{k}" for k in range(8)} <= p and not any(t.startswith("t") for t in p) for p in found)
    assert any({f"t{k}" for k in range(3)} <= p for p in found)
    # with no text bar, the second burst is folded into the first
    assert any({"w0", "t0"} <= p for p in run(min_text_similarity=0.0))


def test_a_category_burst_is_not_pulled_into_a_problem_by_its_hot_refinement() -> None:
    """A webhook outage at one plugin leaves orders pending (``category:payment_pending|plugin:…``
    bursts in its problem); that evening, bank-transfer top-ups pending at one bank make the bare
    category burst. The bare category is no more specific for the webhook problem holding a hot
    refinement of it: the top-ups join it only if they read like it, and they do not."""
    at = START + timedelta(days=3, hours=9)
    stream = [
        (
            TicketFeatures(
                feats.ticket_id,
                "my payment is still pending",
                feats.created_at,
                feats.keys,
                feats.customer_id,
            ),
            "payment_pending",
        )
        if cat == "other"
        else (feats, cat)
        for feats, cat in background(5, 4)
    ]

    def outage(prefix: str, text: str, cat: str, key: str, when: datetime, n: int) -> None:
        for k in range(n):
            feats = TicketFeatures(
                f"{prefix}{k}", text, when + timedelta(minutes=5 * k), frozenset({key}), f"{prefix}c{k}"
            )
            stream.append((feats, cat))

    plugin = "plugin:shopware@1.9.0"
    outage("w", "shopware webhook signature rejected, events fail", "api_integration", plugin, at, 8)
    outage("p", "shopware orders stuck pending, webhook never confirmed", "payment_pending", plugin, at, 5)
    bank = "bank:banca adriatica"
    outage(
        "t",
        "bank transfer top-up not credited to balance",
        "payment_pending",
        bank,
        at + timedelta(hours=2),
        10,
    )
    tracker = run(stream)
    owner = {t: p.problem_id for p in tracker.systemic() for t in p.ticket_ids}
    assert owner.get("w0") is not None and owner.get("t5") is not None
    assert owner["w0"] != owner["t5"], "the top-ups were filed under the webhook outage"
    assert {owner.get(f"t{k}") for k in range(5, 10)} == {owner["t5"]}


def test_two_incidents_minutes_apart_are_not_merged_by_a_burst_that_reads_like_one() -> None:
    """An issuer outage (its tickets name a popular API version) and a rate-limit incident start
    minutes apart. Rate-limit tickets from merchants on that API version then burst on
    ``category:api_integration|plugin:direct-api@…``, a refinement of a signal hot in each problem.
    They read like the rate-limit problem only, so they join it and do not merge the two."""
    at = START + timedelta(days=9, hours=1)
    api = "plugin:direct-api@2025-04-30"
    stream = background(6, 10)  # ten days: the API version stays on under 5 % of the tickets

    def add(prefix: str, text: str, cat: str, keys: set[str], when: datetime, n: int, step: float) -> None:
        for k in range(n):
            feats = TicketFeatures(
                f"{prefix}{k}", text, when + timedelta(minutes=step * k), frozenset(keys), f"{prefix}c{k}"
            )
            stream.append((feats, cat))

    outage = "card declined, issuer unavailable for every customer of our bank"
    add("o", outage, "card_payment_declined", {"bin:497010", api}, at, 10, 4)
    limit = "api returns 429 too many requests, rate limit exceeded on our integration"
    add("r", limit, "api_integration", set(), at + timedelta(minutes=5), 6, 5)
    add("s", limit, "api_integration", {api}, at + timedelta(minutes=50), 8, 3)
    tracker = run(stream)
    owner = {t: p.problem_id for p in tracker.systemic() for t in p.ticket_ids}
    assert owner.get("o0") is not None and owner.get("r0") is not None
    assert owner["o0"] != owner["r0"], "the rate-limit incident was merged into the issuer outage"
    assert owner.get("s7") == owner["r0"]


def test_a_slice_of_a_category_burst_under_way_joins_it_whatever_its_words() -> None:
    """A login outage bursts on its category; forty minutes on, Italian customers who describe it
    in other words make ``category:login_and_access|country:it`` burst. While the category is
    still mostly excess, they are a slice of that excess: the same problem, not a second one."""
    at = START + timedelta(days=3, hours=10)
    stream = background(8, 4)
    countries = ["de", "gb", "fr", "us"]
    for k in range(12):
        feats = TicketFeatures(
            f"o{k}",
            "sso login broken, saml assertion rejected for the whole team",
            at + timedelta(minutes=5 * k),
            frozenset({f"country:{countries[k % 4]}"}),
            f"oc{k}",
        )
        stream.append((feats, "login_and_access"))
    for k in range(4):
        feats = TicketFeatures(
            f"i{k}",
            "staff bounce back to the start page every time, since this morning",
            at + timedelta(minutes=40 + 4 * k),
            frozenset({"country:it"}),
            f"ic{k}",
        )
        stream.append((feats, "login_and_access"))
    tracker = run(stream)
    owner = {t: p.problem_id for p in tracker.systemic() for t in p.ticket_ids}
    assert owner.get("o0") is not None
    assert {owner.get(f"i{k}") for k in range(3)} == {owner["o0"]}


def _surge_across_categories(at: datetime, *, intent: bool) -> list[tuple[TicketFeatures, str]]:
    """Customers hit by one failure, each wording it their own way: triage spreads them over the
    categories (no category gets more than two) and they name no identifier."""
    wordings = ["money I added is not showing", "top-up still pending after an hour",
                "balance did not go up after adding funds", "where is the cash I put in",
                "added money yesterday, nothing arrived", "my top up has not gone through",
                "funds I loaded are missing", "topping up does not work since this morning"]  # fmt: skip
    keys = frozenset({"intent:7"} if intent else ())
    return [
        (
            TicketFeatures(f"s{k}", text, at + timedelta(minutes=9 * k), keys, f"hit{k}"),
            CATEGORIES[k % len(CATEGORIES)],
        )
        for k, text in enumerate(wordings)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_surge_of_one_intent_worded_many_ways_bursts_on_its_intent(seed: int) -> None:
    """The intent group a clusterer fitted on past tickets gives each ticket is a key like a BIN:
    a surge filed under five categories, with no identifier, is found by its intent alone."""
    at = START + timedelta(days=4, hours=10)
    everyday = []
    for f, c in background(seed, days=6):
        f.keys = f.keys | {f"intent:{CATEGORIES.index(c)}"}
        everyday.append((f, c))
    tracker = run(everyday + _surge_across_categories(at, intent=True))
    [found] = tracker.systemic()
    assert found.first_burst.signal == "intent:7"
    assert found.detected_at <= at + timedelta(minutes=9 * 3)  # by the fourth ticket
    assert {f"s{k}" for k in range(8)} <= found.ticket_ids
    # without intent groups the same surge is invisible: its categories stay at their baseline
    assert run(background(seed, days=6) + _surge_across_categories(at, intent=False)).systemic() == []


def test_one_intent_cut_into_two_groups_is_one_problem() -> None:
    """An unsupervised clusterer may split one intent into two neighbouring groups: the surge then
    bursts on both; the second burst's tickets read like the first problem, so they join it."""
    at = START + timedelta(days=4, hours=10)
    everyday = []
    for f, c in background(1, days=6):
        f.keys = f.keys | {f"intent:{CATEGORIES.index(c)}"}
        everyday.append((f, c))
    tails = ["today", "since noon", "again", "after an hour", "still", "why", "help", "now"]
    surge = []
    for n, tail in enumerate(tails):
        when = at + timedelta(minutes=6 * n)
        feats = TicketFeatures(
            f"s{n}", f"my top up is still pending {tail}", when, frozenset({f"intent:{7 + n % 2}"})
        )
        feats.customer_id = f"hit{n}"
        surge.append((feats, CATEGORIES[n % len(CATEGORIES)]))
    [found] = run(everyday + surge).systemic()
    assert {b.signal for b in found.bursts} >= {"intent:7", "intent:8"}
    assert {f"s{k}" for k in range(8)} <= found.ticket_ids


def _new_category(at: datetime, n: int, minutes: float) -> list[tuple[TicketFeatures, str]]:
    return [
        (
            TicketFeatures(
                f"n{k}",
                "chargeback received for an order",
                at + timedelta(minutes=minutes * k),
                customer_id=f"d{k}",
            ),
            "chargeback_dispute",
        )
        for k in range(n)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_young_queue_does_not_call_a_category_it_has_not_met_yet_on_a_few_tickets(seed: int) -> None:
    """On a queue's second day a category it has not seen yet has no share to speak of: six disputes
    in three hours are an ordinary afternoon for a category that is one of several, not a burst. The
    prior (one over the categories seen, worth 50 tickets) says so; a real surge still bursts."""
    at = START + timedelta(hours=33)
    assert run(background(seed, days=3) + _new_category(at, 6, 30)).systemic() == []
    [found] = run(background(seed, days=3) + _new_category(at, 12, 5)).systemic()
    assert found.first_burst.signal == "category:chargeback_dispute"
