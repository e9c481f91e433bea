"""Timestamp heads of plain-text log lines in the layouts servers write (every line here is invented)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.adapters.connectors.log_layouts import LineHeads, severity_from_words

REF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

CASES = [
    # (line, timestamp, level, service, message starts with)
    ("2026-02-11T09:15:02.250Z ERROR [gateway] upstream reset", datetime(2026, 2, 11, 9, 15, 2, 250000, UTC),
     "ERROR", "gateway", "upstream reset"),
    ("2026-02-11 09:15:02,250 - WARN  [worker-3] retrying payout",
     datetime(2026, 2, 11, 9, 15, 2, 250000, UTC), "WARN", "worker-3", "retrying payout"),
    ("<34>1 2026-02-11T09:15:02+01:00 pay-01 api - - - refund stuck",
     datetime(2026, 2, 11, 8, 15, 2, tzinfo=UTC), None, None, "pay-01 api"),
    ("payouts.log.1.2026-02-11_09:00:00 2026-02-11 09:15:02.008 4411 INFO payouts.batch [req-9] sent",
     datetime(2026, 2, 11, 9, 15, 2, 8000, UTC), "INFO", None, "payouts.batch"),
    ("2026-02-11 09:15:02,747 - INFO  [Ledger[shard=1]/0.0.0.0:7000:SettlementSync@774] - batch 7 closed",
     datetime(2026, 2, 11, 9, 15, 2, 747000, UTC), "INFO", "SettlementSync", "- batch 7 closed"),
    ("2026-02-11 09:15:02,250 - payouts.batch - ERROR - bank file rejected: bad IBAN",
     datetime(2026, 2, 11, 9, 15, 2, 250000, UTC), "ERROR", "payouts.batch", "bank file rejected"),
    ("2026-02-11 09:15:02, Info                  CBS    Servicing stack loaded",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "Info", None, "CBS"),
    ("Feb 11 09:15:02 edge-7 sshd[24200]: Failed password for invalid user admin",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "WARNING", "sshd", "Failed password"),
    ("Feb  1 00:00:01 edge-7 crond(pam_unix)[2915]: session opened for user root",
     datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC), None, "crond", "session opened"),
    ("[Wed Feb 11 09:15:02 2026] [error] [client 198.51.100.4] File does not exist: /var/www/x",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "error", None, "[client"),
    ("[Wed Feb 11 09:15:02.123456 2026] [proxy:warn] [pid 77] AH01102: error reading status line",
     datetime(2026, 2, 11, 9, 15, 2, 123456, UTC), "warn", None, "[pid 77]"),
    ('198.51.100.4 - - [11/Feb/2026:09:15:02 -0500] "POST /v1/charges HTTP/1.1" 502 173',
     datetime(2026, 2, 11, 14, 15, 2, tzinfo=UTC), None, None, '"POST /v1/charges'),
    ("2026/02/11 09:15:02 [error] 311#0: *4 connect() failed (111: Connection refused)",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "error", None, "311#0"),
    ("260211 091502 148 INFO dfs.DataNode$PacketResponder: Received block blk_1 of size 91",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "INFO", "dfs.DataNode$PacketResponder", "Received block"),
    ("26/02/11 09:15:02 WARN storage.BlockManager: Putting block rdd_2 failed",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), "WARN", "storage.BlockManager", "Putting block"),
    ("20260211-9:15:2:606|Step_Sync|30002312|sync finished 3579",
     datetime(2026, 2, 11, 9, 15, 2, 606000, UTC), None, "Step_Sync", "sync finished"),
    ("E0211 09:15:02.123456    1234 reconciler.go:42] ledger mismatch for batch 7",
     datetime(2026, 2, 11, 9, 15, 2, 123456, UTC), "ERROR", "reconciler", "ledger mismatch"),
    ("02-11 09:15:02.811  1702  2395 W PaymentSheet: card tokenisation slow",
     datetime(2026, 2, 11, 9, 15, 2, 811000, UTC), "WARNING", "PaymentSheet", "card tokenisation"),
    ("[02.11 09:15:02] wallet.exe - api.example.test:443 open through proxy",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), None, None, "wallet.exe"),
    ("- 1770801302 2026.02.11 R02-M1-N0 2026-02-11-09.15.02.675872 RAS KERNEL INFO cache parity corrected",
     datetime(2026, 2, 11, 9, 15, 2, tzinfo=UTC), None, None, "R02-M1-N0"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "ts", "level", "service", "message"), CASES)
def test_each_layout_gives_time_level_service_and_message(
    line: str, ts: datetime, level: str | None, service: str | None, message: str
) -> None:
    head = LineHeads(reference=REF).parse(line)
    assert head is not None, line
    assert head.timestamp == ts
    assert head.level == level
    assert head.service == service
    assert head.message.startswith(message), head.message


def test_a_year_less_line_is_placed_at_or_before_the_files_last_write() -> None:
    heads = LineHeads(reference=datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
    dec = heads.parse("Dec 31 23:59:59 h app[1]: last line of the old year")
    jan = heads.parse("Jan  1 00:10:00 h app[1]: first of the new one")
    assert dec is not None and dec.timestamp.year == 2025
    assert jan is not None and jan.timestamp.year == 2026
    # 29 February without a year: the latest leap year not after the file
    feb29 = LineHeads(reference=REF).parse("Feb 29 10:00:00 h app: leap")
    assert feb29 is not None and feb29.timestamp == datetime(2024, 2, 29, 10, tzinfo=UTC)


def test_impossible_dates_and_plain_text_open_no_record() -> None:
    heads = LineHeads(reference=REF)
    for text in (
        "2026-02-30 10:00:00 ERROR no such day",
        "Feb 31 10:00:00 h app: no such day",
        "    at com.example.Pay.run(Pay.java:42)",
        "Traceback (most recent call last):",
        "123456 not a date",
        "",
    ):
        assert heads.parse(text) is None, text
        assert not heads.starts_record(text)


def test_the_layout_that_matched_last_is_tried_first() -> None:
    heads = LineHeads(reference=REF)
    a = heads.parse("Feb 11 09:15:02 h sshd[1]: one")
    b = heads.parse("2026-02-11 09:15:03 INFO two")
    c = heads.parse("Feb 11 09:15:04 h sshd[1]: three")
    assert [h.layout for h in (a, b, c) if h] == ["syslog", "iso8601", "syslog"]


_LAYOUT_FORMATS = {
    "iso8601": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    "syslog": lambda t: t.strftime("%b %e %H:%M:%S") + " host prog[12]:",
    "apache-error": lambda t: t.strftime("[%a %b %d %H:%M:%S.%f %Y] [error]"),
    "common-log": lambda t: t.strftime('192.0.2.1 - - [%d/%b/%Y:%H:%M:%S +0000] "GET / HTTP/1.1" 200 1'),
    "nginx-error": lambda t: t.strftime("%Y/%m/%d %H:%M:%S [warn]"),
    "hadoop-compact": lambda t: t.strftime("%y%m%d %H%M%S 7 INFO a.B:"),
    "yy/mm/dd": lambda t: t.strftime("%y/%m/%d %H:%M:%S INFO a.B:"),
    "compact-date": lambda t: t.strftime("%Y%m%d-%H:%M:%S:%f")[:-3] + "|Svc|1|",
    "klog": lambda t: t.strftime("I%m%d %H:%M:%S.%f 1 main.go:1]"),
    "logcat": lambda t: t.strftime("%m-%d %H:%M:%S.%f")[:-3] + " 1 2 I Tag:",
    "epoch-ras": lambda t: f"- {int(t.timestamp())} {t.strftime('%Y.%m.%d')} node",
}
_PRECISION = {"syslog": 1, "common-log": 1, "nginx-error": 1, "hadoop-compact": 1, "yy/mm/dd": 1,
              "epoch-ras": 1, "compact-date": 1000, "logcat": 1000}  # fmt: skip


@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2026, 2, 28, 23, 59)),
    st.sampled_from(sorted(_LAYOUT_FORMATS)),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_any_time_written_in_a_layout_reads_back(when: datetime, layout: str, tail: str) -> None:
    when = when.replace(tzinfo=UTC)
    if layout == "epoch-ras":
        when = when.replace(microsecond=0)
    line = f"{_LAYOUT_FORMATS[layout](when)} {tail}"
    # year-less layouts: the file was last written the same day
    head = LineHeads(reference=when + timedelta(hours=1)).parse(line)
    assert head is not None, line
    step = _PRECISION.get(layout)
    want = when.replace(microsecond=0) if step == 1 else when
    if step == 1000:
        want = when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert head.timestamp == want, (line, head.layout)


@given(st.text(max_size=300))
def test_no_text_makes_the_reader_raise(text: str) -> None:
    head = LineHeads(reference=REF).parse(text)
    assert head is None or head.timestamp.tzinfo is not None


def test_a_line_without_a_written_level_takes_one_from_its_words() -> None:
    """Syslog writes no severity; an sshd storm of failures must still reach the warning-rate alerts."""
    assert severity_from_words("Failed password for invalid user admin from 203.0.113.7") == "WARNING"
    assert severity_from_words("Connection timed out during banner exchange") == "WARNING"
    assert severity_from_words("kernel: segfault at 0 ip 00007f") == "ERROR"
    assert severity_from_words("session opened for user root by (uid=0)") is None
    assert (
        severity_from_words("reverse mapping checking getaddrinfo ... POSSIBLE BREAK-IN ATTEMPT!")
        == "WARNING"
    )
    heads = LineHeads(reference=REF)
    written = heads.parse("2026-02-11 09:15:02 payout failed for batch 7")  # ISO without a level: as written
    assert written is not None and written.level is None


def test_an_access_logs_status_is_its_severity() -> None:
    from paytriage.adapters.connectors.rows import log_from_text

    line = '198.51.100.4 - - [11/Feb/2026:09:15:02 +0000] "POST /v1/charges HTTP/1.1" 502 173 "-" "curl/8"'
    head = LineHeads(reference=REF).parse(line)
    assert head is not None and head.http_status == 502
    event = log_from_text(line, line=1, source="access", service="edge")
    assert (event.http_status, event.service) == (502, "edge")
    ok = LineHeads(reference=REF).parse(
        '198.51.100.4 - - [11/Feb/2026:09:15:02 +0000] "GET / HTTP/1.1" 200 5'
    )
    assert ok is not None and ok.http_status == 200 and ok.level is None
