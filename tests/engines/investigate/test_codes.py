"""Code book: every file loads and is cited, lookups decode what analysts meet, text search finds codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import SHARED_DATA

from paytriage.domain.errors import ConfigurationError, NotFoundError
from paytriage.domain.taxonomy import Route
from paytriage.engines.investigate.codes import DEFAULT_CODES_DIR, CodeBook, Party

SHARED = SHARED_DATA / "decline_codes"


@pytest.fixture(scope="module")
def book() -> CodeBook:
    return CodeBook.load()


LOOKUPS = [
    # (query, scheme, expected scheme, expected code, route)
    ("91", None, "iso8583", "91", Route.PAYMENTS_OPS),
    ("05", None, "iso8583", "05", Route.TIER1),
    ("51", None, "iso8583", "51", Route.TIER1),
    ("14", None, "iso8583", "14", Route.TIER1),
    ("N7", None, "iso8583", "N7", Route.TIER1),
    ("1A", None, "iso8583", "1A", Route.TIER2),
    ("43", None, "iso8583", "43", Route.RISK_COMPLIANCE),
    ("05", "eci", "eci", "05", Route.TIER1),
    ("do not honor", None, "card_decline", "do_not_honor", Route.TIER1),
    ("Insufficient-Funds", None, "card_decline", "insufficient_funds", Route.TIER1),
    ("authentication_required", None, "card_decline", "authentication_required", Route.TIER2),
    ("AC04", None, "iso20022", "AC04", Route.TIER1),
    ("ac04", None, "iso20022", "AC04", Route.TIER1),
    ("AM10", None, "iso20022", "AM10", Route.ENGINEERING),
    ("RR04", None, "iso20022", "RR04", Route.RISK_COMPLIANCE),
    ("409", None, "http", "409", Route.TIER2),
    ("500", None, "http", "500", Route.ENGINEERING),
    ("invalid_grant", None, "auth", "invalid_grant", Route.TIER2),
    ("clock skew", None, "auth", "clock_skew", Route.TIER2),
    ("410 gone", None, "webhook", "endpoint_gone", Route.TIER2),
    ("N", "3ds_status", "3ds_status", "N", Route.TIER1),
]


@pytest.mark.parametrize(("query", "scheme", "exp_scheme", "exp_code", "route"), LOOKUPS)
def test_lookup(
    book: CodeBook, query: str, scheme: str | None, exp_scheme: str, exp_code: str, route: Route
) -> None:
    info = book.lookup(query, scheme)
    assert (info.scheme, info.code, info.route) == (exp_scheme, exp_code, route)
    assert info.meaning and info.customer_message and info.action


def test_every_entry_is_complete_and_every_scheme_cited(book: CodeBook) -> None:
    assert len(book) >= 180
    for scheme in book.schemes.values():
        assert scheme.sources and all(s.url.startswith("https://") for s in scheme.sources)
    for info in book:
        assert info.customer_message and info.action and info.meaning
        assert all(isinstance(p, Party) for p in info.fixable_by)
        assert "us" not in info.customer_message.lower().split()[:1]


def test_required_codes_present(book: CodeBook) -> None:
    for code in ["05", "14", "51", "54", "57", "61", "62", "65", "91", "96", "N7", "1A"]:
        assert book.get(code, "iso8583") is not None, code
    for code in ["AC01", "AC04", "AC06", "AM04", "AM05", "MS03", "RR04", "DU01", "AM10", "NARR"]:
        assert book.get(code, "iso20022") is not None, code
    for code in ["Y", "N", "U", "A", "C", "R", "D", "I"]:
        assert book.get(code, "3ds_status") is not None, code
    for code in ["400", "401", "402", "403", "404", "409", "422", "429", "500", "502", "503", "504"]:
        assert book.get(code, "http") is not None, code


def test_unknown_code_and_scheme(book: CodeBook) -> None:
    with pytest.raises(NotFoundError):
        book.lookup("ZZ99")
    with pytest.raises(NotFoundError):
        book.lookup("05", "nope")
    assert book.get("") is None


TEXTS = [
    ("Payment failed: do not honor", [("card_decline", "do_not_honor")]),
    ("declined with response code 91 from issuer", [("iso8583", "91")]),
    ("rc=51", [("iso8583", "51")]),
    ("pacs.002 returned AC04", [("iso20022", "AC04")]),
    ("error=invalid_grant (clock skew)", [("auth", "invalid_grant"), ("auth", "clock_skew")]),
    ("got HTTP 429 then status=503", [("http", "429"), ("http", "503")]),
    ("3DS transStatus=R, eci=07", [("3ds_status", "R"), ("eci", "07")]),
    ("decline_code: insufficient_funds", [("card_decline", "insufficient_funds")]),
    ("Webhook signature verification failed", [("webhook", "signature_mismatch")]),
    ("redirect_uri_mismatch on login", [("auth", "redirect_uri_mismatch")]),
    # known non-matches: bare numbers and words without context
    ("order 1234 has 51 items and 91 reviews", []),
    ("the request was forbidden", []),
]


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_find_in_text(book: CodeBook, text: str, expected: list[tuple[str, str]]) -> None:
    assert [(m.info.scheme, m.info.code) for m in book.find_in_text(text)] == expected


@given(st.text(max_size=300))
def test_find_in_text_spans_are_consistent(text: str) -> None:
    book = CodeBook.load()
    last = -1
    for m in book.find_in_text(text):
        assert text[m.start : m.end] == m.text
        assert m.start >= last
        last = m.end


def test_bad_files_raise_configuration_error(tmp_path: Path) -> None:
    good = yaml.safe_load((DEFAULT_CODES_DIR / "http_api.yaml").read_text(encoding="utf-8"))
    cases = {
        "no_sources": {**good, "sources": []},
        "bad_route": {**good, "codes": [{**good["codes"][0], "route": "nowhere"}]},
        "bad_party": {**good, "codes": [{**good["codes"][0], "fix": ["martians"]}]},
        "dupe": {**good, "codes": [good["codes"][0], good["codes"][0]]},
        "bad_regex": {**good, "match": {"patterns": ["(unclosed"]}},
        "no_group": {**good, "match": {"patterns": ["abc"]}},
    }
    for name, doc in cases.items():
        d = tmp_path / name
        d.mkdir()
        (d / "x.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        with pytest.raises(ConfigurationError):
            CodeBook.load(d)
    with pytest.raises(ConfigurationError):
        CodeBook.load(tmp_path / "missing")


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared decline_codes data absent")
def test_shared_stripe_codes_are_covered(book: CodeBook) -> None:
    with (SHARED / "stripe_decline_codes.csv").open(encoding="utf-8") as fh:
        codes = [row["decline_code"] for row in csv.DictReader(fh)]
    missing = [c for c in codes if book.get(c, "card_decline") is None]
    assert missing == []


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared decline_codes data absent")
def test_iso20022_codes_exist_in_the_official_set(book: CodeBook) -> None:
    with (SHARED / "iso20022_payment_status_and_reason_codes.csv").open(encoding="utf-8") as fh:
        official = {row["code"] for row in csv.DictReader(fh)}
    ours = set(book.schemes["iso20022"].codes)
    assert ours - official == set()
