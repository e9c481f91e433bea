"""The escalation package of a *problem*: many cases, one cause, one package for Engineering.

Pure. The service hands over every ticket of the problem, the figures it counted over them (with the
queries that produced them), a few investigated representative cases, and the release-impact
finding; :func:`build_problem_package` starts from the case package of the strongest representative
and replaces each section that a problem knows better: impact summed over all its cases, the mix of
environments (plugin/SDK and API versions, regions), repro steps and log lines from every
representative whose finding agrees with the strongest one, all its tickets, the component and release
(:mod:`~paytriage.engines.escalate.attribution`), customer mix, and what the investigations ruled out.
A section without evidence stays empty and is listed as missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from paytriage.domain import Ticket
from paytriage.domain.money import Money
from paytriage.engines.escalate.attribution import ReleaseSuspect, attribute, canonical
from paytriage.engines.escalate.completeness import Section, assess
from paytriage.engines.escalate.package import (
    _API_VERSION,
    _BROWSER,
    EscalationInput,
    EscalationPackage,
    Subject,
    _safe,
    build_package,
)
from paytriage.engines.escalate.package import _reproduction as _case_reproduction
from paytriage.engines.investigate.hypotheses import HypothesisKind
from paytriage.engines.investigate.investigator import Investigation

__all__ = [
    "CaseEvidence",
    "ProblemFacts",
    "ProblemInput",
    "ReleaseSuspect",
    "agreeing",
    "build_problem_package",
    "strongest",
]

MAX_STEPS = 10
MAX_LOG_LINES = 15
MAX_RELATED = 200
_PRIORITY_ORDER = ("P1", "P2", "P3", "P4")
#: Categories whose tickets are about access or identity, not a money movement: when every case is one
#: of them and no ticket or finding names a transaction, "how much money?" is not a question to ask.
NO_MONEY_FLOW = frozenset({"login_and_access", "account_verification_restriction", "account_and_profile"})


@dataclass(slots=True)
class CaseEvidence:
    """One investigated representative case of the problem."""

    case_id: int
    tickets: Sequence[Ticket]
    investigation: Investigation
    triage: Mapping[str, Any] | None = None


@dataclass(slots=True)
class ProblemFacts:
    """Counted by the service over all the problem's cases; ``queries`` say how."""

    cases: int = 0
    open_cases: int = 0
    sla_breached: int = 0
    sla_due_24h: int = 0
    transactions: int = 0
    customers: int = 0
    merchants: int = 0
    money_minor_by_currency: dict[str, int] = field(default_factory=dict)
    transaction_countries: Counter[str] = field(default_factory=Counter)
    priorities: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    case_of_ticket: dict[str, int] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ProblemInput:
    subject: Subject
    tickets: Sequence[Ticket]
    facts: ProblemFacts
    now: datetime
    representatives: Sequence[CaseEvidence] = ()
    daily_counts: Sequence[tuple[str, int]] = ()
    #: Releases after which their component's error rate rose significantly (release impact).
    releases: Sequence[ReleaseSuspect] = ()
    #: What the release-impact check looked at, said when it found nothing for the component.
    releases_checked: str | None = None
    #: Deployable components (the releases table), to name loggers by their component.
    known_components: Sequence[str] = ()


def _strength(r: CaseEvidence) -> tuple[bool, float, int]:
    top = r.investigation.top
    return (top is not None and top.systemic, top.confidence if top else 0.0, -r.case_id)


_K = HypothesisKind
#: Which ticket categories a systemic finding can explain. A finding of another kind, seen from a case
#: of the problem, is a concurrent incident nearby in time, not the problem's cause. Kinds not listed
#: (an error spike of any template) may explain any category.
KIND_CATEGORIES: dict[HypothesisKind, frozenset[str]] = {
    _K.DECLINE_SPIKE: frozenset({"card_payment_declined", "payment_method_binding"}),
    _K.AUTHENTICATION_SPIKE: frozenset(
        {"card_payment_declined", "payment_method_binding", "payment_pending"}
    ),
    _K.PENDING_SPIKE: frozenset({"payment_pending", "payout_withdrawal", "transfer", "refund"}),
    _K.PAYOUT_DELAY: frozenset({"payout_withdrawal", "transfer", "reconciliation_reporting"}),
    _K.WEBHOOK_FAILURES: frozenset({"api_integration", "payment_pending", "reconciliation_reporting"}),
    _K.AMOUNT_ANOMALY: frozenset(
        {"refund", "incorrect_or_duplicate_charge", "fees_and_exchange_rates", "reconciliation_reporting"}
    ),
    _K.AUTH_ERRORS: frozenset({"login_and_access", "api_integration"}),
    _K.RATE_LIMITING: frozenset({"api_integration", "card_payment_declined"}),
    _K.DUPLICATE_SUBMISSION: frozenset({"incorrect_or_duplicate_charge", "chargeback_dispute"}),
    _K.UPLOAD_FAILURES: frozenset({"account_verification_restriction", "chargeback_dispute"}),
}


def _finding(r: CaseEvidence, category: str | None = None) -> tuple[str, str] | None:
    top = r.investigation.top
    if top is None or not top.systemic:
        return None
    fits = KIND_CATEGORIES.get(top.kind)
    if category is not None and fits is not None and category not in fits:
        return None
    return top.kind.value, top.component or ""


def strongest(reps: Sequence[CaseEvidence], category: str | None = None) -> CaseEvidence | None:
    """The representative of the finding most representatives share among those that can explain the
    problem's ``category`` (a loud concurrent incident seen from one case does not outvote the
    problem's own cause); ties go to confidence."""
    votes = Counter(f for r in reps if (f := _finding(r, category)) is not None)
    if not votes and category is not None:
        return strongest(reps)
    if not votes:
        return max(reps, key=_strength, default=None)
    best = max(
        votes,
        key=lambda f: (votes[f], max(_strength(r) for r in reps if _finding(r, category) == f)),
    )
    return max((r for r in reps if _finding(r, category) == best), key=_strength)


def _money(by_currency: Mapping[str, int]) -> str:
    return ", ".join(str(Money(v, c)) for c, v in sorted(by_currency.items()) if v)


def _mix(counts: Counter[str], limit: int = 6) -> str:
    top = counts.most_common(limit)
    rest = len(counts) - len(top)
    return ", ".join(f"{k} ×{n}" for k, n in top) + (f" (+{rest} more)" if rest > 0 else "")


def _money_free(categories: Counter[str]) -> list[str]:
    """The categories of a problem about access or identity, not money: all of its cases, or at least
    three in four of them (one misrouted case does not make a login problem a money problem)."""
    total = sum(categories.values())
    free = sum(n for c, n in categories.items() if c in NO_MONEY_FLOW)
    if not total or free * 4 < total * 3:
        return []
    return sorted(c for c in categories if c in NO_MONEY_FLOW)


def _impact(inp: ProblemInput, base: Section) -> Section:
    f = inp.facts
    value: dict[str, Any] = {"tickets": len(inp.tickets), "cases": f.cases}
    sources = ["problem cases and tickets"]
    primary = strongest(inp.representatives, inp.subject.category)
    top = primary.investigation.top if primary is not None else None
    scope = top.scope if top is not None and top.systemic else None  # the systemic cause's reach only
    for key in ("transactions", "customers", "merchants"):
        value[key] = max(getattr(f, key), getattr(scope, key) if scope else 0)
    money = dict(f.money_minor_by_currency)
    if scope is not None and sum(scope.money_minor_by_currency.values()) > sum(money.values()):
        money = dict(scope.money_minor_by_currency)
    value["money_at_stake"] = _money(money)
    if f.transactions:
        sources.append("transactions named in the problem's tickets")
    if scope is not None and scope.transactions > f.transactions:
        value["note"] = "the cause's scope reaches beyond the ticketed transactions (a lower bound)"
        sources.append("top hypothesis scope of the representative cases")
    if base.value and base.value.get("trend"):
        value["trend"] = base.value["trend"]
        sources.append("tickets per day")
    value["sla_exposure"] = (
        f"{f.open_cases} of {f.cases} cases open; {f.sla_breached} past the resolution target, "
        f"{f.sla_due_24h} due within 24 h"
    )
    missing = [k for k in ("transactions", "money_at_stake") if not value[k]]
    cats = _money_free(f.categories)
    if missing and cats and not value["transactions"]:
        value["money_at_stake"] = f"none: {', '.join(cats)} tickets move no money and name no transaction"
        sources.append("case categories (no money movement)")
        missing = []
    if "trend" not in value:
        missing.append("trend")
    return Section("impact", value, sources, missing)


def _severity(inp: ProblemInput, base: Section) -> Section:
    prios = inp.facts.priorities
    worst = next((p for p in _PRIORITY_ORDER if prios.get(p)), None)
    if worst is None:
        return base
    reasons = [f"worst case priority {worst} ({prios[worst]} of {sum(prios.values())} cases)"]
    if inp.facts.merchants > 1 or inp.facts.customers > 1:
        reasons.append(f"systemic: {inp.facts.merchants} merchants, {inp.facts.customers} customers affected")
    if base.value and base.value.get("reason"):
        reasons.append(str(base.value["reason"]))
    return Section(
        "severity", {"priority": worst, "reason": "; ".join(reasons)}, ["case priorities", *base.sources]
    )


def _api_or(kind: str, value: str) -> str:
    """A dated version (``direct-api 2025-04-30``) is an API version, whatever field it came in."""
    return "api_version" if kind == "plugin_sdk" and _API_VERSION.search(value) else kind


def _environment(inp: ProblemInput) -> Section:
    """The mix across every ticket (and the representatives' logs): versions and regions present."""
    mixes: dict[str, Counter[str]] = {
        k: Counter() for k in ("plugin_sdk", "app_version", "api_version", "browser", "region", "user_agent")
    }
    sources: set[str] = set()
    for t in inp.tickets:
        cf = t.custom_fields
        integ = str(cf.get("integration") or cf.get("plugin") or "").strip()
        if integ:
            (mixes["api_version"] if _API_VERSION.fullmatch(integ.split()[-1]) else mixes["plugin_sdk"])[
                integ
            ] += 1
            sources.add("ticket custom field integration")
        if cf.get("api_version"):
            mixes["api_version"][str(cf["api_version"])] += 1
            sources.add("ticket custom field api_version")
        if cf.get("app_version"):
            mixes["app_version"][str(cf["app_version"])] += 1
            sources.add("ticket custom field app_version")
        if cf.get("sdk_version"):
            mixes["plugin_sdk"][str(cf["sdk_version"])] += 1
            sources.add("ticket custom field sdk_version")
        region = cf.get("region") or cf.get("country")
        if region:
            mixes["region"][str(region)] += 1
            sources.add("ticket custom field country")
        if b := _BROWSER.search(f"{t.subject}\n{t.description}"):
            mixes["browser"][f"{b.group(1)} {b.group(2)}"] += 1
            sources.add("ticket text")
    if inp.facts.transaction_countries:
        mixes["region"].update(inp.facts.transaction_countries)
        sources.add("transaction country")
    for rep in inp.representatives:
        for ev in rep.investigation.correlation.logs:
            for key, into in (
                ("api_version", "api_version"),
                ("user_agent", "user_agent"),
                ("client", "plugin_sdk"),
            ):
                if val := ev.attributes.get(key):
                    mixes[_api_or(into, str(val))][str(val)] += 1
                    sources.add("log attributes of the representative cases")
        for sw in rep.investigation.correlation.clues.software:
            mixes[_api_or("plugin_sdk", sw)][sw] += 1
            sources.add("ticket entities")
    env = {k: _mix(v) for k, v in mixes.items() if v}
    missing = []
    if not ({"api_version", "plugin_sdk", "app_version"} & env.keys()):
        missing.append("api_version_or_sdk")
    if "region" not in env:
        missing.append("region")
    return Section("environment", env, sorted(sources), missing)


def _reproduction(inp: ProblemInput) -> Section:
    steps: list[str] = []
    seen: set[str] = set()
    sources: set[str] = set()
    missing: set[str] = set()
    for rep in inp.representatives:
        sec = _case_reproduction(
            EscalationInput(inp.subject, rep.tickets, inp.now, investigation=rep.investigation)
        )
        if sec.value:
            fresh = [s for s in sec.value if s not in seen]  # cases of one merchant share log lines
            seen.update(fresh)
            steps += [f"case {rep.case_id}: {s}" for s in fresh]
            sources.update(sec.sources)
        missing.update(sec.missing)
    if steps and "request_or_transaction" in missing:
        missing.discard("request_or_transaction")
    if any(r.investigation.request is not None for r in inp.representatives):
        missing.discard("api_request")
    return Section("reproduction_steps", steps[:MAX_STEPS], sorted(sources), sorted(missing) if steps else [])


def _logs(packages: Sequence[tuple[int, EscalationPackage]]) -> Section:
    seen: set[str] = set()
    lines: list[str] = []
    for _, pkg in packages:
        for line in str(pkg.sections["log_excerpts"].value or "").splitlines():
            body = line.split(" ", 1)[-1]
            if body not in seen:
                seen.add(body)
                lines.append(line)
    lines = sorted(lines)[-MAX_LOG_LINES:]
    return Section(
        "log_excerpts",
        "\n".join(lines),
        ["log events correlated with the representative cases"] if lines else [],
    )


def _timeline(packages: Sequence[tuple[int, EscalationPackage]]) -> Section:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    sources: set[str] = set()
    for _, pkg in packages:
        sec = pkg.sections["timeline"]
        sources.update(sec.sources)
        for r in sec.value or []:
            rows.setdefault((r["at"], r["event"]), r)
    ordered = [rows[k] for k in sorted(rows)][-40:]
    return Section("timeline", ordered, sorted(sources))


def _related(inp: ProblemInput) -> Section:
    rows = [
        {
            "ticket": t.external_id,
            "subject": _safe(t.subject or t.description)[:120],
            "created": f"{t.created_at:%Y-%m-%d %H:%M}Z",
            "why": f"problem {inp.subject.id}, case {inp.facts.case_of_ticket.get(t.external_id, '?')}",
        }
        for t in sorted(inp.tickets, key=lambda t: t.created_at)[:MAX_RELATED]
    ]
    return Section("related_tickets", rows, ["problem tickets"] if rows else [])


def _component(
    inp: ProblemInput, packages: Sequence[tuple[int, EscalationPackage]]
) -> tuple[Section, Section]:
    reps = sorted(
        (r for r in inp.representatives if r.investigation.top is not None),
        key=lambda r: _strength(r),
        reverse=True,
    )
    tops = [(r.case_id, r.investigation.top) for r in reps if r.investigation.top is not None]
    seen = {
        canonical(ev.service, inp.known_components).split(" (")[0]
        for r in inp.representatives
        for ev in r.investigation.correlation.logs
        if ev.service
    }
    return attribute(
        tops,
        seen=seen,
        releases=inp.releases,
        known=inp.known_components,
        fallback_components=[p.sections["suspected_component"] for _, p in packages],
        fallback_releases=[p.sections["suspected_release"] for _, p in packages],
        releases_checked=inp.releases_checked,
    )


def _customer(inp: ProblemInput) -> Section:
    tiers: Counter[str] = Counter()
    orgs: Counter[str] = Counter()
    merchants: set[str] = set()
    requesters: set[str] = set()
    vip = merchant_side = 0
    for t in inp.tickets:
        cf = t.custom_fields
        merchant_side += bool(t.organization or cf.get("merchant_tier") or cf.get("tier"))
        if tier := cf.get("merchant_tier") or cf.get("tier"):
            tiers[str(tier)] += 1
        if m := cf.get("merchant_id"):
            merchants.add(str(m))
        if t.organization:
            orgs[t.organization] += 1
        if r := t.requester_id or t.requester_email or t.organization:
            requesters.add(r)
        vip += "vip" in t.tags
    ctx: dict[str, str] = {}
    if merchants:
        ctx["merchants"] = str(len(merchants))
    if requesters:
        ctx["requesters"] = str(len(requesters))
    if tiers:
        ctx["merchant_tier"] = _mix(tiers)
    if orgs:
        ctx["organizations"] = _mix(orgs, 5)
    if vip:
        ctx["vip_tickets"] = str(vip)
    if inp.tickets:
        ctx["requester_type"] = (
            f"merchant staff ×{merchant_side}, consumers ×{len(inp.tickets) - merchant_side}"
        )
    # A merchant's tier is only asked for when merchants wrote in; consumers have none.
    missing = [
        k for k in ("merchant_tier", "requesters") if k not in ctx and (k != "merchant_tier" or merchant_side)
    ]
    return Section("customer_context", ctx, ["problem tickets"] if ctx else [], missing)


def _ruled_out(inp: ProblemInput, packages: Sequence[tuple[int, EscalationPackage]]) -> Section:
    items: list[str] = []
    sources: set[str] = set()
    for _, pkg in packages:
        sec = pkg.sections["ruled_out"]
        sources.update(sec.sources)
        for item in sec.value or []:
            if item not in items:
                items.append(item)
    return Section("ruled_out", items[:30], sorted(sources))


def agreeing(reps: Sequence[CaseEvidence], primary: CaseEvidence | None) -> list[CaseEvidence]:
    """The primary and the representatives whose top finding is of the same kind: evidence from a case
    whose own investigation points elsewhere (or nowhere) would contradict the package."""
    top = primary.investigation.top if primary is not None else None
    if primary is None or top is None:
        return list(reps)
    same = [
        r for r in reps if r is not primary and r.investigation.top and r.investigation.top.kind == top.kind
    ]
    return [primary, *same]


def build_problem_package(inp: ProblemInput) -> EscalationPackage:
    """The problem's package; see the module docstring for which evidence fills which section."""
    primary = strongest(inp.representatives, inp.subject.category)
    base_input = EscalationInput(
        subject=inp.subject,
        tickets=primary.tickets if primary else inp.tickets,
        now=inp.now,
        triage=primary.triage if primary else None,
        investigation=primary.investigation if primary else None,
        daily_counts=inp.daily_counts,
    )
    base = build_package(base_input)
    agree = replace(inp, representatives=agreeing(inp.representatives, primary))
    packages = [(primary.case_id, base)] if primary else []
    for rep in agree.representatives:
        if rep is not primary:
            pkg = build_package(
                EscalationInput(inp.subject, rep.tickets, inp.now, rep.triage, rep.investigation)
            )
            packages.append((rep.case_id, pkg))
    s = dict(base.sections)
    s["impact"] = _impact(inp, s["impact"])
    s["severity"] = _severity(inp, s["severity"])
    s["environment"] = _environment(agree)
    s["reproduction_steps"] = _reproduction(agree)
    s["log_excerpts"] = _logs(packages)
    s["timeline"] = _timeline(packages)
    s["related_tickets"] = _related(inp)
    s["suspected_component"], s["suspected_release"] = _component(agree, packages)
    s["customer_context"] = _customer(inp)
    s["ruled_out"] = _ruled_out(inp, packages)
    s["summary"] = _summary(inp, base, s)
    queries = list(inp.facts.queries) + [q for _, p in packages for q in p.queries]
    return EscalationPackage(
        id=f"problem-{inp.subject.id}",
        title=str(s["title"].value),
        priority=(s["severity"].value or {}).get("priority") if s["severity"].value else base.priority,
        sections=s,
        decision=base.decision,
        completeness=assess(s),
        queries=list(dict.fromkeys(queries)),
    )


def _summary(inp: ProblemInput, base: EscalationPackage, s: Mapping[str, Section]) -> Section:
    imp = s["impact"].value or {}
    first = min((t.created_at for t in inp.tickets), default=inp.subject.created_at)
    parts = [
        f"Problem {inp.subject.id}: {imp.get('tickets', 0)} ticket(s) in {imp.get('cases', 0)} case(s) since "
        f"{first:%Y-%m-%d %H:%M}Z" + (f", {imp['trend']}" if imp.get("trend") else "") + "."
    ]
    if imp.get("transactions"):
        parts.append(
            f"{imp['transactions']} transaction(s), {imp.get('merchants', 0)} merchant(s), "
            f"{imp.get('customers', 0)} customer(s), {imp.get('money_at_stake') or 'no amount'} at stake."
        )
    primary = strongest(inp.representatives, inp.subject.category)
    top = primary.investigation.top if primary else None
    if top is not None:
        parts.append(
            f"Most likely cause (case {primary.case_id if primary else '?'}): "
            f"{top.title} ({top.confidence:.0%})."
        )
    if s["suspected_component"].value:
        parts.append(f"Suspected component: {s['suspected_component'].value}.")
    d = base.decision
    parts.append(f"Decision: {d.verdict.value} → {d.owner.value} ({'; '.join(d.reasons)}).")
    sources = ["problem cases"] + (["investigation of representative cases"] if top is not None else [])
    return Section("summary", " ".join(parts), sources)
