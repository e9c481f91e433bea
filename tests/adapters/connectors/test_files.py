"""File readers: formats, line numbers, bounded streaming, and no traceback on arbitrary bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paytriage.adapters.connectors.files import FileFormat, detect_format, read_records
from paytriage.adapters.connectors.rows import parse_timestamp, ticket_from_row, transaction_from_row
from paytriage.domain import InputError


def test_csv_line_numbers_count_embedded_newlines(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text('id,created_at,description\n1,2026-01-01,"multi\nline"\n2,2026-01-01,x\n3,2026-01-01\n')
    recs = list(read_records(p))
    assert [r.line for r in recs] == [2, 4, 5]
    assert recs[2].error and "expected 3 columns" in recs[2].error


def test_json_wrapped_and_plain_lists_stream(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"count": 2, "tickets": [{"id": 1}, {"id": 2}, 3]}))
    recs = list(read_records(p))
    assert [r.data for r in recs[:2]] == [{"id": 1}, {"id": 2}]
    assert recs[2].error == "expected a JSON object"
    q = tmp_path / "l.json"
    q.write_text(json.dumps([{"id": "a"}]))
    assert detect_format(q) == FileFormat.JSON
    assert [r.data for r in read_records(q)] == [{"id": "a"}]


def test_jsonl_bad_line_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text('{"id": 1}\n{broken\n\n[1]\n')
    recs = list(read_records(p))
    assert [(r.line, r.error is None) for r in recs] == [(1, True), (2, False), (4, False)]


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-11-02T09:00:00Z", "2026-11-02T09:00:00+00:00"),
        ("2026-11-02 10:00:00+01:00", "2026-11-02T09:00:00+00:00"),
        ("2026-11-02 09:00:00,123", "2026-11-02T09:00:00.123000+00:00"),
        ("1793610000", "2026-11-02T09:00:00+00:00"),
        (1793610000000, "2026-11-02T09:00:00+00:00"),
    ],
)
def test_timestamps(value: object, iso: str) -> None:
    assert parse_timestamp(value, field="created_at").isoformat() == iso


@given(st.text(max_size=40))
def test_parse_timestamp_never_crashes(value: str) -> None:
    try:
        ts = parse_timestamp(value, field="created_at", line=7)
    except InputError as exc:
        assert exc.line == 7 and exc.field == "created_at"
    else:
        assert ts.tzinfo is not None


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "created_at",
                "description",
                "body",
                "tags",
                "comments",
                "channel",
                "kind",
                "amount",
                "amount_minor",
                "currency",
                "status",
                "card_bin",
                "events",
                "country",
            ]
        ),
        st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.text(max_size=5))),
    )
)
def test_row_parsers_raise_only_input_errors(row: dict[str, object]) -> None:
    for parse in (ticket_from_row, transaction_from_row):
        try:
            parse(row, line=3, source="s")
        except InputError as exc:
            assert exc.line == 3


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.binary(max_size=300), st.sampled_from(["f.csv", "f.json", "f.jsonl", "f.txt"]))
def test_readers_never_traceback(tmp_path: Path, blob: bytes, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(blob)
    try:
        for rec in read_records(p):
            assert rec.data is not None or rec.error
    except InputError as exc:
        assert str(exc)


def test_structured_request_log_without_message_gets_one() -> None:
    from paytriage.adapters.connectors.rows import log_from_record

    e = log_from_record(
        {
            "ts": "2026-01-05T00:05:31Z",
            "method": "POST",
            "endpoint": "/v1/payments",
            "http_status": 402,
            "error_code": "expired_card",
            "latency_ms": 12.5,
        },
        line=1,
        source="gw",
    )
    assert e.message == "POST /v1/payments 402 expired_card"
    assert e.http_status == 402 and e.error_code == "expired_card"
    assert e.attributes["latency_ms"] == 12.5
    with pytest.raises(InputError) as err:
        log_from_record({"ts": "2026-01-05T00:05:31Z", "latency_ms": 3}, line=9, source="gw")
    assert err.value.line == 9 and err.value.field == "message"
