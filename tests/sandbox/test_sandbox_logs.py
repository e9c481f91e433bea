"""The hand-rolled JSON-lines encoder must match :func:`json.dumps` exactly; timestamps are right."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.sandbox.logs import LogSink, compact_json, fast_json_body, iso, iso_ms

_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@given(st.dictionaries(st.from_regex(r"\A[a-z_]{1,10}\Z"), _values, max_size=8))
def test_fast_json_matches_json_dumps(record: dict[str, object]) -> None:
    expected = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert "{" + fast_json_body(record) + "}" == expected


@given(st.floats(min_value=1.7e9, max_value=1.9e9))
def test_timestamps_match_datetime(t: float) -> None:
    d = datetime.fromtimestamp(int(t * 1000) / 1000, UTC)
    assert iso_ms(t) == d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
    assert iso(t) == d.strftime("%Y-%m-%dT%H:%M:%SZ")


_nested = st.recursive(
    _values,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(_nested)
def test_compact_json_matches_json_dumps(value: object) -> None:
    # orjson spells tiny/huge floats differently and refuses lone surrogates; the fallback must cover it.
    assert compact_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_compact_json_edge_cases_fall_back() -> None:
    for value in (1e-05, 1e16, -2.5e-7, 2**70, "\ud800", {"a": [1e20]}, float("nan")):
        assert compact_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_checked_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.none(),
    st.floats(min_value=0.0, max_value=1e6).map(lambda x: round(x, 1)),
)


_record_keys = st.from_regex(r"\A[a-z_]{1,10}\Z").filter(lambda k: k != "ts")  # ts is the sink's


@given(st.dictionaries(_record_keys, _checked_values, max_size=8))
def test_checked_json_lines_match_json_dumps(record: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sink = LogSink(Path(tmp))
        sink.json("gateway.jsonl", 1.8e9, record, floats_checked=True)
        sink.json("webhooks.jsonl", 1.8e9, record)
        sink.close()
        expected = json.dumps({"ts": iso_ms(1.8e9), **record}, ensure_ascii=False, separators=(",", ":"))
        assert (Path(tmp) / "gateway.jsonl").read_text("utf-8") == expected + "\n"
        assert (Path(tmp) / "webhooks.jsonl").read_text("utf-8") == expected + "\n"
        assert sink.lines == 2


def test_a_record_may_not_bring_its_own_ts() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sink = LogSink(Path(tmp))
        with pytest.raises(ValueError, match="'ts'"):
            sink.json("gateway.jsonl", 1.8e9, {"ts": None}, floats_checked=True)
        sink.close()
