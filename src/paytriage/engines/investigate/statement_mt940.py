"""SWIFT MT940 customer statements into :class:`StatementLine` objects.

The maintained ``mt-940`` package (WoLpH/mt940) does the field parsing, including German ``?20``
structured :86: details. Our own scanner only splits the file into statements and tags with line
numbers (so every line can cite ``file:line`` and each statement keeps its :25: account) and stands in
for the library on the statements it rejects, e.g. a :61: whose customer reference is longer than the
16 characters SWIFT allows (real ASN Bank files do this). Bad input raises :class:`InputError` with a line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from paytriage.domain.errors import InputError
from paytriage.engines.investigate.statement_line import (
    CreditDebit,
    StatementLine,
    extract_return_reason,
    minor_units,
)

__all__ = ["Mt940Tag", "parse_mt940", "scan_mt940"]

_TAG = re.compile(r"^:(?P<tag>\d{2}[A-Z]?):(?P<value>.*)$")
_ENVELOPE = re.compile(r"^\{[1-5]:")
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<ccy>[A-Z]{3})(?P<amount>[\d,.]+)\s*$")
_LINE61 = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4})?(?P<mark>R?[DC])(?P<funds>[A-Z])?(?P<amount>\d[\d,]*)"
    r"(?P<type>[NFS][A-Z0-9]{3})?(?P<cref>(?:(?!//).)*)(?://(?P<bref>.*))?$"
)
# /EREF/…/ style (Dutch, sandbox) and EREF+… style (German) keys inside :86:
_SLASH_FIELD = re.compile(r"/(?P<key>EREF|REMI|NAME|IBAN|RTRN|BIC|TRTP|CSID|MARF|PREF|KREF)/(?P<value>[^/]*)")
_PLUS_FIELD = re.compile(r"\b(?P<key>EREF|KREF|MREF|SVWZ|ABWA|IBAN|BIC)\+(?P<value>[^?\n]*)")
_NONREF = {"NONREF", "NOTPROVIDED", "NONE", ""}


@dataclass(slots=True)
class Mt940Tag:
    tag: str
    value: str
    line: int


@dataclass(slots=True)
class _Statement:
    tags: list[Mt940Tag] = field(default_factory=list)

    def first(self, *names: str) -> Mt940Tag | None:
        return next((t for t in self.tags if t.tag in names), None)


def scan_mt940(text: str, *, name: str = "") -> list[list[Mt940Tag]]:
    """Split into statements (each a list of tags with 1-based line numbers); envelopes are skipped."""
    statements: list[_Statement] = []
    current: Mt940Tag | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\x01\x03\r\ufeff")
        stripped = line.strip()
        if stripped.startswith("{") and _ENVELOPE.match(stripped) and ":" not in stripped.split("{4:")[-1]:
            current = None
            continue
        if stripped in {"-}", "-", "}"} or stripped.startswith("-}"):
            current = None
            continue
        m = _TAG.match(stripped)
        if m:
            current = Mt940Tag(m.group("tag"), m.group("value"), no)
            if current.tag == "20" or not statements:
                statements.append(_Statement())
            statements[-1].tags.append(current)
        elif current is not None:
            current.value += "\n" + line.rstrip()
    if not any(t.tag == "61" or t.tag.startswith("60") for s in statements for t in s.tags):
        raise InputError(f"{name or 'input'}: not an MT940 statement (no :60F:/:61: tag found)", line=1)
    return [s.tags for s in statements]


def parse_mt940(text: str, *, name: str = "") -> list[StatementLine]:
    """Every :61: entry of every statement in ``text``."""
    out: list[StatementLine] = []
    for tags in scan_mt940(text, name=name):
        stmt = _Statement(tags)
        acct_tag = stmt.first("25")
        account = acct_tag.value.strip() if acct_tag else ""
        bal = stmt.first("60F", "60M")
        currency = ""
        if bal is not None:
            bm = _BALANCE.match(bal.value.strip())
            if bm is None:
                raise InputError(f"bad opening balance {bal.value.strip()!r}", line=bal.line, field=":60F:")
            _date6(bm.group("date"), bal.line, ":60F:")
            currency = bm.group("ccy")
        pairs = _entries(tags)
        if not pairs:
            continue
        if not currency:
            raise InputError("statement has entries but no :60F: opening balance", line=pairs[0][0].line)
        lib = _with_library(tags, len(pairs))
        for i, (t61, t86) in enumerate(pairs):
            line = _own_line(t61, t86, account, currency, name) if lib is None else None
            if lib is not None:
                line = _lib_line(lib[i], t61, t86, account, currency, name)
            assert line is not None
            out.append(line)
    return out


def _entries(tags: list[Mt940Tag]) -> list[tuple[Mt940Tag, Mt940Tag | None]]:
    pairs: list[tuple[Mt940Tag, Mt940Tag | None]] = []
    for t in tags:
        if t.tag == "61":
            pairs.append((t, None))
        elif t.tag == "86" and pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], t)
    return pairs


def _with_library(tags: list[Mt940Tag], expected: int) -> list[dict[str, Any]] | None:
    """The library's transactions for one statement, or ``None`` when it fails or disagrees."""
    quiet = logging.getLogger("mt940")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it logs every rejected tag at ERROR; we fall back instead
    try:
        import mt940

        chunk = "\n".join(f":{t.tag}:{t.value}" for t in tags) + "\n"
        parsed = mt940.models.Transactions()
        parsed.parse(chunk)
        data = [dict(tr.data) for tr in parsed.transactions]
    except Exception:  # the library raises many types on bad input; ours reports the line instead
        return None
    finally:
        quiet.setLevel(level)
    return data if len(data) == expected else None


def _date6(text: str, line: int, fieldname: str) -> date:
    try:
        return date(
            2000 + int(text[:2]) if int(text[:2]) < 80 else 1900 + int(text[:2]),
            int(text[2:4]),
            int(text[4:6]),
        )
    except ValueError:
        raise InputError(f"bad date {text!r} (YYMMDD)", line=line, field=fieldname) from None


def _entry_date(value_date: date, mmdd: str | None, line: int) -> date | None:
    if not mmdd or not mmdd.strip():
        return None
    try:
        d = date(value_date.year, int(mmdd[:2]), int(mmdd[2:]))
    except ValueError:
        raise InputError(f"bad entry date {mmdd!r} (MMDD)", line=line, field=":61:") from None
    if (d - value_date).days > 180:  # booked in December for a January value date
        d = d.replace(year=d.year - 1)
    elif (value_date - d).days > 180:
        d = d.replace(year=d.year + 1)
    return d


def _details(t86: Mt940Tag | None) -> dict[str, str]:
    if t86 is None:
        return {}
    text = t86.value
    flat = text.replace("\n", "")
    out: dict[str, str] = {}
    for m in _SLASH_FIELD.finditer(flat):
        out.setdefault(m.group("key"), m.group("value").strip())
    for m in _PLUS_FIELD.finditer(re.sub(r"\?\d\d", "?", flat)):
        out.setdefault(m.group("key"), m.group("value").strip())
    return out


def _ref(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.upper() in _NONREF else text


def _common(line: StatementLine, t86: Mt940Tag | None, details: dict[str, str], remit: str) -> StatementLine:
    line.end_to_end_id = line.end_to_end_id or _ref(details.get("EREF"))
    line.counterparty_name = line.counterparty_name or details.get("NAME") or None
    line.counterparty_account = line.counterparty_account or details.get("IBAN") or None
    line.remittance = (details.get("REMI") or details.get("SVWZ") or remit or "").strip()
    text86 = t86.value if t86 else ""
    line.return_reason = details.get("RTRN") or extract_return_reason(f"{line.remittance} {text86}")
    if line.return_reason and not re.fullmatch(r"[A-Z0-9]{4}", line.return_reason):
        line.return_reason = extract_return_reason(f"RTRN/{line.return_reason}")
    return line


def _own_line(t61: Mt940Tag, t86: Mt940Tag | None, account: str, currency: str, name: str) -> StatementLine:
    first, _, rest = t61.value.strip().partition("\n")
    m = _LINE61.match(first.strip())
    if m is None:
        raise InputError(
            f"unreadable :61: statement line {first.strip()[:60]!r}", line=t61.line, field=":61:"
        )
    vdate = _date6(m.group("vdate"), t61.line, ":61:")
    mark = m.group("mark")
    line = StatementLine(
        account=account,
        amount=minor_units(m.group("amount"), currency, line=t61.line, field_name=":61:"),
        currency=currency,
        credit_debit=CreditDebit.CREDIT if mark.endswith("C") else CreditDebit.DEBIT,
        value_date=vdate,
        booking_date=_entry_date(vdate, m.group("edate"), t61.line) or vdate,
        customer_reference=_ref(m.group("cref")),
        bank_reference=_ref(m.group("bref")),
        reversal=mark.startswith("R"),
        transaction_code=m.group("type"),
        source_format="mt940",
        source_name=name,
        source_line=t61.line,
        parser="paytriage",
    )
    if rest.strip():
        line.extra["supplementary"] = rest.strip()
    return _common(line, t86, _details(t86), t86.value.strip() if t86 else "")


def _lib_line(
    data: dict[str, Any], t61: Mt940Tag, t86: Mt940Tag | None, account: str, currency: str, name: str
) -> StatementLine:
    amount = data.get("amount")
    ccy = str(getattr(amount, "currency", None) or currency)
    signed = getattr(amount, "amount", None)
    if signed is None:
        return _own_line(t61, t86, account, currency, name)
    status = str(data.get("status") or "")
    credit = status.endswith("C") if status else signed >= 0
    vdate = data.get("date")
    edate = data.get("entry_date") or data.get("guessed_entry_date")
    details = _details(t86)
    structured = {
        "EREF": data.get("end_to_end_reference"),
        "NAME": data.get("applicant_name"),
        "IBAN": data.get("gvc_applicant_iban"),
        "REMI": data.get("purpose"),
    }
    for key, value in structured.items():
        if value and key not in details:
            details[key] = str(value).strip()
    line = StatementLine(
        account=account,
        amount=minor_units(str(abs(signed)), ccy, line=t61.line, field_name=":61:"),
        currency=ccy,
        credit_debit=CreditDebit.CREDIT if credit else CreditDebit.DEBIT,
        value_date=date(vdate.year, vdate.month, vdate.day) if vdate else None,
        booking_date=date(edate.year, edate.month, edate.day) if edate else None,
        customer_reference=_ref(data.get("customer_reference")),
        bank_reference=_ref(data.get("bank_reference")),
        reversal=status.startswith("R"),
        transaction_code=str(data.get("id")) if data.get("id") else None,
        source_format="mt940",
        source_name=name,
        source_line=t61.line,
        parser="mt-940",
    )
    if line.booking_date is None:
        line.booking_date = line.value_date
    if data.get("extra_details"):
        line.extra["supplementary"] = str(data["extra_details"])
    remit = str(data.get("transaction_details") or (t86.value if t86 else "")).strip()
    return _common(line, t86, details, remit)
