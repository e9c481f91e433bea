"""Log corroboration: an active log alert matching the tickets lowers the evidence they need, never
retroactively, and never for tickets it does not match."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector
from paytriage.engines.patterns.concepts import Concepts
from paytriage.engines.patterns.features import TicketFeatures
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.log_signals import LogIncident
from paytriage.engines.patterns.systemic import SystemicProblem, SystemicTracker

START = datetime(2026, 3, 2, tzinfo=UTC)
CATEGORIES = ["refund", "card_payment_declined", "payout_withdrawal", "login_and_access", "other"]
AT = START + timedelta(days=4, hours=10)


def background(seed: int, days: int = 6) -> list[tuple[TicketFeatures, str]]:
    rng = random.Random(seed)
    out = []
    t = START
    n = 0
    while t < START + timedelta(days=days):
        t += timedelta(hours=rng.expovariate(3.0 * (1.5 if 8 <= t.hour < 20 else 0.4)))
        n += 1
        cat = rng.choice(CATEGORIES)
        out.append(
            (TicketFeatures(f"b{n}", f"question about {cat} please help", t, frozenset(), f"c{n}"), cat)
        )
    return out


def planted(n: int = 4) -> list[tuple[TicketFeatures, str]]:
    """Sign-in failures with no specific key: only their category and their words tie them."""
    return [
        (
            TicketFeatures(
                f"i{k}",
                "saml sign in rejected, certificate expired",
                AT + timedelta(minutes=3 * k),
                customer_id=f"v{k}",
            ),
            "login_and_access",
        )
        for k in range(n)
    ]


def incident(at: datetime, words: set[str]) -> LogIncident:
    alert = Burst("log:identity:template:saml login rejected", at, 1, 12, 0.1, 1e-9, ())
    return LogIncident("identity", [alert], words=set(words), alert_tokens=[dict.fromkeys(words, at)])


def run(logs: list[LogIncident], seed: int = 1) -> SystemicTracker:
    # the corroboration rule alone: linked tickets are not also a signal of their own here
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector(), alert_signals=False)
    tracker.use_logs(logs)
    for feats, cat in sorted(background(seed) + planted(), key=lambda x: x[0].created_at):
        tracker.add(feats, category=cat)
    return tracker


def test_weak_burst_alone_is_not_systemic() -> None:
    assert run([]).systemic() == []


def test_matching_log_alert_corroborates_the_weak_burst() -> None:
    found = run([incident(AT - timedelta(minutes=10), {"saml", "certificate", "rejected"})]).systemic()
    assert len(found) == 1
    burst = found[0].first_burst
    assert "corroborated by log alert" in burst.describe()
    assert burst.alpha is not None and burst.p_value <= burst.alpha
    assert burst.observed >= 3 and found[0].detected_at <= AT + timedelta(minutes=9)


def test_alert_raised_after_the_tickets_does_not_count() -> None:
    assert run([incident(AT + timedelta(hours=1), {"saml", "certificate", "rejected"})]).systemic() == []


def test_unrelated_log_alert_does_not_count() -> None:
    assert run([incident(AT - timedelta(minutes=10), {"payout", "settlement", "overdue"})]).systemic() == []


def test_stale_alert_does_not_count() -> None:
    old = AT - timedelta(hours=SystemicTracker().log_active_hours + 1)
    assert run([incident(old, {"saml", "certificate", "rejected"})]).systemic() == []


def test_quarter_hour_window_catches_a_fast_start() -> None:
    """Three customers on one rare BIN within six minutes: the 15-minute window calls it at the third."""
    fast = [
        (
            TicketFeatures(
                f"f{k}", "card declined", AT + timedelta(minutes=3 * k), frozenset({"bin:465901"}), f"w{k}"
            ),
            "card_payment_declined",
        )
        for k in range(3)
    ]
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector())
    for feats, cat in sorted(background(2) + fast, key=lambda x: x[0].created_at):
        tracker.add(feats, category=cat)
    [found] = tracker.systemic()
    assert found.detected_at == AT + timedelta(minutes=6)
    assert found.first_burst.window_hours < 1


def test_a_corroborated_signal_backs_later_tickets_with_a_lesser_link() -> None:
    """Two customers paste what the logs say; the next two only say they cannot sign in with SAML."""
    strong = "saml sign in rejected, certificate expired"
    tickets = [
        (TicketFeatures(f"i{k}", strong if k < 2 else "cannot sign in, saml keeps saying rejected",
                        AT + timedelta(minutes=3 * k), customer_id=f"v{k}"), "login_and_access")
        for k in range(4)
    ]  # fmt: skip
    logs = [incident(AT - timedelta(minutes=10), {"saml", "certificate", "rejected", "expired"})]

    def found(backed: float) -> list[SystemicProblem]:
        tracker = SystemicTracker(
            grouper=ProblemGrouper(),
            detector=KeyBurstDetector(),
            min_log_link=3.0,
            min_backed_link=backed,
            alert_signals=False,
        )
        tracker.use_logs(logs)
        for feats, cat in sorted(background(1) + tickets, key=lambda x: x[0].created_at):
            tracker.add(feats, category=cat)
        return list(tracker.systemic())

    assert found(backed=3.0) == []  # only the two who pasted the error match: not enough
    [problem] = found(backed=2.0)
    assert {"i0", "i1", "i2"} <= set(problem.ticket_ids)
    assert "corroborated by log alert" in problem.first_burst.describe()


def acs_incident(at: datetime) -> LogIncident:
    words = {"acs", "did", "answer", "creq", "within", "cres", "none", "~3ds", "~timeout", "gb"}
    alert = Burst("log:acs:template:ACS did not answer CReq within <*>", at, 1, 14, 0.1, 1e-9, ())
    return LogIncident("acs", [alert], words=words, alert_tokens=[dict.fromkeys(words, at)])


def three_ds_tickets(at: datetime, n: int = 3) -> list[tuple[TicketFeatures, str]]:
    """Cardholders who never name what the logs name, filed by Tier 1 under three categories."""
    texts = [
        "The Verified by Visa page never loads and the shop says my card failed",
        "I approved it in my banking app but the checkout timed out",
        "stuck on the 3D Secure screen, it times out every time",
    ]
    cats = ["card_payment_declined", "payment_pending", "fraud_and_security"]
    return [
        (
            TicketFeatures(
                f"a{k}", texts[k % 3], at + timedelta(minutes=4 * k), frozenset({"country:gb"}), f"h{k}"
            ),
            cats[k % 3],
        )
        for k in range(n)
    ]


def track(
    tickets: list[tuple[TicketFeatures, str]], logs: list[LogIncident], **kw: object
) -> SystemicTracker:
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector(), **kw)  # type: ignore[arg-type]
    tracker.use_logs(logs)
    for feats, cat in sorted(background(3) + tickets, key=lambda x: x[0].created_at):
        tracker.add(feats, category=cat)
    return tracker


def test_tickets_linked_to_one_log_alert_across_categories_are_one_problem() -> None:
    """Each category sees one ticket, no key bursts; what they share is the log alert they match
    (through the payments concepts: "Verified by Visa page never loads" ~ "ACS did not answer")."""
    tickets = three_ds_tickets(AT)
    logs = [acs_incident(AT - timedelta(minutes=5))]
    assert track(tickets, logs, alert_signals=False).systemic() == []
    [problem] = track(tickets, logs).systemic()
    assert problem.ticket_ids == {"a0", "a1", "a2"}
    assert problem.first_burst.signal == "alert:acs"
    assert "3 customers linked to acs's log alerts" in problem.first_burst.describe()
    assert problem.detected_at == AT + timedelta(minutes=8)


def test_without_concepts_the_same_tickets_match_no_alert() -> None:
    tickets = three_ds_tickets(AT)
    logs = [acs_incident(AT - timedelta(minutes=5))]
    assert track(tickets, logs, concepts=Concepts({})).systemic() == []


def test_tickets_of_another_alert_of_the_same_service_open_their_own_problem() -> None:
    """One busy service, two unrelated alerts hours apart: the service's signal is shared, the
    problem is not."""
    first = {"acs", "creq", "~3ds", "~timeout", "gb"}
    second = {"rate", "limit", "exceeded", "~rate_limit", "429"}
    at2 = AT + timedelta(hours=3)
    alerts = [
        Burst("log:acs:template:ACS did not answer CReq", AT - timedelta(minutes=5), 1, 14, 0.1, 1e-9, ()),
        Burst("log:acs:status:429", at2 - timedelta(minutes=5), 1, 14, 0.1, 1e-9, ()),
    ]
    inc = LogIncident(
        "acs",
        alerts,
        words=first | second,
        alert_tokens=[
            dict.fromkeys(first, alerts[0].detected_at),
            dict.fromkeys(second, alerts[1].detected_at),
        ],
    )
    text = "we hit the rate limit, 429 Too Many Requests"
    limited = [
        (
            TicketFeatures(f"r{k}", text, at2 + timedelta(minutes=4 * k), frozenset(), f"m{k}"),
            "api_integration",
        )
        for k in range(3)
    ]
    found = track(three_ds_tickets(AT) + limited, [inc]).systemic()
    assert [p.ticket_ids for p in found] == [{"a0", "a1", "a2"}, {"r0", "r1", "r2"}]


def _refund_incidents(signal: str) -> list[LogIncident]:
    """The refund service's alert naming three refunds, and two other incidents that also speak of
    refunds (so the words alone are weak evidence)."""
    ids = {"re_1", "re_2", "re_3"}
    out = []
    for n, sig in enumerate((signal, "log:refund-service:status:500", "log:ledger:template:refund <*> late")):
        words = {"refund", "~refund"} | ({"created", "payment"} if n == 0 else {"failed"})
        toks = words | (ids if n == 0 else set())
        at = AT - timedelta(hours=2 - n / 2)
        alert = Burst(sig, at, 1, 5, 0.1, 1e-9, ())
        out.append(
            LogIncident(
                sig.split(":")[1],
                [alert],
                ids=ids if n == 0 else set(),
                words=words,
                alert_tokens=[dict.fromkeys(toks, at)],
            )
        )
    return out


def _refund_tickets() -> list[tuple[TicketFeatures, str]]:
    text = "I got my refund but it is way less than I paid"
    return [
        (
            TicketFeatures(
                f"y{k}",
                text,
                AT + timedelta(minutes=4 * k),
                customer_id=f"z{k}",
                transaction_ids=(f"re_{k + 1}",),
            ),
            "refund",
        )
        for k in range(3)
    ]


def test_tickets_naming_a_transaction_whose_logged_amount_was_off_are_linked_by_that_alone() -> None:
    """A value-shift alert's lines are the anomalous amounts themselves: a customer whose refund is
    one of them is that incident whatever words they use; the same ids in a busy template's window
    are bystanders and need the words too."""
    value = "log:refund-service:value:amount:JPY:Refund <*> created for payment <*> amount=<*>"
    [problem] = track(_refund_tickets(), _refund_incidents(value)).systemic()
    assert {"y0", "y1", "y2"} <= problem.ticket_ids
    assert problem.first_burst.signal == "alert:refund-service"
    template = "log:refund-service:template:Refund <*> created for payment <*> amount=<*>"
    assert track(_refund_tickets(), _refund_incidents(template)).systemic() == []


def _gateway_incident(at: datetime) -> LogIncident:
    """A gateway alert whose lines name a popular plugin (three tokens of one fact) and its error."""
    toks = {"magento", "2.4.1", "magento@2.4.1", "bad_gateway", "post"}
    alert = Burst("log:api-gateway:template:POST <*> <*> bad_gateway", at, 1, 9, 0.1, 1e-9, ())
    return LogIncident("api-gateway", [alert], values=set(toks), alert_tokens=[dict.fromkeys(toks, at)])


def test_one_key_is_one_piece_of_evidence_however_many_tokens_it_reads_as() -> None:
    """plugin:magento@2.4.1 matches "magento", "2.4.1" and "magento@2.4.1" in the lines: one fact,
    not three; a ticket quoting the gateway's error as well links."""
    plugin = frozenset({"plugin:magento@2.4.1"})
    quiet = TicketFeatures("q1", "my order shows twice on my statement", AT, plugin, "c1")
    quoting = TicketFeatures("q2", "every call fails with bad_gateway", AT, plugin, "c2")
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector())
    tracker.use_logs(
        [_gateway_incident(AT - timedelta(minutes=30)), incident(AT - timedelta(hours=1), {"saml"})]
    )
    tracker.add(quiet, category="incorrect_or_duplicate_charge")
    tracker.add(quoting, category="api_integration")
    assert "q1" not in tracker.links_
    assert {sig for _i, sig in tracker.links_["q2"]} == {"log:api-gateway:template:POST <*> <*> bad_gateway"}


def _bank_tickets(n: int = 3) -> list[tuple[TicketFeatures, str]]:
    return [
        (
            TicketFeatures(f"k{k}", "my payout has not arrived", AT + timedelta(minutes=9 * k),
                           frozenset({"bank:hanse handelsbank"}), f"w{k}"),
            "payout_withdrawal",
        )
        for k in range(n)
    ]  # fmt: skip


def test_a_bank_whose_connector_logs_are_quiet_needs_stronger_evidence() -> None:
    """Three payout tickets naming one bank in half an hour, nothing in the logs about it: at the
    detector's level a burst, at a tenth of it (the bank's own connector is silent) not yet; with no
    logs given at all, silence means nothing."""
    unrelated = [incident(AT - timedelta(days=2), {"saml"})]
    loose = track(_bank_tickets(), unrelated, silent_factor=1.0).systemic()
    [problem] = [p for p in loose if {"k0", "k1", "k2"} <= p.ticket_ids]
    p_value = problem.first_burst.p_value
    assert 1e-7 < p_value <= 1e-6
    assert not any({"k0", "k1", "k2"} <= p.ticket_ids for p in track(_bank_tickets(), unrelated).systemic())
    assert any({"k0", "k1", "k2"} <= p.ticket_ids for p in track(_bank_tickets(), []).systemic())


def test_a_payment_logged_by_several_services_counts_whole_for_its_ticket() -> None:
    """One payment timed out at the ACS, was declined by the core and retried at the gateway: three
    incidents name it. It is still one payment, the customer's own: it weighs as much as a word only
    one incident uses, so with one such word the ticket links (by 1/df it would weigh a third)."""
    alerts = []
    named = {"acs_connector.challenge": {"creq", "pay_9"}, "payments-core": {"pay_9"}, "gateway": {"pay_9"}}
    for n, (service, words) in enumerate(named.items()):
        at = AT - timedelta(minutes=30 - n)
        burst = Burst(f"log:{service}:template:line {n}", at, 1, 9, 0.1, 1e-9, ())
        tokens = [dict.fromkeys(words, at)]
        alerts.append(LogIncident(service, [burst], words=set(words), alert_tokens=tokens))
    tracker = SystemicTracker(grouper=ProblemGrouper(), detector=KeyBurstDetector())
    tracker.use_logs(alerts)
    text = "the bank page never answered creq"
    paid = TicketFeatures("p1", text, AT, customer_id="c1", transaction_ids=("pay_9",))
    tracker.add(paid, category="other")
    assert {sig for _i, sig in tracker.links_["p1"]} == {"log:acs_connector.challenge:template:line 0"}
    # the same words without the payment stay below the link threshold
    tracker.add(TicketFeatures("p2", text, AT, customer_id="c2"), category="other")
    assert "p2" not in tracker.links_
