"""The escalation package: everything an engineer needs to act on a case without a follow-up question.

Pure: :func:`build_package` reads a case (or problem), its tickets, the stored triage and an
investigation result and returns an :class:`EscalationPackage`; nothing is fetched here. Each section
names the evidence it was filled from, or stays empty and is listed as missing (see
:mod:`~paytriage.engines.escalate.completeness`). Free text from tickets and logs is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from paytriage.domain import Ticket
from paytriage.domain.money import Money
from paytriage.engines.escalate.completeness import SECTIONS, Completeness, Section, assess
from paytriage.engines.escalate.decision import Decision, decide
from paytriage.engines.escalate.logged_requests import logged_requests
from paytriage.engines.investigate.correlation import effective_level
from paytriage.engines.investigate.hypotheses import EvidenceKind, Hypothesis, Scope
from paytriage.engines.investigate.investigator import Investigation
from paytriage.engines.investigate.timeline import EntryKind
from paytriage.engines.redaction import redact

__all__ = [
    "PACKAGE_VERSION",
    "EscalationInput",
    "EscalationPackage",
    "RelatedTicket",
    "Subject",
    "build_package",
]

PACKAGE_VERSION = "2026-11-24"
MAX_LOG_LINES = 12
MAX_TIMELINE = 40

_BROWSER = re.compile(r"\b(Chrome|Firefox|Safari|Edge|Opera|Samsung ?Internet)[/ ]v?(\d+(?:\.\d+)*)", re.I)
_API_VERSION = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
_SERVICE_KEY = re.compile(r"\bservice=([A-Za-z][\w-]{1,40})")
_SDK = re.compile(r"^\s*([A-Za-z][\w.-]*)\s+v?(\d[\w.-]*)\s*$")


@dataclass(slots=True)
class Subject:
    """The case or problem being escalated (storage-free)."""

    kind: str  # "case" or "problem"
    id: int
    title: str
    created_at: datetime
    status: str = "new"
    priority: str | None = None
    route: str | None = None
    category: str | None = None
    sla_remaining_hours: float | None = None


@dataclass(frozen=True, slots=True)
class RelatedTicket:
    external_id: str
    subject: str
    created_at: datetime
    case_id: int | None = None
    reason: str = "same case"


@dataclass(slots=True)
class EscalationInput:
    subject: Subject
    tickets: Sequence[Ticket]
    now: datetime
    triage: Mapping[str, Any] | None = None
    investigation: Investigation | None = None
    related: Sequence[RelatedTicket] = ()
    #: Tickets per day of the subject's problem (or category), oldest first: the trend.
    daily_counts: Sequence[tuple[str, int]] = ()


@dataclass(slots=True)
class EscalationPackage:
    id: str
    title: str
    priority: str | None
    sections: dict[str, Section]
    decision: Decision
    completeness: Completeness
    queries: list[str] = field(default_factory=list)
    version: str = PACKAGE_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (also what the Jira connector renders as ADF)."""
        out: dict[str, Any] = {"id": self.id, "title": self.title, "priority": self.priority}
        for name in SECTIONS[1:]:
            out[name] = self.sections[name].value
        out["queries"] = self.queries
        out["decision"] = self.decision.to_dict()
        out["completeness"] = self.completeness.to_dict()
        out["sources"] = {n: s.sources for n, s in self.sections.items()}
        out["version"] = self.version
        return out


def _safe(text: str) -> str:
    return redact(text).text


def _money(by_currency: Mapping[str, int]) -> str:
    return ", ".join(str(Money(v, c)) for c, v in sorted(by_currency.items()) if v) or ""


def _scope(inv: Investigation | None) -> tuple[Scope, str | None]:
    """The top hypothesis' scope, else the case's own transactions."""
    if inv is None:
        return Scope(), None
    top = inv.top
    if top is not None and top.scope.transactions:
        return top.scope, f"hypothesis '{top.title}'"
    own = inv.correlation.transactions
    return Scope.of(list(own)), ("the case's own transactions" if own else None)


def _trend(counts: Sequence[tuple[str, int]]) -> str | None:
    if len(counts) < 2:
        return None
    half = len(counts) // 2
    before = sum(n for _, n in counts[:half]) / half
    after = sum(n for _, n in counts[half:]) / (len(counts) - half)
    word = "rising" if after > before * 1.2 else "falling" if after < before * 0.8 else "flat"
    return f"{word}: {before:.1f}/day → {after:.1f}/day over {len(counts)} days"


def _impact(inp: EscalationInput, queries: list[str]) -> Section:
    scope, source = _scope(inp.investigation)
    sources = [source] if source else []
    value: dict[str, Any] = {
        "tickets": len(inp.tickets) + len({r.external_id for r in inp.related}),
        "customers": scope.customers,
        "merchants": scope.merchants,
        "transactions": scope.transactions,
        "money_at_stake": _money(scope.money_minor_by_currency),
    }
    missing = [k for k in ("transactions", "money_at_stake") if not value[k]]
    trend = _trend(inp.daily_counts)
    if trend:
        value["trend"] = trend
        sources.append("tickets per day")
    else:
        missing.append("trend")
    rem = inp.subject.sla_remaining_hours
    if rem is not None:
        value["sla_exposure"] = (
            f"breached {-rem:.1f} h ago" if rem < 0 else f"{rem:.1f} h to resolution target"
        )
        sources.append("case SLA clock")
    top = inp.investigation.top if inp.investigation else None
    if top is not None:
        queries.extend(e.text for e in top.evidence if e.kind == EvidenceKind.COUNT)
    return Section("impact", value if sources else {}, sources, missing)


def _severity(inp: EscalationInput, decision: Decision) -> Section:
    prio = inp.subject.priority or (inp.triage or {}).get("priority")
    if not prio:
        return Section("severity", None)
    factors = [
        str(f.get("reason")) for f in (inp.triage or {}).get("priority_factors") or [] if f.get("reason")
    ]
    reason = "; ".join(factors) or "triage default for the category"
    if decision.escalate:
        reason += f"; root cause on our side ({decision.verdict.value})"
    return Section("severity", {"priority": prio, "reason": reason}, ["triage priority factors"])


def _environment(inp: EscalationInput) -> Section:
    env: dict[str, str] = {}
    sources: list[str] = []
    for t in inp.tickets:
        cf = t.custom_fields
        integ = str(cf.get("integration") or "").strip()
        if integ and "integration" not in env:
            env["integration"] = integ
            sources.append(f"ticket {t.external_id} custom field integration")
            m = _SDK.match(integ)
            if m and _API_VERSION.fullmatch(m.group(2)):
                env["api_version"] = m.group(2)
            elif m:
                env["plugin_sdk"], env["plugin_sdk_version"] = m.group(1), m.group(2)
        for key in ("api_version", "browser", "region", "country", "plugin", "sdk_version"):
            if cf.get(key) and key not in env:
                env[key] = str(cf[key])
                sources.append(f"ticket {t.external_id} custom field {key}")
        text = f"{t.subject}\n{t.description}"
        if "browser" not in env and (b := _BROWSER.search(text)):
            env["browser"] = f"{b.group(1)} {b.group(2)}"
            sources.append(f"ticket {t.external_id} text")
    inv = inp.investigation
    if inv is not None:
        for sw in inv.correlation.clues.software:
            if "software" not in env:
                env["software"] = sw
                sources.append("ticket entities")
        txns = inv.correlation.transactions
        country = next((t.country for t in txns if getattr(t, "country", None)), None)
        if country and "region" not in env:
            env["region"] = country
            sources.append("transaction country")
        for ev in inv.correlation.logs:
            for key in ("api_version", "user_agent", "region"):
                val = ev.attributes.get(key)
                if val and key not in env:
                    env[key] = str(val)
                    sources.append(f"log {(ev.fingerprint or ev.source)[:12]}")
    if "region" not in env and "country" in env:
        env["region"] = env.pop("country")
    missing = []
    if not ({"api_version", "plugin_sdk", "software"} & env.keys()):
        missing.append("api_version_or_sdk")
    if "region" not in env:
        missing.append("region")
    return Section("environment", env, sources, missing)


def _reproduction(inp: EscalationInput) -> Section:
    inv = inp.investigation
    steps: list[str] = []
    sources: list[str] = []
    if inv is not None and inv.request is not None:
        r = inv.request.redacted()
        steps.append(f"send {r.get('method')} {r.get('target')} ({r.get('origin')}; secrets redacted)")
        if r.get("body"):
            steps.append(f"with body {_safe(str(r['body']))[:400]}")
        sources.append(f"request from {r.get('origin')}")
        if inv.expected is not None:
            steps.append(f"the customer saw HTTP {inv.expected.status}")
            sources.append("response quoted in the ticket")
        if inv.replay is not None:
            rp = inv.replay
            got = rp.error or f"HTTP {rp.status}, {len(rp.diff)} field(s) differ from what the customer saw"
            steps.append(f"replayed against the sandbox: {got}")
            sources.append("API replay")
    if inv is not None:
        own = [t for t in inv.correlation.transactions if inv.correlation.matched_by.get(t.external_id)]
        for t in own[:3]:
            codes = (
                ", ".join(f"{e.status.value}{' ' + e.code if e.code else ''}" for e in t.events)
                or t.status.value
            )
            steps.append(
                f"{t.kind.value} {t.external_id} {t.amount} at {t.created_at:%Y-%m-%d %H:%M}Z: {codes}"
            )
        if own:
            sources.append("transaction lifecycle")
    logged = logged_requests(inv.correlation.logs) if inv is not None and inv.request is None else []
    if logged:
        steps += [r.step() for r in logged]
        sources.append("failed requests in the correlated logs")
    if not steps:
        return Section("reproduction_steps", [], [], ["request_or_transaction"])
    needs_request = (
        inv is not None and inv.request is None and not logged and bool(inv.correlation.clues.http_statuses)
    )
    return Section("reproduction_steps", steps, sources, ["api_request"] if needs_request else [])


def _logs(inp: EscalationInput) -> Section:
    inv = inp.investigation
    if inv is None:
        return Section("log_excerpts", "")
    levels = ("debug", "info", "warning", "error", "critical")
    lvl = {id(e): effective_level(e) for e in inv.correlation.logs}
    chosen = sorted(inv.correlation.logs, key=lambda e: (-levels.index(lvl[id(e)]), e.timestamp))
    lines = [
        f"{e.timestamp:%Y-%m-%dT%H:%M:%S}Z {lvl[id(e)].upper()} [{e.service or e.source}] "
        + _safe(e.message.split("\n")[0])[:300]
        for e in sorted(chosen[:MAX_LOG_LINES], key=lambda e: e.timestamp)
    ]
    return Section("log_excerpts", "\n".join(lines), ["log events correlated with the case"] if lines else [])


def _timeline(inp: EscalationInput) -> Section:
    inv = inp.investigation
    if inv is None:
        return Section("timeline", [])
    entries = inv.timeline[-MAX_TIMELINE:]
    rows = [
        {"at": f"{e.at:%Y-%m-%d %H:%M:%S}Z", "kind": e.kind.value, "event": _safe(e.text)} for e in entries
    ]
    beyond = any(e.kind != EntryKind.TICKET for e in entries)
    return Section("timeline", rows, ["investigation timeline"] if beyond else [])


def _related(inp: EscalationInput) -> Section:
    rows = [
        {
            "ticket": t.external_id,
            "subject": _safe(t.subject or t.description)[:120],
            "created": f"{t.created_at:%Y-%m-%d %H:%M}Z",
            "why": "this case",
        }
        for t in inp.tickets
    ]
    seen = {t.external_id for t in inp.tickets}
    for r in inp.related:
        if r.external_id not in seen:
            seen.add(r.external_id)
            rows.append(
                {
                    "ticket": r.external_id,
                    "subject": _safe(r.subject)[:120],
                    "created": f"{r.created_at:%Y-%m-%d %H:%M}Z",
                    "why": r.reason,
                }
            )
    return Section("related_tickets", rows, ["case tickets"] + (["problem tickets"] if inp.related else []))


def _component(inp: EscalationInput) -> tuple[Section, Section]:
    """The top hypothesis' component, else the service of the worst error template or of the case's
    error lines (a ``service=`` key counts); then the last release of that component before the onset."""
    inv = inp.investigation
    if inv is None:
        return Section("suspected_component", None), Section("suspected_release", None)
    top = inv.top
    comp, src = None, None
    if top is not None and top.component:
        comp, src = top.component, f"hypothesis '{top.title}'"
    if comp is None and top is not None and (m := _SERVICE_KEY.search(top.title + " " + top.summary)):
        comp, src = m.group(1), f"hypothesis '{top.title}'"
    if comp is None:
        errs = [t for t in inv.correlation.templates if t.service and t.level in ("error", "critical")]
        errs.sort(key=lambda t: -t.ratio)
        if errs:
            comp, src = (
                errs[0].service,
                f"error template {errs[0].template_id} ({errs[0].ratio:.1f}x baseline)",
            )
    if comp is None:
        svc = [
            e.service or (m.group(1) if (m := _SERVICE_KEY.search(e.message)) else "")
            for e in inv.correlation.logs
            if effective_level(e) in ("warning", "error", "critical")
        ]
        svc = [x for x in svc if x]
        if svc:
            comp, src = max(sorted(set(svc)), key=svc.count), "services of the case's warning/error log lines"
    comp_sec = Section("suspected_component", comp, [src] if src else [])
    if top is not None:
        cited = [e for e in top.evidence if e.kind == EvidenceKind.RELEASE]
        if cited:
            rel_src = [f"hypothesis '{top.title}'"]
            return comp_sec, Section("suspected_release", cited[0].ref or cited[0].text, rel_src)
    if comp is None:
        return comp_sec, Section("suspected_release", None)
    focus = inv.correlation.focus
    base = _base_name(comp)
    match = [
        e
        for e in inv.timeline
        if e.kind == EntryKind.RELEASE and e.at <= focus and e.ref and _base_name(e.ref.split("@")[0]) == base
    ]
    if match:
        rel = match[-1]
        when = f"{rel.ref} at {rel.at:%Y-%m-%d %H:%M}Z"
        return comp_sec, Section("suspected_release", when, ["releases in the 24 h before the onset"])
    lo = focus - timedelta(hours=24)
    checked = f"none: no release of {comp} between {lo:%Y-%m-%d %H:%M}Z and the onset {focus:%Y-%m-%d %H:%M}Z"
    return comp_sec, Section("suspected_release", checked, ["releases query (empty)"])


def _base_name(service: str) -> str:
    """``refund-worker-2`` and ``refund-worker`` are one component; ``payouts`` and ``payout`` too."""
    return re.sub(r"(?:-\d+|s)$", "", re.sub(r"-\d+$", "", service.lower()))


def _customer(inp: EscalationInput) -> Section:
    ctx: dict[str, str] = {}
    sources: list[str] = []
    for t in inp.tickets:
        for key, val in (
            ("organization", t.organization),
            ("requester", t.requester_id),
            ("merchant_id", t.custom_fields.get("merchant_id")),
            ("merchant_tier", t.custom_fields.get("merchant_tier") or t.custom_fields.get("tier")),
        ):
            if val and key not in ctx:
                ctx[key] = str(val)
                sources.append(f"ticket {t.external_id}")
        if t.requester_email and "requester" not in ctx:
            ctx["requester"] = "@" + t.requester_email.rsplit("@", 1)[-1]  # the domain only
            sources.append(f"ticket {t.external_id}")
    if "vip" in {tag for t in inp.tickets for tag in t.tags}:
        ctx["flags"] = "vip"
    missing = [k for k in ("merchant_tier", "requester") if k not in ctx]
    return Section("customer_context", ctx, sorted(set(sources)), missing)


def _ruled_out(inp: EscalationInput, decision: Decision) -> Section:
    items: list[str] = []
    sources: list[str] = []
    inv = inp.investigation
    if inv is not None:
        for h in inv.hypotheses[1:6]:
            items.append(f"ranked lower: {h.title} ({h.confidence:.0%})")
        codes = {(t.response_code, t.decline_reason) for t in inv.correlation.transactions if t.response_code}
        for code, why in sorted(codes, key=lambda c: str(c[0])):
            items.append(f"response code {code} checked" + (f": {why}" if why else ""))
        if inv.hypotheses or codes:
            sources.append("investigation hypotheses and codes")
        if not inv.hypotheses:
            n = len(inv.correlation.transactions) + len(inv.correlation.related)
            items.append(
                f"no spike, anomaly or individual cause found over {n} transactions "
                f"and {len(inv.correlation.logs)} log lines"
            )
            sources.append("investigation detectors (no finding)")
    for verdict, why in decision.ruled_out.items():
        items.append(f"not {verdict.replace('_', ' ')}: {why}")
    for t in inp.tickets:
        if t.tier1_notes:
            items.append(f"Tier 1 ({t.external_id}): {_safe(t.tier1_notes)[:200]}")
            sources.append("Tier 1 notes")
    return Section("ruled_out", items, sorted(set(sources)))


def _summary(inp: EscalationInput, decision: Decision, impact: Section) -> Section:
    inv = inp.investigation
    top = inv.top if inv else None
    first = min((t.created_at for t in inp.tickets), default=inp.subject.created_at)
    imp = impact.value or {}
    parts = [
        f"{imp.get('tickets', len(inp.tickets))} ticket(s) since {first:%Y-%m-%d %H:%M}Z"
        + (f" ({inp.subject.category})" if inp.subject.category else "")
        + "."
    ]
    if top is not None:
        parts.append(f"Most likely cause: {top.title} ({top.confidence:.0%}): {_safe(top.summary)}")
    if imp.get("transactions"):
        parts.append(
            f"{imp['transactions']} transaction(s), {imp.get('merchants', 0)} merchant(s), "
            f"{imp.get('customers', 0)} customer(s), {imp.get('money_at_stake') or 'no amount'} at stake."
        )
    parts.append(
        f"Decision: {decision.verdict.value} → {decision.owner.value} ({'; '.join(decision.reasons)})."
    )
    sources = ["investigation"] if top is not None else (["tickets"] if inp.tickets else [])
    return Section("summary", " ".join(parts), sources)


def _title(inp: EscalationInput, decision: Decision) -> Section:
    inv = inp.investigation
    top = inv.top if inv else None
    base = top.title if top is not None else inp.subject.title
    src = f"hypothesis '{top.title}'" if top is not None else f"{inp.subject.kind} title"
    return Section("title", f"[{decision.verdict.value}] {_safe(base)}"[:250], [src])


def build_package(inp: EscalationInput) -> EscalationPackage:
    """Assemble every section from the evidence at hand and score completeness."""
    hyps: list[Hypothesis] = inp.investigation.hypotheses if inp.investigation else []
    decision = decide(hyps, triage=inp.triage)
    queries: list[str] = []
    impact = _impact(inp, queries)
    if inp.investigation is not None:
        c = inp.investigation.correlation
        queries.append(
            f"transactions and logs for ids {', '.join(c.clues.ids[:5]) or '-'}, merchants "
            f"{', '.join(c.merchant_ids[:5]) or '-'}, customers {', '.join(c.clues.customer_ids[:5]) or '-'} "
            f"between {c.window[0]:%Y-%m-%d %H:%M}Z and {c.window[1]:%Y-%m-%d %H:%M}Z"
        )
    component, release = _component(inp)
    sections = {
        s.name: s
        for s in (
            _title(inp, decision),
            _summary(inp, decision, impact),
            impact,
            _severity(inp, decision),
            _environment(inp),
            _reproduction(inp),
            _logs(inp),
            _timeline(inp),
            _related(inp),
            component,
            release,
            _customer(inp),
            _ruled_out(inp, decision),
        )
    }
    prio = inp.subject.priority or (inp.triage or {}).get("priority")
    return EscalationPackage(
        id=f"{inp.subject.kind}-{inp.subject.id}",
        title=str(sections["title"].value),
        priority=str(prio) if prio else None,
        sections=sections,
        decision=decision,
        completeness=assess(sections),
        queries=queries,
    )
