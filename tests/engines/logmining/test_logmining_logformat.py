"""LogFormat: logparser-style line layouts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.engines.logmining import LogFormat, LogFormatError


def test_parses_fields() -> None:
    fmt = LogFormat.compile("<Date> <Time> <Level> <Component>: <Content>")
    got = fmt.parse("2024-05-01 12:00:01 INFO gateway.charge: charge req_1 approved")
    assert got == {
        "Date": "2024-05-01",
        "Time": "12:00:01",
        "Level": "INFO",
        "Component": "gateway.charge",
        "Content": "charge req_1 approved",
    }


def test_escaped_brackets_as_logparser_writes_them() -> None:
    fmt = LogFormat.compile(r"\[<Time>\] \[<Level>\] <Content>")
    assert fmt.content("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok") == "workerEnv.init() ok"


def test_line_that_does_not_fit_is_none() -> None:
    fmt = LogFormat.compile("<Date> <Time> <Level> <Component>: <Content>")
    assert fmt.content("no colon here") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [("plain text", "no <Field>"), ("<A> <A> <Content>", "twice"), ("<Date> <Level>", "Content")],
)
def test_bad_formats(spec: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        LogFormat.compile(spec)


@given(st.text(max_size=200))
def test_parse_never_crashes(line: str) -> None:
    fmt = LogFormat.compile("<Date> <Time> <Level> <Component>: <Content>")
    got = fmt.content(line)
    assert got is None or got in line
