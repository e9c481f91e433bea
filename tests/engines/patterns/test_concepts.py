"""Concept tags: customers' and systems' words for one payments thing meet in one token."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.concepts import PREFIX, Concepts, load_concepts


@pytest.fixture(scope="module")
def concepts() -> Concepts:
    return load_concepts()


@pytest.mark.parametrize(
    ("customer", "system", "concept"),
    [
        (
            "The Verified by Visa page just spins and then says session expired",
            "ACS did not answer CReq within 10000ms txn=pay_1 card_country=GB; CRes=none",
            "3ds",
        ),
        (
            "I approved it in my Monzo app but the shop says the payment failed",
            "3DS2 challenge result transStatus=U acs_ref=ACS-EMV",
            "3ds",
        ),
        (
            "Our customers are being charged twice for the same order",
            "client timeout on POST /v1/payments; request replayed without idempotency key",
            "duplicate_charge",
        ),
        (
            "I topped up 50 EUR by bank transfer yesterday and my balance is the same",
            'msg="camt.054 overdue bank=HANSDEFFXXX lag_s=7200"',
            "incoming_credit",
        ),
        (
            "My withdrawal to my bank has not arrived",
            'msg="no settlement confirmation payout_id=po_1 bank=THCLGB2LXXX"',
            "payout",
        ),
        (
            "We cannot log in to the dashboard with Okta since this morning",
            "saml assertion validation failed check=signature",
            "sso",
        ),
        (
            "The app will not let me upload my passport",
            "c.p.kyc.UploadController - upload failed mime=application/pdf",
            "kyc_document",
        ),
        ("We get Too Many Requests on every call", "POST /v1/payments 429 rate_limit_exceeded", "rate_limit"),
        (
            "The refund never reached the customer",
            "c.p.refunds.RefundService - Refund re_1 rejected",
            "refund",
        ),
    ],
)
def test_customer_and_system_wording_share_the_concept(
    concepts: Concepts, customer: str, system: str, concept: str
) -> None:
    assert PREFIX + concept in concepts.tags(customer)
    assert PREFIX + concept in concepts.tags(system)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("POST /sso/saml/acs status=403", "3ds"),  # SAML's assertion consumer service, not 3-D Secure
        ("please send me the card's security code", "3ds"),  # that is the CVC
        ("the scan of my shares", "3ds"),  # "sca" and "ares" inside words
        ("the payout_id is missing", "3ds"),
        ("card declined at the shop", "payout"),
    ],
)
def test_concepts_match_at_word_edges_only(concepts: Concepts, text: str, absent: str) -> None:
    assert PREFIX + absent not in concepts.tags(text)


def test_underscores_and_dots_are_word_edges(concepts: Concepts) -> None:
    assert PREFIX + "payout" in concepts.tags("payout_id=po_1")
    assert PREFIX + "refund" in concepts.tags("c.p.refunds.OutboxPublisher")


def test_a_custom_table_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "concepts.yaml"
    path.write_text("version: '1'\nconcepts:\n  - name: pix\n    patterns: ['pix', 'chave pix']\n", "utf-8")
    mine = load_concepts(path)
    assert mine.version == "1" and mine.names == ["pix"]
    assert mine.tags("Pagamento via Chave PIX recusado") == {"~pix"}
    assert mine.tags("3D Secure failed") == set()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("concepts: nope\n", "expected a mapping with a 'concepts' list"),
        ("concepts:\n  - name: a\n", "concept #1 needs a string 'name'"),
        (
            "concepts:\n  - {name: a, patterns: ['x']}\n  - {name: a, patterns: ['y']}\n",
            "repeats the name 'a'",
        ),
        ("concepts:\n  - {name: a, patterns: ['(unclosed']}\n", "concept 'a': bad pattern"),
        ("concepts: [\n", "not valid YAML"),
    ],
)
def test_bad_tables_are_named_errors(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "concepts.yaml"
    path.write_text(body, "utf-8")
    with pytest.raises(InputError, match="concept") as err:
        load_concepts(path)
    assert message in str(err.value)


def test_missing_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read concepts table"):
        load_concepts(tmp_path / "absent.yaml")


@given(st.text(max_size=300))
def test_tags_are_known_concepts_for_any_text(text: str) -> None:
    table = load_concepts()
    assert {t.removeprefix(PREFIX) for t in table.tags(text)} <= set(table.names)
