"""ISO 20022 XML: camt.053/052/054 statements and pain.002/pacs.002 payment status reports.

Parsed with the standard library's expat so every element keeps its source line (ElementTree drops
it) and with namespaces ignored: versions 001.02 to 001.08, Swiss ``.ch.02`` variants, FedNow envelopes
and files with a broken ``xmlns`` all read the same. DOCTYPE declarations are refused, which rules out
entity-expansion attacks in files a customer uploads.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from paytriage.domain.errors import InputError
from paytriage.engines.investigate.statement_line import (
    CreditDebit,
    PaymentStatusLine,
    StatementLine,
    extract_return_reason,
    minor_units,
)

__all__ = ["XmlNode", "parse_camt", "parse_payment_status", "parse_xml"]

_NOT_PROVIDED = {"NOTPROVIDED", "NONREF", ""}


@dataclass(slots=True)
class XmlNode:
    """A namespace-free element with its 1-based source line."""

    tag: str
    line: int
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""

    def find(self, path: str) -> XmlNode | None:
        """First descendant along ``A/B/C`` (direct children at each step)."""
        node: XmlNode | None = self
        for part in path.split("/"):
            node = next((c for c in node.children if c.tag == part), None) if node else None
        return node

    def findall(self, tag: str) -> list[XmlNode]:
        return [c for c in self.children if c.tag == tag]

    def get(self, path: str) -> str | None:
        node = self.find(path)
        text = node.text.strip() if node is not None else ""
        return text or None

    def iter(self, tag: str) -> Iterator[XmlNode]:
        for c in self.children:
            if c.tag == tag:
                yield c
            yield from c.iter(tag)


def parse_xml(data: bytes | str, *, name: str = "") -> XmlNode:
    """The document's root, or :class:`InputError` naming the line of the first XML error."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    stack: list[XmlNode] = []
    root: list[XmlNode] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = XmlNode(tag.rsplit("}", 1)[-1], parser.CurrentLineNumber, dict(attrs))
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text += text

    def doctype(*_args: object) -> None:
        raise InputError(
            f"{name or 'input'}: DOCTYPE declarations are not accepted", line=parser.CurrentLineNumber
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(
            f"{name or 'input'}: invalid XML: {xml.parsers.expat.errors.messages[exc.code]}", line=exc.lineno
        ) from None
    if not root:
        raise InputError(f"{name or 'input'}: empty XML document", line=1)
    return root[0]


def _date(node: XmlNode | None, what: str) -> date | None:
    if node is None:
        return None
    text = node.get("Dt") or node.get("DtTm")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(f"bad date {text!r}", line=node.line, field=what) from None


def _amount(node: XmlNode | None, what: str) -> tuple[int, str] | None:
    if node is None or not node.text.strip():
        return None
    ccy = node.attrs.get("Ccy", "").strip().upper()
    if len(ccy) != 3 or not ccy.isalpha():
        raise InputError(f"amount without a valid Ccy attribute: {ccy!r}", line=node.line, field=what)
    return minor_units(node.text, ccy, line=node.line, field_name=what), ccy


def _ref(text: str | None) -> str | None:
    return None if text is None or text.strip().upper() in _NOT_PROVIDED else text.strip()


def _party(tx: XmlNode, role: str) -> tuple[str | None, str | None]:
    parties = tx.find("RltdPties")
    if parties is None:
        return None, None
    name = parties.get(f"{role}/Nm") or parties.get(f"{role}/Pty/Nm")
    acct = parties.find(f"{role}Acct/Id")
    number = None
    if acct is not None:
        number = acct.get("IBAN") or acct.get("Othr/Id")
    return name, number


def _bank_code(ntry: XmlNode) -> str | None:
    bk = ntry.find("BkTxCd")
    if bk is None:
        return None
    parts = [bk.get("Domn/Cd"), bk.get("Domn/Fmly/Cd"), bk.get("Domn/Fmly/SubFmlyCd")]
    if any(parts):
        return "/".join(p for p in parts if p)
    return bk.get("Prtry/Cd")


def parse_camt(root: XmlNode, *, name: str = "", kind: str = "camt053") -> list[StatementLine]:
    """One line per transaction detail of every entry (one per entry when it has no details)."""
    out: list[StatementLine] = []
    for stmt in [*root.iter("Stmt"), *root.iter("Rpt"), *root.iter("Ntfctn")]:
        acct = stmt.find("Acct")
        account = ""
        if acct is not None:
            account = acct.get("Id/IBAN") or acct.get("Id/Othr/Id") or ""
        for ntry in stmt.findall("Ntry"):
            amt = _amount(ntry.find("Amt"), "Ntry/Amt")
            if amt is None:
                raise InputError("entry without an amount", line=ntry.line, field="Ntry/Amt")
            ind = ntry.get("CdtDbtInd")
            if ind not in ("CRDT", "DBIT"):
                raise InputError(
                    f"CdtDbtInd must be CRDT or DBIT, not {ind!r}", line=ntry.line, field="CdtDbtInd"
                )
            status = ntry.get("Sts") or ntry.get("Sts/Cd") or "BOOK"
            booking, value = _date(ntry.find("BookgDt"), "BookgDt"), _date(ntry.find("ValDt"), "ValDt")
            details: list[XmlNode | None] = [
                tx for nd in ntry.findall("NtryDtls") for tx in nd.findall("TxDtls")
            ]
            for tx in details or [None]:
                tx_amt = None
                if tx is not None and len(details) > 1:
                    tx_amt = _amount(tx.find("AmtDtls/TxAmt/Amt") or tx.find("Amt"), "TxDtls/Amt")
                minor, ccy = tx_amt or amt
                line = StatementLine(
                    account=account,
                    amount=minor,
                    currency=ccy,
                    credit_debit=CreditDebit.CREDIT if ind == "CRDT" else CreditDebit.DEBIT,
                    booking_date=booking,
                    value_date=value or booking,
                    bank_reference=_ref(ntry.get("AcctSvcrRef")),
                    reversal=(ntry.get("RvslInd") or "").lower() == "true",
                    status=status,
                    transaction_code=_bank_code(ntry),
                    remittance=ntry.get("AddtlNtryInf") or "",
                    source_format=kind,
                    source_name=name,
                    source_line=(tx or ntry).line,
                    parser="paytriage",
                )
                if tx is not None:
                    _fill_details(line, tx, ind)
                out.append(line)
    return out


def _fill_details(line: StatementLine, tx: XmlNode, ind: str) -> None:
    refs = tx.find("Refs")
    if refs is not None:
        line.end_to_end_id = _ref(refs.get("EndToEndId"))
        line.customer_reference = _ref(refs.get("InstrId"))
        line.bank_reference = _ref(refs.get("AcctSvcrRef")) or line.bank_reference
        others = (refs.get("MsgId"), refs.get("PmtInfId"), refs.get("TxId"), refs.get("UETR"))
        line.other_references = tuple(r for r in map(_ref, others) if r)
    # the counterparty is the debtor on a credit and the creditor on a debit (and swapped on returns)
    role = "Dbtr" if ind == "CRDT" else "Cdtr"
    name, acct = _party(tx, role)
    if name is None and acct is None:
        name, acct = _party(tx, "Cdtr" if role == "Dbtr" else "Dbtr")
    line.counterparty_name, line.counterparty_account = name, acct
    rmt = tx.find("RmtInf")
    if rmt is not None:
        texts = [u.text.strip() for u in rmt.findall("Ustrd") if u.text.strip()]
        texts += [r.text.strip() for r in rmt.iter("Ref") if r.text.strip()]
        if texts:
            line.remittance = " ".join(texts)
    addtl = tx.get("AddtlTxInf")
    if addtl and not line.remittance:
        line.remittance = addtl
    rtr = tx.find("RtrInf")
    if rtr is not None:
        line.return_reason = rtr.get("Rsn/Cd") or rtr.get("Rsn/Prtry")
        info = " ".join(a.text.strip() for a in rtr.findall("AddtlInf") if a.text.strip())
        if info:
            line.extra["return_info"] = info
    if line.return_reason is None:
        line.return_reason = extract_return_reason(f"{line.remittance} {addtl or ''}")


def _reason(node: XmlNode) -> tuple[str | None, str]:
    rsn = node.find("StsRsnInf")
    if rsn is None:
        return None, ""
    code = rsn.get("Rsn/Cd") or rsn.get("Rsn/Prtry")
    info = " ".join(a.text.strip() for a in rsn.findall("AddtlInf") if a.text.strip())
    return code, info


def parse_payment_status(root: XmlNode, *, name: str = "", kind: str = "pain002") -> list[PaymentStatusLine]:
    """Group, payment-information and transaction statuses of a pain.002 / pacs.002 report."""
    out: list[PaymentStatusLine] = []
    for report in [*root.iter("CstmrPmtStsRpt"), *root.iter("FIToFIPmtStsRpt")]:
        grp = report.find("OrgnlGrpInfAndSts")
        msg_id = grp.get("OrgnlMsgId") if grp is not None else None
        if grp is not None and (grp.get("GrpSts") or grp.find("StsRsnInf") is not None):
            code, info = _reason(grp)
            out.append(
                PaymentStatusLine(
                    status=grp.get("GrpSts") or "",
                    original_message_id=msg_id,
                    reason_code=code,
                    additional_info=info,
                    level="group",
                    source_format=kind,
                    source_name=name,
                    source_line=grp.line,
                )
            )
        blocks = [*report.findall("OrgnlPmtInfAndSts"), report]
        for block in blocks:
            pmt_id = block.get("OrgnlPmtInfId") if block is not report else None
            if block is not report and block.get("PmtInfSts"):
                code, info = _reason(block)
                out.append(
                    PaymentStatusLine(
                        status=block.get("PmtInfSts") or "",
                        original_message_id=msg_id,
                        original_payment_info_id=pmt_id,
                        reason_code=code,
                        additional_info=info,
                        level="payment",
                        source_format=kind,
                        source_name=name,
                        source_line=block.line,
                    )
                )
            for tx in block.findall("TxInfAndSts"):
                code, info = _reason(tx)
                amt = _amount(
                    tx.find("OrgnlTxRef/Amt/InstdAmt") or tx.find("OrgnlTxRef/IntrBkSttlmAmt"), "Amt"
                )
                out.append(
                    PaymentStatusLine(
                        status=tx.get("TxSts") or "",
                        original_message_id=msg_id,
                        original_payment_info_id=pmt_id,
                        original_instruction_id=_ref(tx.get("OrgnlInstrId")),
                        original_end_to_end_id=_ref(tx.get("OrgnlEndToEndId")),
                        reason_code=code,
                        additional_info=info,
                        amount=amt[0] if amt else None,
                        currency=amt[1] if amt else None,
                        level="transaction",
                        source_format=kind,
                        source_name=name,
                        source_line=tx.line,
                    )
                )
    return out
