"""BAI2 cash-management files into :class:`StatementLine` objects.

The maintained ``bai2`` package (ministryofjustice/bai2) parses files it supports; its BAI type-code
table decides credit versus debit. Our record scanner always runs first: it gives each 16 record its
line number and account, and it parses the files the library rejects - several ``/``-terminated records
on one physical line, or type codes the library does not know yet (both occur in real bank files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from paytriage.domain.errors import InputError
from paytriage.engines.investigate.statement_line import (
    CreditDebit,
    StatementLine,
    extract_return_reason,
)

__all__ = ["Bai2Record", "parse_bai2", "scan_bai2"]

_RECORD_START = re.compile(r"(?:^|(?<=/))\s*(?P<code>0[123]|16|49|88|9[89]),")
_FUNDS_EXTRA = {"": 0, "Z": 0, "0": 0, "1": 0, "2": 0, "V": 2, "S": 3}


@dataclass(slots=True)
class Bai2Record:
    code: str
    fields: list[str]
    line: int
    text: str = ""  # 16 records: free text from 88 continuations and wrapped lines

    @property
    def closed(self) -> bool:
        return bool(self.fields) and self.fields[-1].rstrip().endswith("/")


def scan_bai2(text: str, *, name: str = "") -> list[Bai2Record]:
    """Records with 1-based line numbers; ``88`` continuations are folded into the record before."""
    records: list[Bai2Record] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        starts = list(_RECORD_START.finditer(line))
        if not starts or starts[0].start() != 0:
            if records and records[-1].code == "16" and not records[-1].closed:
                records[-1].text = f"{records[-1].text} {line.rstrip('/')}".strip()
                continue
            raise InputError(
                f"{name or 'input'}: not a BAI2 record (expected 01, 02, 03, 16, 49, 88, 98 or 99)", line=no
            )
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            body = line[m.end() : end].strip()
            code = m.group("code")
            if code == "88":
                if not records:
                    raise InputError("continuation (88) before any record", line=no)
                prev = records[-1]
                if prev.code == "16":  # free text continues the text field
                    prev.text = f"{prev.text} {body.rstrip('/')}".strip()
                else:
                    if prev.fields and prev.fields[-1].endswith("/"):
                        prev.fields[-1] = prev.fields[-1][:-1]
                    prev.fields.extend(body.split(","))
                continue
            records.append(Bai2Record(code, body.split(","), no))
    if not records or records[0].code != "01":
        raise InputError(f"{name or 'input'}: not a BAI2 file (no 01 file header)", line=1)
    return records


def _date(text: str, line: int, fieldname: str) -> date | None:
    text = text.strip().rstrip("/")
    if not text:
        return None
    if not re.fullmatch(r"\d{6}", text):
        raise InputError(f"bad date {text!r} (YYMMDD)", line=line, field=fieldname)
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise InputError(f"bad date {text!r} (YYMMDD)", line=line, field=fieldname) from None


def _credit(type_code: str) -> bool | None:
    try:
        from bai2.constants import TypeCodes

        tc = TypeCodes.get(type_code)
        if tc is not None and tc.transaction is not None:
            return bool(tc.transaction.value == "credit")
    except ImportError:
        pass
    if not type_code.isdigit():
        return None
    n = int(type_code)
    if 100 <= n <= 399 or 900 <= n <= 959:
        return True
    if 400 <= n <= 699 or 960 <= n <= 999:
        return False
    return None


def _field(fields: list[str], i: int) -> str:
    return fields[i].strip().rstrip("/").strip() if i < len(fields) else ""


def _own_detail(rec: Bai2Record, account: str, currency: str, as_of: date | None, name: str) -> StatementLine:
    f = rec.fields
    type_code = _field(f, 0)
    amount_text = _field(f, 1) or "0"
    if not amount_text.lstrip("+").isdigit():
        raise InputError(
            f"bad amount {amount_text!r} (integer minor units)", line=rec.line, field="16.amount"
        )
    funds = _field(f, 2).upper()
    if funds == "D":
        count = _field(f, 3)
        if not count.isdigit():
            raise InputError(f"bad distributed availability count {count!r}", line=rec.line, field="16.funds")
        extra = 1 + 2 * int(count)
    elif funds in _FUNDS_EXTRA:
        extra = _FUNDS_EXTRA[funds]
    else:
        raise InputError(f"unknown funds type {funds!r}", line=rec.line, field="16.funds")
    value_date = _date(_field(f, 3), rec.line, "16.value_date") if funds == "V" else None
    i = 3 + extra
    credit = _credit(type_code)
    if credit is None:
        raise InputError(
            f"type code {type_code!r} is not a credit or debit detail", line=rec.line, field="16.type"
        )
    text = ",".join(f[i + 2 :]).strip().rstrip("/").strip() if len(f) > i + 2 else ""
    text = f"{text} {rec.text}".strip()
    return _line(
        account,
        int(amount_text.lstrip("+")),
        currency,
        credit,
        as_of,
        value_date,
        type_code,
        _field(f, i),
        _field(f, i + 1),
        text,
        rec.line,
        name,
        "paytriage",
    )


def _line(
    account: str,
    amount: int,
    currency: str,
    credit: bool,
    as_of: date | None,
    value_date: date | None,
    type_code: str,
    bank_ref: str,
    cust_ref: str,
    text: str,
    line: int,
    name: str,
    parser: str,
) -> StatementLine:
    return StatementLine(
        account=account,
        amount=amount,
        currency=currency,
        credit_debit=CreditDebit.CREDIT if credit else CreditDebit.DEBIT,
        booking_date=as_of,
        value_date=value_date or as_of,
        bank_reference=bank_ref or None,
        customer_reference=cust_ref or None,
        remittance=" ".join(text.split()),
        return_reason=extract_return_reason(text),
        transaction_code=type_code,
        source_format="bai2",
        source_name=name,
        source_line=line,
        parser=parser,
    )


def _with_library(text: str) -> list[Any] | None:
    try:
        from bai2 import bai2 as lib

        doc = lib.parse_from_string(text, check_integrity=False)
        return [t for g in doc.children for a in g.children for t in a.children]
    except Exception:  # the library raises many types on what it does not support
        return None


def parse_bai2(text: str, *, name: str = "") -> list[StatementLine]:
    """Every 16 (transaction detail) record, with its account, currency and as-of date."""
    records = scan_bai2(text, name=name)
    details: list[tuple[Bai2Record, str, str, date | None]] = []
    group_ccy, as_of, account, acct_ccy = "USD", None, "", ""
    for rec in records:
        if rec.code == "02":
            as_of = _date(_field(rec.fields, 3), rec.line, "02.as_of_date")
            group_ccy = _field(rec.fields, 5) or "USD"  # BAI2 default currency
        elif rec.code == "03":
            account = _field(rec.fields, 0)
            acct_ccy = _field(rec.fields, 1)
        elif rec.code == "16":
            if not account:
                raise InputError("transaction detail (16) outside an account (03)", line=rec.line)
            ccy = (acct_ccy or group_ccy).upper()
            if not re.fullmatch(r"[A-Z]{3}", ccy):
                raise InputError(f"bad currency {ccy!r}", line=rec.line, field="currency")
            details.append((rec, account, ccy, as_of))
    lib = _with_library(text)
    if lib is None or len(lib) != len(details):
        return [_own_detail(rec, acct, ccy, d, name) for rec, acct, ccy, d in details]
    out: list[StatementLine] = []
    for t, (rec, acct, ccy, d) in zip(lib, details, strict=True):
        credit = getattr(getattr(t.type_code, "transaction", None), "value", None)
        if credit not in ("credit", "debit") or not isinstance(t.amount, int):
            out.append(_own_detail(rec, acct, ccy, d, name))
            continue
        avail = t.availability if isinstance(t.availability, dict) else {}
        vdate = avail.get("date") if isinstance(avail.get("date"), date) else None
        out.append(
            _line(
                acct,
                t.amount,
                ccy,
                credit == "credit",
                d,
                vdate,
                t.type_code.code,
                t.bank_reference or "",
                t.customer_reference or "",
                t.text or "",
                rec.line,
                name,
                "bai2",
            )
        )
    return out
