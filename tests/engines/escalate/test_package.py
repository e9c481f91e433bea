from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from tests.engines.escalate.helpers import hypothesis, make_input

from paytriage.engines.escalate.completeness import SECTIONS, Section, assess
from paytriage.engines.escalate.package import build_package
from paytriage.engines.escalate.render import to_json, to_markdown
from paytriage.engines.investigate.hypotheses import HypothesisKind
from paytriage.engines.redaction import luhn_valid


def test_full_package_from_evidence() -> None:
    pkg = build_package(make_input([hypothesis(HypothesisKind.DECLINE_SPIKE, component="payments-core")]))
    d = pkg.to_dict()
    assert pkg.completeness.complete, pkg.completeness.ask_for
    assert d["impact"]["merchants"] == 3 and d["impact"]["money_at_stake"] == "EUR 123.45"
    assert d["impact"]["trend"].startswith("rising")
    assert (
        d["environment"]["plugin_sdk"] == "woocommerce" and d["environment"]["plugin_sdk_version"] == "3.2.1"
    )
    assert d["environment"]["browser"] == "Chrome 120" and d["environment"]["region"] == "DE"
    assert d["suspected_component"] == "payments-core"
    assert d["suspected_release"].startswith("none: no release of payments-core")
    assert d["customer_context"]["merchant_tier"] == "enterprise"
    assert d["customer_context"]["requester"] == "@acme.example"
    assert d["decision"]["verdict"] == "partner"
    assert any("response code 05" in x for x in d["ruled_out"])
    assert d["queries"]


def test_missing_sections_are_named() -> None:
    pkg = build_package(make_input(with_investigation=False, custom_fields={}))
    c = pkg.completeness
    assert not c.complete
    for name in ("log_excerpts", "timeline", "reproduction_steps", "suspected_component"):
        assert name in c.missing_sections and name in c.ask_for
    assert "customer_context.merchant_tier" in c.ask_for
    assert 0 < c.score < 1


def test_nothing_unredacted_in_renderings() -> None:
    pkg = build_package(make_input([hypothesis(HypothesisKind.AMOUNT_ANOMALY)]))
    for text in (to_markdown(pkg), to_json(pkg)):
        assert "4111111111111111" not in text and "4111 1111 1111 1111" not in text
        assert "ops@acme.example" not in text
    assert json.loads(to_json(pkg))["decision"]["verdict"] == "defect"
    md = to_markdown(pkg)
    assert md.startswith("# [defect]") and "## Ruled out" in md and "```text" in md


def test_a_section_without_sources_is_not_filled() -> None:
    sections = {n: Section(n, "x", ["evidence"]) for n in SECTIONS}
    assert assess(sections).complete
    sections["impact"] = Section("impact", {"tickets": 1})
    c = assess(sections)
    assert c.missing_sections == ["impact"] and c.ask_for == ["impact"]


@given(st.text(max_size=200), st.from_regex(r"4[0-9]{15}", fullmatch=True))
def test_pasted_card_numbers_never_leak(noise: str, pan: str) -> None:
    inp = make_input([hypothesis(HypothesisKind.ERROR_SPIKE)])
    t = inp.tickets[0]
    t.description = f"{noise} card {pan} {noise}"
    t.subject = pan
    md = to_markdown(build_package(inp))
    if luhn_valid(pan):
        assert pan not in md
