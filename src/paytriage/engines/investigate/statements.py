"""Read any supported bank file into normalised lines: one entry point for MT940, BAI2 and ISO 20022.

The format is sniffed from the content (file names lie), so an analyst can drop whatever the bank or
the merchant sent. Everything the parsers reject surfaces as :class:`InputError` naming the file and
line; nothing else escapes (a property test feeds arbitrary bytes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from paytriage.domain.errors import InputError
from paytriage.engines.investigate.statement_bai2 import parse_bai2
from paytriage.engines.investigate.statement_iso20022 import parse_camt, parse_payment_status, parse_xml
from paytriage.engines.investigate.statement_line import PaymentStatusLine, StatementLine
from paytriage.engines.investigate.statement_mt940 import parse_mt940

__all__ = ["BankFile", "BankFormat", "detect_format", "parse_bank_file", "parse_bank_files", "read_bank_file"]

_MAX_BYTES = 200 * 1024 * 1024


class BankFormat(StrEnum):
    MT940 = "mt940"
    BAI2 = "bai2"
    CAMT053 = "camt053"
    CAMT052 = "camt052"
    CAMT054 = "camt054"
    PAIN002 = "pain002"
    PACS002 = "pacs002"


_XML_KINDS = {
    "BkToCstmrStmt": BankFormat.CAMT053,
    "BkToCstmrAcctRpt": BankFormat.CAMT052,
    "BkToCstmrDbtCdtNtfctn": BankFormat.CAMT054,
    "CstmrPmtStsRpt": BankFormat.PAIN002,
    "FIToFIPmtStsRpt": BankFormat.PACS002,
}


@dataclass(slots=True)
class BankFile:
    """What one file held: statement entries and/or payment statuses."""

    name: str
    format: BankFormat
    lines: list[StatementLine] = field(default_factory=list)
    statuses: list[PaymentStatusLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format.value,
            "lines": [x.to_dict() for x in self.lines],
            "statuses": [s.to_dict() for s in self.statuses],
        }


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # MT940/BAI2 from older banks: any byte is a character


def detect_format(data: bytes, *, name: str = "") -> BankFormat:
    """Sniff the format from the first bytes; :class:`InputError` when it is none we read."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf\x01 \t\r\n")
    if head.startswith(b"<"):
        text = _decode(data[:65536])
        for tag, kind in _XML_KINDS.items():
            if re.search(rf"<(?:\w+:)?{tag}[\s/>]", text):
                return kind
        raise InputError(f"{name or 'input'}: XML, but not a camt.05x, pain.002 or pacs.002 message", line=1)
    if re.match(rb"01,", head):
        return BankFormat.BAI2
    if re.search(rb"(?m)^\s*:(?:20|25|60F|61):", data[:65536]):
        return BankFormat.MT940
    raise InputError(
        f"{name or 'input'}: not a bank file we read (MT940, BAI2, camt.05x, pain.002, pacs.002)", line=1
    )


def parse_bank_file(data: bytes, *, name: str = "", fmt: BankFormat | None = None) -> BankFile:
    """Parse one file's bytes; ``fmt`` skips sniffing."""
    if len(data) > _MAX_BYTES:
        raise InputError(f"{name or 'input'}: larger than {_MAX_BYTES // (1024 * 1024)} MiB")
    kind = fmt or detect_format(data, name=name)
    out = BankFile(name=name, format=kind)
    try:
        if kind is BankFormat.MT940:
            out.lines = parse_mt940(_decode(data), name=name)
        elif kind is BankFormat.BAI2:
            out.lines = parse_bai2(_decode(data), name=name)
        else:
            root = parse_xml(data, name=name)
            if kind in (BankFormat.PAIN002, BankFormat.PACS002):
                out.statuses = parse_payment_status(root, name=name, kind=kind.value)
            else:
                out.lines = parse_camt(root, name=name, kind=kind.value)
    except InputError as exc:
        if name and name not in exc.message:
            raise InputError(f"{name}: {exc.message}", line=exc.line, field=exc.field) from None
        raise
    except RecursionError:
        raise InputError(f"{name or 'input'}: nested too deeply", line=1) from None
    return out


def read_bank_file(path: Path, *, fmt: BankFormat | None = None) -> BankFile:
    """Parse a file on disk (its name is used in every line's evidence reference)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_bank_file(data, name=path.name, fmt=fmt)


def parse_bank_files(paths: Iterable[Path]) -> list[BankFile]:
    """Parse several files; the first bad one raises (naming it)."""
    return [read_bank_file(p) for p in paths]
