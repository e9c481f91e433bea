"""Partner-bank statements of the platform's payout accounts: SWIFT MT940 and ISO 20022 camt.053.

Payouts are booked on the day the bank settles them (late during a payout-delay incident), so a
reconciler can spot what is missing. One file per bank per month; days are flushed as they complete.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from paytriage.domain.money import currency_exponent
from paytriage.sandbox.catalog import PARTNER_BANKS, PartnerBank
from paytriage.sandbox.identifiers import IBAN_FORMATS, make_iban

__all__ = ["Entry", "StatementWriter"]

Entry = tuple[
    str, int, str, str, str
]  # (reference, signed minor units, counterparty name, account, remittance)


def _amount(minor: int, exp: int, sep: str) -> str:
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    return f"{whole}{sep}{frac:0{exp}d}" if exp else f"{whole}{sep}" if sep == "," else f"{whole}"


class StatementWriter:
    """Collects booked entries per bank and day; writes each bank's day when the simulation passes it."""

    def __init__(self, directory: Path, rng: random.Random) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._book: dict[str, dict[date, list[Entry]]] = defaultdict(lambda: defaultdict(list))
        self._fh: dict[tuple[str, str], IO[str]] = {}
        self._seq: dict[str, int] = defaultdict(int)
        self.account: dict[str, str] = {}
        self.balance: dict[str, int] = {}
        for b in PARTNER_BANKS:
            self.account[b.name] = (
                make_iban(rng, b.country) if b.country in IBAN_FORMATS else f"{rng.randrange(10**9, 10**10)}"
            )
            self.balance[b.name] = rng.randrange(5 * 10**6, 5 * 10**7) * 10 ** currency_exponent(b.currency)
        self.entries = 0

    def book(self, bank: PartnerBank, day: date, entry: Entry) -> None:
        self._book[bank.name][day].append(entry)

    def close_day(self, day: date) -> None:
        """Write every bank's statement for ``day`` (entries booked later stay pending)."""
        for bank in PARTNER_BANKS:
            entries = self._book[bank.name].pop(day, [])
            self._write(bank, day, entries)

    def close(self) -> None:
        for (_, kind), fh in self._fh.items():
            if kind == "camt053":
                fh.write("  </BkToCstmrStmt>\n</Document>\n")
            fh.close()

    def _file(self, bank: PartnerBank, day: date) -> IO[str]:
        slug = bank.bic[:8].lower()
        month = day.strftime("%Y-%m")
        key = (f"{slug}-{month}", bank.statement_format)
        fh = self._fh.get(key)
        if fh is None:
            for (old, kind), h in list(self._fh.items()):
                if old.startswith(slug):
                    if kind == "camt053":
                        h.write("  </BkToCstmrStmt>\n</Document>\n")
                    h.close()
                    del self._fh[(old, kind)]
            ext = "sta" if bank.statement_format == "mt940" else "xml"
            fh = (self.dir / f"{slug}-{month}.{ext}").open("w", encoding="utf-8", newline="\n")
            if bank.statement_format == "camt053":
                fh.write(
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">\n'
                    f"  <BkToCstmrStmt>\n    <GrpHdr><MsgId>{slug.upper()}{month.replace('-', '')}"
                    f"</MsgId><CreDtTm>{day.isoformat()}T06:00:00Z</CreDtTm></GrpHdr>\n"
                )
            self._fh[key] = fh
        return fh

    def _write(self, bank: PartnerBank, day: date, entries: list[Entry]) -> None:
        fh = self._file(bank, day)
        self._seq[bank.name] += 1
        opening = self.balance[bank.name]
        closing = opening + sum(e[1] for e in entries)
        self.balance[bank.name] = closing
        self.entries += len(entries)
        if bank.statement_format == "mt940":
            fh.write(
                _mt940(bank, self.account[bank.name], day, self._seq[bank.name], opening, closing, entries)
            )
        else:
            fh.write(
                _camt(bank, self.account[bank.name], day, self._seq[bank.name], opening, closing, entries)
            )


def _mt940(
    bank: PartnerBank, account: str, day: date, seq: int, opening: int, closing: int, entries: list[Entry]
) -> str:
    exp = currency_exponent(bank.currency)
    d = day.strftime("%y%m%d")
    lines = [
        f"{{1:F01{bank.bic}0000000000}}{{2:O940{bank.bic}N}}{{4:",
        f":20:STMT{day:%Y%m%d}{seq:04d}",
        f":25:{bank.bic}/{account}",
        f":28C:{seq}/1",
        f":60F:{'C' if opening >= 0 else 'D'}{d}{bank.currency}{_amount(opening, exp, ',')}",
    ]
    for ref, minor, name, acct, remit in entries:
        mark = "C" if minor >= 0 else "D"
        lines.append(f":61:{d}{d[2:]}{mark}{_amount(minor, exp, ',')}NTRF{ref[:16]}//{ref[-16:]}")
        lines.append(f":86:/EREF/{ref}/REMI/{remit[:60]}/NAME/{name[:40]}/IBAN/{acct}")
    lines.append(f":62F:{'C' if closing >= 0 else 'D'}{d}{bank.currency}{_amount(closing, exp, ',')}")
    lines.append("-}")
    return "\n".join(lines) + "\n"


def _camt(
    bank: PartnerBank, account: str, day: date, seq: int, opening: int, closing: int, entries: list[Entry]
) -> str:
    exp = currency_exponent(bank.currency)
    ccy = bank.currency
    acct = f"<IBAN>{account}</IBAN>" if account[:2].isalpha() else f"<Othr><Id>{account}</Id></Othr>"
    created = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )

    def bal(code: str, minor: int) -> str:
        ind = "CRDT" if minor >= 0 else "DBIT"
        return (
            f'      <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">'
            f"{_amount(minor, exp, '.')}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt>"
            "</Dt></Bal>"
        )

    out = [
        f"    <Stmt>\n      <Id>{bank.bic[:8]}{day:%Y%m%d}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb>"
        f"<CreDtTm>{created}</CreDtTm>",
        f"      <Acct><Id>{acct}</Id><Ccy>{ccy}</Ccy><Svcr><FinInstnId><BIC>{bank.bic}</BIC>"
        "</FinInstnId></Svcr></Acct>",
        bal("OPBD", opening),
        bal("CLBD", closing),
    ]
    for ref, minor, name, cacct, remit in entries:
        ind = "CRDT" if minor >= 0 else "DBIT"
        party = "Dbtr" if minor >= 0 else "Cdtr"
        cid = f"<IBAN>{cacct}</IBAN>" if cacct[:2].isalpha() else f"<Othr><Id>{escape(cacct)}</Id></Othr>"
        out.append(
            f'      <Ntry><Amt Ccy="{ccy}">{_amount(minor, exp, ".")}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt><ValDt><Dt>{day.isoformat()}</Dt>"
            "</ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
            f"</BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>{escape(ref)}</EndToEndId></Refs><RltdPties>"
            f"<{party}><Nm>{escape(name)}</Nm></{party}><{party}Acct><Id>{cid}</Id></{party}Acct></RltdPties>"
            f"<RmtInf><Ustrd>{escape(remit)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    out.append("    </Stmt>")
    return "\n".join(out) + "\n"
