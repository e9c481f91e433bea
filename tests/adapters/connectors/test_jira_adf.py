"""ADF builder: table-driven shapes, Jira's structural rules, and a hypothesis property over any package."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.adapters.connectors import adf

CASES: list[tuple[str, Any, str]] = [
    ("summary", "One paragraph.\n\nAnother one.", "paragraph"),
    ("impact", {"customers": 3, "money": "EUR 10.00"}, "table"),
    ("timeline", [{"at": "10:00", "event": "deploy"}], "table"),
    ("reproduction_steps", ["call API", "see error"], "orderedList"),
    ("ruled_out", ["config", "network"], "bulletList"),
    ("log_excerpts", ["ERROR x", "ERROR y"], "codeBlock"),
    ("queries", {"tickets": "SELECT count(*) FROM tickets"}, "codeBlock"),
    ("environment", None, "paragraph"),
]


@pytest.mark.parametrize(("key", "value", "kind"), CASES, ids=[c[0] for c in CASES])
def test_value_shape_decides_the_node(key: str, value: Any, kind: str) -> None:
    doc = adf.escalation_to_adf({"title": "t", key: value})
    assert adf.check_adf(doc) == []
    assert doc["content"][0]["type"] == "heading"
    assert kind in {n["type"] for n in doc["content"][1:]}


def test_sections_follow_reading_order_and_title_is_not_repeated() -> None:
    doc = adf.escalation_to_adf({"title": "T", "ruled_out": ["x"], "summary": "s", "custom": "c"})
    headings = [adf.plain_text(n).strip() for n in doc["content"] if n["type"] == "heading"]
    assert headings == ["Summary", "Ruled out", "Custom"]


def test_links_become_link_marks() -> None:
    doc = adf.escalation_to_adf({"summary": "s"}, links={"Case 7": "https://pt.example/cases/7"})
    marks = doc["content"][0]["content"][0]["marks"]
    assert marks == [{"type": "link", "attrs": {"href": "https://pt.example/cases/7"}}]


def test_long_code_is_cut_and_control_characters_removed() -> None:
    node = adf.code_block("a\x00b" + "x" * 9000, max_chars=100)
    text = node["content"][0]["text"]
    assert "\x00" not in text and len(text) < 200 and "more characters" in text


def test_empty_text_nodes_are_never_emitted() -> None:
    assert adf.paragraph("", "\n\n") == {"type": "paragraph"}
    assert adf.check_adf(adf.doc([adf.paragraph("a\n\nb")])) == []


KNOWN_BAD: list[tuple[dict[str, Any], str]] = [
    (
        {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
        },
        "non-empty",
    ),
    ({"type": "doc", "version": 1, "content": [{"type": "bulletList", "content": []}]}, "needs content"),
    ({"type": "doc", "version": 1, "content": [{"type": "text", "text": "x"}]}, "not allowed inside doc"),
    (
        {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "codeBlock",
                    "content": [{"type": "text", "text": "x", "marks": [{"type": "strong"}]}],
                }
            ],
        },
        "marks",
    ),
    ({"type": "doc", "version": 2, "content": []}, "root"),
]


@pytest.mark.parametrize(("tree", "problem"), KNOWN_BAD)
def test_check_adf_names_what_jira_would_reject(tree: dict[str, Any], problem: str) -> None:
    problems = adf.check_adf(tree)
    assert problems and any(problem in p for p in problems)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=10), children, max_size=4),
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), _values, max_size=8))
def test_any_json_package_renders_to_valid_adf(package: dict[str, Any]) -> None:
    doc = adf.escalation_to_adf(package)
    assert adf.check_adf(doc) == []


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_summary_text_survives_apart_from_control_characters(text: str) -> None:
    doc = adf.escalation_to_adf({"summary": text})
    rendered = adf.plain_text(doc)
    for word in text.split():
        cleaned = "".join(ch for ch in word if unicodedata.category(ch) != "Cc")
        if cleaned:
            assert cleaned in rendered
