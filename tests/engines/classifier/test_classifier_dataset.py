"""Reading labelled exports: CSV and JSONL, with errors naming line and field."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paytriage.domain.errors import InputError
from paytriage.engines.classifier.dataset import read_table


def test_csv_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text('id,body,cat\n1,card declined,card\n2,"refund, late",refund\n')
    table = read_table(tmp_path / "t.csv", text_column="body", label_column="cat")
    assert table.texts == ["card declined", "refund, late"] and table.labels == ["card", "refund"]
    assert table.records[0]["id"] == "1"
    (tmp_path / "t.jsonl").write_text('{"body": "card declined", "cat": "card"}\n\n{"body": "x", "cat": 5}\n')
    table = read_table(tmp_path / "t.jsonl", text_column="body", label_column="cat")
    assert table.labels == ["card", "5"]
    assert read_table(tmp_path / "t.jsonl", text_column="body").labels is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "body,cat\nx,\n", "line 2, field 'cat': empty label"),
        ("a.csv", "body,cat\n,y\n", "line 2, field 'body': empty text"),
        ("a.csv", "text,cat\nx,y\n", "no column 'body'"),
        ("a.csv", "body,cat\n", "no rows"),
        ("a.jsonl", '{"body": "x", "cat": "y"}\n[1]\n', "line 2: each line must be a JSON object"),
        ("a.jsonl", '{"body": "x", "cat": "y"}\n{oops\n', "line 2: invalid JSON"),
        ("a.xlsx", "x", "unknown file type"),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        read_table(tmp_path / name, text_column="body", label_column="cat")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "nope.csv", text_column="t")
    (tmp_path / "b.csv").write_bytes(b"t\n\xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_table(tmp_path / "b.csv", text_column="t")


printable = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1).filter(
    lambda s: s.strip()
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # no deadline: the shared CI machine is sometimes slow, and speed is not what this tests
@given(rows=st.lists(st.tuples(printable, printable), min_size=1, max_size=10))
def test_any_csv_or_jsonl_round_trips(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    (tmp_path / "p.csv").write_text(buf.getvalue(), encoding="utf-8")
    (tmp_path / "p.jsonl").write_text(
        "\n".join(json.dumps({"text": t, "label": lab}) for t, lab in rows), encoding="utf-8"
    )
    for name in ("p.csv", "p.jsonl"):
        table = read_table(tmp_path / name, text_column="text", label_column="label")
        assert table.texts == [t.strip() for t, _ in rows]
        assert table.labels == [lab.strip() for _, lab in rows]


def test_several_text_columns_are_joined_and_an_empty_one_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_text(
        '{"subject": "Payout late", "description": "Still not on our account"}\n'
        '{"subject": "", "description": "Card declined"}\n'
        '{"subject": null, "description": ""}\n'
    )
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "t.jsonl", text_column="subject", also=["description"])
    assert err.value.line == 3
    (tmp_path / "t.jsonl").write_text("\n".join((tmp_path / "t.jsonl").read_text().splitlines()[:2]) + "\n")
    table = read_table(tmp_path / "t.jsonl", text_column="subject", also=["description"])
    assert table.texts == ["Payout late\nStill not on our account", "Card declined"]
    with pytest.raises(InputError, match="no column 'body'"):
        read_table(tmp_path / "t.jsonl", text_column="subject", also=["body"])
