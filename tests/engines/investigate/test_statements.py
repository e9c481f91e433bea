"""Bank statement parsers: own fixtures, every shared sample, and no traceback on arbitrary input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import SHARED_DATA

from paytriage.domain.errors import InputError
from paytriage.engines.investigate.statement_line import CreditDebit, extract_return_reason, minor_units
from paytriage.engines.investigate.statements import (
    BankFormat,
    detect_format,
    parse_bank_file,
    read_bank_file,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "statements"
BANK = SHARED_DATA / "bank_formats"


def test_mt940_fixture_lines() -> None:
    f = read_bank_file(FIXTURES / "payouts.sta")
    assert f.format is BankFormat.MT940
    assert [(ln.amount, ln.credit_debit, ln.end_to_end_id) for ln in f.lines] == [
        (12050, CreditDebit.DEBIT, "po_1001"),
        (7500, CreditDebit.DEBIT, "po_1002"),
        (7500, CreditDebit.CREDIT, "po_1002"),
    ]
    first, _, ret = f.lines
    assert first.account == "TESTDEFF/DE89370400440532013000"
    assert first.value_date == date(2024, 5, 2) and first.source_line == 6
    assert first.counterparty_name == "Acme Shop" and first.bank_reference == "BANKREF1001"
    assert ret.return_reason == "AC04" and ret.is_return


def test_camt_fixture_lines() -> None:
    f = read_bank_file(FIXTURES / "payouts_camt053.xml")
    assert f.format is BankFormat.CAMT053
    assert [(ln.amount, ln.currency, ln.end_to_end_id, ln.return_reason) for ln in f.lines] == [
        (25000, "GBP", "po_2001", None),
        (4010, "GBP", "po_2002", None),
        (4010, "GBP", "po_2002", "AC04"),
    ]
    assert f.lines[0].counterparty_name == "Corner Cafe"
    assert f.lines[2].extra["return_info"] == "Account closed"


def test_bai2_fixture_lines() -> None:
    f = read_bank_file(FIXTURES / "payouts.bai2")
    out, inc = f.lines
    assert (out.amount, out.credit_debit, out.customer_reference, out.value_date) == (
        99900,
        CreditDebit.DEBIT,
        "po_3001",
        date(2024, 5, 9),
    )
    assert "RIVER SUPPLY" in out.remittance
    assert (inc.amount, inc.credit_debit, inc.bank_reference) == (12345, CreditDebit.CREDIT, "BR3002")


def test_pain002_fixture_statuses() -> None:
    f = read_bank_file(FIXTURES / "payouts_pain002.xml")
    tx = [s for s in f.statuses if s.level == "transaction"]
    assert [(s.original_end_to_end_id, s.status, s.reason_code) for s in tx] == [
        ("po_4001", "RJCT", "AC01"),
        ("po_4002", "PDNG", None),
    ]


def test_mt940_fallback_reads_overlong_reference() -> None:
    text = (
        ":20:X\n:25:NL81ASNB9999999999\n:28C:1/1\n:60F:C200101EUR444,29\n"
        ":61:2001010101D65,00NOVBNL47INGB9999999999\nhr gjlm paulissen\n"
        ":86:/EREF/E2E-1/\n:62F:C200101EUR379,29\n"
    )
    (line,) = parse_bank_file(text.encode(), name="asn.sta").lines
    assert (line.parser, line.amount, line.customer_reference, line.end_to_end_id) == (
        "paytriage",
        6500,
        "NL47INGB9999999999",
        "E2E-1",
    )


def test_bai2_fallback_several_records_per_line() -> None:
    text = (
        "01,A,B,220919,2112,4,,,2/   02,A,B,1,220919,2400,USD,2/\n03,111,,010,0,,/\n"
        "16,142,2500,Z,,,TRANSFER PPD/ 16,451,600,Z,,,ACH_SETL/\n49,3100,2/\n98,3100,1,4/\n99,3100,1,6/\n"
    )
    lines = parse_bank_file(text.encode(), name="x.bai2").lines
    assert [(ln.amount, ln.credit_debit, ln.source_line) for ln in lines] == [
        (2500, CreditDebit.CREDIT, 3),
        (600, CreditDebit.DEBIT, 3),
    ]


BAD = [
    (b"hello world", 1, "not a bank file"),
    (b":20:X\n:25:A\n:60F:C240101EUR1,00\n:61:XX\n", 4, ":61:"),
    (b":20:X\n:25:A\n:60F:C241399EUR1,00\n:61:2401010101D1,00NTRFX\n", 3, "60F"),
    (b":20:X\n:25:A\n:60F:C240101EUR1,00\n:61:2413010101D1,00NTRFX\n", 4, "date"),
    (b"01,A,B,240101,0000,1,,,2/\n02,A,B,1,240101,,USD/\n03,1,USD/\n16,142,12x,Z,,,T/\n", 4, "amount"),
    (b"01,A,B,240101,0000,1,,,2/\nnonsense\n", 2, "BAI2"),
    (b"<Document><BkToCstmrStmt><Stmt><Ntry><Amt>1</Amt></Ntry></Stmt></BkToCstmrStmt></Document>", 1, "Ccy"),
    (b'<?xml version="1.0"?>\n<Document><BkToCstmrStmt>\n<Stmt>\n</BkToCstmrStmt>', 4, "invalid XML"),
    (b'<!DOCTYPE x [<!ENTITY a "b">]><Document><CstmrPmtStsRpt/></Document>', 1, "DOCTYPE"),
]


@pytest.mark.parametrize(("data", "line", "words"), BAD)
def test_bad_input_names_the_line(data: bytes, line: int, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_bank_file(data, name="bad.file")
    assert err.value.line == line
    assert words.lower() in str(err.value).lower()
    assert "bad.file" in str(err.value)


def test_helpers() -> None:
    assert minor_units("12,5", "EUR") == 1250
    assert minor_units("1000", "JPY") == 1000
    with pytest.raises(InputError):
        minor_units("1.234", "EUR")
    assert extract_return_reason("RETURN AC04 po_1") == "AC04"
    assert extract_return_reason("/RTRN/MS03/EREF/x") == "MS03"
    assert extract_return_reason("Payout po_1 to AC04 street") is None
    assert detect_format(b"\xef\xbb\xbf01,X,Y,240101,,,,,2/") is BankFormat.BAI2


# --- every shared sample parses (or names the file and line) ---

SAMPLES = sorted(p for p in BANK.glob("*/*") if p.parent.name != "LICENSES") if BANK.is_dir() else []
MIN_LINES = {"mt940": 1, "bai2": 1, "camt053": 1, "pain002": 1, "pacs002": 1}


@pytest.mark.skipif(not SAMPLES, reason="shared bank_formats data absent")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shared_sample_parses(path: Path) -> None:
    f = read_bank_file(path)
    assert f.format.value == path.parent.name
    items = f.statuses if path.parent.name in ("pain002", "pacs002") else f.lines
    assert len(items) >= MIN_LINES[path.parent.name]
    for ln in f.lines:
        assert ln.amount >= 0 and len(ln.currency) == 3 and ln.source_line and ln.source_line > 0
        assert ln.value_date is not None or ln.booking_date is not None


@pytest.mark.skipif(not BANK.is_dir(), reason="shared bank_formats data absent")
def test_shared_known_values() -> None:
    asn = read_bank_file(BANK / "mt940" / "asn_bank_0708271685_09022020_164516.940.txt")
    assert {ln.parser for ln in asn.lines} == {"mt-940", "paytriage"}  # library plus our fallback
    assert asn.lines[0].amount == 6500 and asn.lines[0].credit_debit is CreditDebit.DEBIT
    ac04 = read_bank_file(BANK / "pacs002" / "fednow_CCT_Scenario3_Step4_pacs.002_BankA_RJCT_AC04.xml")
    assert [(s.status, s.reason_code) for s in ac04.statuses] == [("RJCT", "AC04")]
    cr = read_bank_file(BANK / "pain002" / "cross_river_pain_002_transaction_rejected.xml")
    assert any(s.status == "RJCT" and s.level == "transaction" for s in cr.statuses)
    sample3 = read_bank_file(BANK / "bai2" / "moov_sample3.txt")
    assert {ln.parser for ln in sample3.lines} == {"paytriage"}
    assert sum(1 for ln in sample3.lines if "ACH_SETL" in ln.remittance) >= 2
    multi = read_bank_file(BANK / "camt053" / "genkgo_camt053.v2.multi.statement.xml")
    assert len({ln.source_line for ln in multi.lines}) == len(multi.lines)


# --- property: arbitrary input never escapes as anything but InputError ---

_MT940_BITS = st.sampled_from(
    [
        ":20:",
        ":25:",
        ":28C:",
        ":60F:",
        ":61:",
        ":86:",
        ":62F:",
        "C",
        "D",
        "RC",
        "EUR",
        "240101",
        "0101",
        "1,00",
        "NTRF",
        "//",
        "\n",
        "{1:",
        "{4:",
        "-}",
        "/EREF/",
        "?20",
        "99",
        "A",
    ]
)
_BAI2_BITS = st.sampled_from(
    [
        "01,",
        "02,",
        "03,",
        "16,",
        "88,",
        "49,",
        "98,",
        "99,",
        ",",
        "/",
        "\n",
        "142",
        "V",
        "S",
        "D",
        "2",
        "240101",
        "USD",
        "abc",
        "12",
    ]
)
_XML_BITS = st.sampled_from(
    [
        "<Document>",
        "<BkToCstmrStmt>",
        "<Stmt>",
        "<Ntry>",
        "</Ntry>",
        '<Amt Ccy="EUR">',
        "1.00",
        "</Amt>",
        "<CdtDbtInd>",
        "CRDT",
        "</CdtDbtInd>",
        "<ValDt><Dt>",
        "2024-13-01",
        "</Dt></ValDt>",
        "<CstmrPmtStsRpt>",
        "<TxInfAndSts>",
        "<TxSts>",
        "&amp;",
        "<",
    ]
)


def _check(data: bytes) -> None:
    try:
        parse_bank_file(data, name="fuzz")
    except InputError as exc:
        assert exc.line is None or exc.line >= 1


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_MT940_BITS, max_size=40).map("".join))
def test_mt940_never_crashes(text: str) -> None:
    _check(text.encode())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_BAI2_BITS, max_size=40).map("".join))
def test_bai2_never_crashes(text: str) -> None:
    _check(text.encode())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_XML_BITS, max_size=30).map("".join))
def test_xml_never_crashes(text: str) -> None:
    _check(text.encode())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _check(data)
