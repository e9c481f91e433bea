"""Log incidents link to problems by specific shared evidence, timed by the alert that explains them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.engines.patterns.bursts import Burst
from paytriage.engines.patterns.concepts import Concepts
from paytriage.engines.patterns.log_signals import (
    FirstSeenWatcher,
    LogIncident,
    LogLine,
    LogSignalDetector,
    _Novelty,
    first_link,
    key_tokens,
    link_weight,
    log_template,
    novelty_key,
    token_weights,
)

START = datetime(2026, 3, 2, tzinfo=UTC)


def _steady() -> list[LogLine]:
    """Three days of ordinary gateway noise: one warning an hour on varied paths."""
    return [
        LogLine(START + timedelta(minutes=60 * k), "gateway", "warn", f"GET /v1/x/{k} 404 missing", 404)
        for k in range(72)
    ]


def _spike(at: datetime, n: int, message: str, status: int, **kw: object) -> list[LogLine]:
    return [
        LogLine(at + timedelta(seconds=40 * k), "gateway", "warn", message.format(k=k), status, **kw)  # type: ignore[arg-type]
        for k in range(n)
    ]


def test_values_and_stored_ids_become_evidence() -> None:
    at = START + timedelta(days=3, hours=1)
    lines = _steady() + _spike(
        at,
        12,
        "issuer response rc=91 for bin=465901 stan={k}",
        502,
        ids=("pay_abc123456",),
        attributes={"client": "ios-sdk/5.4.0"},
    )
    [inc] = LogSignalDetector().detect(lines)
    assert {"465901", "91", "502", "ios-sdk", "5.4.0", "ios-sdk@5.4.0"} <= inc.values
    assert "pay_abc123456" in inc.ids


def test_a_known_error_alerts_on_its_fourth_line_in_minutes() -> None:
    # an issuer outage: a decline the gateway logged once before comes four times in two minutes;
    # the rate alert is raised at the fourth line (not the fifth: the first tickets arrive that fast)
    decline = "POST /v1/payments 402 issuer_unavailable"
    known = [LogLine(START + timedelta(hours=12), "gateway", "warn", decline, 402)]
    at = START + timedelta(days=3, hours=1)
    spike = _spike(at, 4, decline, 402)
    lines = sorted(_steady() + known + spike, key=lambda x: x.timestamp)
    [inc] = LogSignalDetector().detect(lines)
    assert inc.detected_at == spike[-1].timestamp
    assert any(":status:402" in s or "issuer_unavailable" in s for s in inc.signals)
    # three lines are not yet evidence enough
    assert LogSignalDetector().detect(sorted(_steady() + known + spike[:3], key=lambda x: x.timestamp)) == []


def test_lines_carry_the_payments_concepts_they_name() -> None:
    """ACS/CReq is 3-D Secure to a cardholder: the incident carries ``~3ds`` for tickets to meet."""
    at = START + timedelta(days=3, hours=1)
    lines = _steady() + _spike(at, 12, "ACS did not answer CReq within 10000ms txn=pay_{k}abcdef", 504)
    [inc] = LogSignalDetector().detect(lines)
    assert {"~3ds", "~timeout", "creq"} <= inc.words
    assert all("~3ds" in mine for mine in inc.alert_tokens if mine)
    [bare] = LogSignalDetector(concepts=Concepts({})).detect(lines)
    assert not any(w.startswith("~") for w in bare.words)


def test_key_tokens_match_what_log_lines_name() -> None:
    toks = key_tokens(["plugin:ios-sdk@5.4.0", "bank:hanse handelsbank", "bin:465901"])
    assert {"ios-sdk@5.4.0", "ios-sdk", "5.4.0", "hanse", "handelsbank", "465901"} <= toks


def test_merged_alerts_link_by_the_alert_that_explains_the_problem() -> None:
    """An unrelated spike opens the service's incident; the issuer alert two hours later, in the
    same incident, is the one that explains a decline problem, and times the link."""
    early = START + timedelta(days=3, hours=1)
    later = early + timedelta(hours=2)
    lines = _steady()
    lines += _spike(early, 10, "POST /v1/payments 409 idempotency_key_in_use", 409)
    lines += _spike(later, 10, "POST /v1/payments 402 issuer_unavailable bin=465901", 402)
    [inc] = LogSignalDetector().detect(lines)
    assert len({a.signal for a in inc.alerts}) > 2
    weights = token_weights([inc])
    hit = first_link(inc, {"465901", "issuer_unavailable", "refund"}, weights, 2.0)
    assert hit is not None
    assert later <= hit[0] <= later + timedelta(minutes=10)
    assert first_link(inc, {"465901"}, weights, 2.0) is None  # one token is not enough


def test_common_tokens_weigh_less_than_specific_ones() -> None:
    a = LogSignalDetector().detect(_steady() + _spike(START + timedelta(days=3), 10, "x bin=1 ccy=eur", 500))
    b = LogSignalDetector().detect(_steady() + _spike(START + timedelta(days=3), 10, "y bin=2 ccy=eur", 503))
    incs = a + b
    weights = token_weights(incs)
    assert weights["eur"] == 0.5 and weights["1"] == 1.0
    assert link_weight(a[0], {"eur", "1"}, weights) == 1.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=20))
def test_any_message_is_safe(messages: list[str]) -> None:
    lines = [LogLine(START + timedelta(minutes=k), "svc", "error", m, 500) for k, m in enumerate(messages)]
    for inc in LogSignalDetector().detect(lines):
        assert len(inc.alert_tokens) == len(inc.alerts)


def _payouts_quiet() -> list[LogLine]:
    """A week of one known warning a day: a service where warnings are rare and all alike."""
    return [
        LogLine(START + timedelta(days=d, hours=3), "payouts", "warn", f"bank status poll slow ms={300 + d}")
        for d in range(7)
    ]


def _overdue(at: datetime, n: int = 1) -> list[LogLine]:
    return [
        LogLine(
            at + timedelta(minutes=25 * k), "payouts", "warn", f"settlement overdue bank=HANSDEFF batches={k}"
        )
        for k in range(n)
    ]


def test_a_never_seen_warning_alerts_on_its_first_line() -> None:
    at = START + timedelta(days=7, hours=8)
    [inc] = LogSignalDetector().detect(_payouts_quiet() + _overdue(at, 3))
    assert inc.detected_at == at  # one line is enough: the rate tests would need five
    assert inc.alerts[0].note.startswith("first seen")
    assert "hansdeff" in inc.values
    # the same lines without the novelty rule raise nothing
    assert LogSignalDetector(novelty_max_share=0.0).detect(_payouts_quiet() + _overdue(at, 3)) == []


def test_no_first_seen_alert_before_the_service_has_a_history() -> None:
    at = START + timedelta(hours=5)
    assert LogSignalDetector().detect(_payouts_quiet()[:1] + _overdue(at)) == []
    # history may come from lines of any level the caller knows about (service_since)
    [inc] = LogSignalDetector().detect(_overdue(at), service_since={"payouts": START - timedelta(days=2)})
    assert inc.detected_at == at


def test_no_first_seen_alert_where_new_warnings_are_routine() -> None:
    """A chatty service whose every warning is a new template (real logs can be like this)."""
    chatty = [
        LogLine(
            START + timedelta(hours=h),
            "payouts",
            "warn",
            f"job {chr(97 + h // 26)}{chr(97 + h % 26)} failed",  # letters only: a new template each
        )
        for h in range(24 * 7)
    ]
    at = START + timedelta(days=7, hours=8)
    assert LogSignalDetector().detect(chatty + _overdue(at)) == []


def _rejected(at: datetime, reason: str) -> LogLine:
    return LogLine(
        at,
        "refund-service",
        "ERROR",
        f"Refund re_{at:%d%H%M}ab rejected: {reason} RefundRejectedException: see cause at Handler.process",
    )


def _refund_history() -> list[LogLine]:
    """A week of refund rejections for one reason, among many alike outbox warnings."""
    outbox = [
        LogLine(
            START + timedelta(hours=h),
            "refund-service",
            "WARN",
            "Failed to publish RefundCreated, will retry",
        )
        for h in range(0, 24 * 7, 2)
    ]
    return outbox + [
        _rejected(START + timedelta(days=d, hours=5), "refund exceeds captured amount") for d in range(7)
    ]


def test_a_known_warning_with_another_reason_is_recorded_but_never_evidence() -> None:
    """An error tracker groups by exception and stack, not by the message's wording: a rejection
    naming another reason ("card account closed") is the same kind of warning. Its first line is
    kept (marked routine) and its words count towards how common a word is in the logs, but it
    ties no ticket to itself; a warning of a new shape alerts as before."""
    at = START + timedelta(days=7, hours=8)
    [inc] = LogSignalDetector().detect([*_refund_history(), _rejected(at, "card account closed")])
    [alert] = inc.alerts
    assert alert.routine and alert.note.startswith("first seen") and "another reason" in alert.note
    assert {"card", "closed"} <= inc.words  # counted in the logs' vocabulary
    assert inc.alert_tokens == [{}]  # nothing a ticket can link to
    assert first_link(inc, {"card", "account", "closed", "refund"}, {}, 1.0) is None
    new = LogLine(
        at, "refund-service", "ERROR", "settlement file rejected by acquirer bank=HANSDEFF batches=3"
    )
    [inc] = LogSignalDetector().detect([*_refund_history(), new])
    assert not inc.alerts[0].routine and {"settlement", "hansdeff"} <= set(inc.alert_tokens[0])
    # without the rule (variant_span=0 in FirstSeenWatcher) the reworded rejection is a new warning
    watcher = FirstSeenWatcher(variant_span=0)
    got = [
        watcher.observe(str(k), x) for k, x in enumerate([*_refund_history(), _rejected(at, "card closed")])
    ]
    assert [b.routine for b in got if b is not None] == [False]


@pytest.mark.parametrize(
    ("known", "new", "variant"),
    [
        ("POST /v1/payments 402 stolen_card", "POST /v1/payments 402 processing_error", True),
        (
            "Refund re_1 rejected: card closed see cause at x",
            "Refund re_2 rejected: refund exceeds its amount see cause at x",
            True,
        ),
        (
            "Refund re_1 rejected: card closed",
            "Refund re_2 rejected: refund exceeds captured amount",
            False,
        ),  # 4 changed, 3 kept
        ("upload failed account=u_1", "settlement overdue bank=HANSDEFF", False),
        ("job aa failed", "job ab failed", True),
        # wildcards kept say nothing: a new exception after a routine line of the same shape is new
        ("blk_1 Served block blk_2 to 10.0.0.1", "blk_1 exception while serving blk_2 to 10.0.0.1", False),
        ("a b c d e f g h", "a x y z w v g h", False),  # five words changed: beyond the span
    ],
)
def test_variants_differ_in_one_short_run_of_words(known: str, new: str, variant: bool) -> None:
    seen = _Novelty(START)
    seen.observe(novelty_key(log_template(known)))
    assert seen.variant(novelty_key(log_template(new)), 4) is variant
    assert not seen.variant(novelty_key(log_template(new)), 0)


def _refunds(at: datetime, amounts: list[int], first: int = 0) -> list[LogLine]:
    return [
        LogLine(
            at + timedelta(minutes=20 * k),
            "refund-service",
            "INFO",
            f"Refund re_{first + k:08d} created for payment pay_{first + k:08d} amount={a} currency=JPY",
        )
        for k, a in enumerate(amounts)
    ]


def test_info_lines_whose_amounts_shift_a_hundredfold_make_an_incident_with_their_ids() -> None:
    normal = [1200 + 97 * (k % 40) for k in range(48)]
    lines = _refunds(START, normal) + _refunds(START + timedelta(hours=17), [12, 9, 15, 11, 14, 13], 100)
    [inc] = LogSignalDetector().detect(lines)
    assert inc.service == "refund-service"
    assert inc.signals[0].startswith("log:refund-service:value:amount:JPY:")
    assert "re_00000103" in inc.ids and "jpy" in inc.values
    assert "re_00000010" not in inc.ids  # lines at the usual amounts are not evidence
    assert LogSignalDetector(values=False).detect(lines) == []
    assert LogSignalDetector().value_keys == ("amount",)
    assert LogSignalDetector(values=False).value_keys == ()


def test_bursts_are_described_in_lines_for_logs_and_customers_for_tickets() -> None:
    from paytriage.engines.patterns.bursts import Burst

    assert "1 line in 1 h" in Burst("log:payouts:template:x", START, 1.0, 1, 0.0, 0.0, ()).describe()
    assert "6 lines in 3 h" in Burst("log:payouts:status:502", START, 3.0, 6, 0.1, 1e-9, ()).describe()
    assert "3 customers in 0.5 h" in Burst("bin:465901", START, 0.5, 3, 0.01, 1e-7, ()).describe()
    first = Burst(
        "log:payouts:template:x", START, 1.0, 1, 0.0, 0.0, (), note="first seen: a warning payouts never"
    )
    assert first.describe() == (
        "log:payouts:template:x: 1 line; first seen: a warning payouts never (new templates: 0.0% of them)"
    )
    assert "p=" not in first.describe()


def test_a_value_alert_on_a_rare_currency_keeps_the_lines_logged_before_it_could_be_tested() -> None:
    """Two yen refunds ever, yen payments elsewhere: the 100× smaller refunds alert against the
    payments' amounts, and the first of them (logged before the stream had a history to compare
    with) are the incident's evidence too, so the first customers' refunds link to it."""
    payments = [
        LogLine(
            START + timedelta(minutes=45 * k),
            "payments-core",
            "INFO",
            f"auth approved txn=pay_9{k:07d} amount={3000 + 211 * (k % 30)} JPY rc=00",
        )
        for k in range(60)
    ]
    at = START + timedelta(hours=46)
    lines = (
        payments
        + _refunds(at, [5400, 7100])
        + _refunds(at + timedelta(hours=2), [54, 71, 38, 60, 49, 66], 100)
    )
    [inc] = LogSignalDetector().detect(lines)
    assert inc.signals[0].startswith("log:refund-service:value:amount:JPY:")
    assert {f"re_{100 + k:08d}" for k in range(6)} <= inc.ids
    assert "re_00000000" not in inc.ids and "re_00000001" not in inc.ids


def test_a_link_is_timed_by_the_lines_that_make_it_not_by_an_earlier_alert() -> None:
    """An alert's evidence window runs on after it: lines logged an hour later, naming the
    problem's merchants, tie it to the problem only from the moment they were logged."""
    at = START + timedelta(days=3)
    alert = Burst("log:api-gateway:status:429", at, 1, 5, 0.1, 1e-9, ())
    later = at + timedelta(hours=1)
    mine = {"429": at, "m_1": later, "m_2": later + timedelta(minutes=5)}
    inc = LogIncident("api-gateway", [alert], values=set(mine), alert_tokens=[mine])
    weights = {"429": 0.5, "m_1": 1.0, "m_2": 1.0}
    assert first_link(inc, {"429", "m_1", "m_2"}, weights, 2.0) == (later + timedelta(minutes=5), 2.5)
    assert first_link(inc, {"429", "m_1", "m_2"}, weights, 2.0, until=later) is None
    assert first_link(inc, {"429", "m_1", "m_2"}, weights, 1.5) == (later, 2.5)
