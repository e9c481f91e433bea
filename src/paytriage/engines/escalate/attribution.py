"""Which component and release a problem points at, in order of the strength of the evidence.

1. the strongest representative hypothesis that names a component (an error template, a webhook
   integration, an amount anomaly in one service) and, when it cites one, its release;
2. a partner segment when the finding is concentrated at one issuer, bank or ACS (no code of ours);
3. a release after which its component's error log rate rose significantly (release impact), when
   that component's log lines also show up around the problem's cases;
4. the services of the representative cases' error lines (what the case packages found).

Log services are often loggers (``c.p.kyc.UploadController``); :func:`canonical` maps them to the
deployable component the releases table knows (``kyc-service``) and keeps the logger as detail.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from paytriage.engines.escalate.completeness import Section
from paytriage.engines.investigate.hypotheses import EvidenceKind, Hypothesis

__all__ = ["ReleaseSuspect", "attribute", "canonical"]

#: Name parts that say nothing about which component it is.
_GENERIC = frozenset({"c", "p", "com", "org", "io", "service", "server", "svc", "worker", "api", "app"})


@dataclass(frozen=True, slots=True)
class ReleaseSuspect:
    """A release whose component's error rate rose significantly after it, before the problem began."""

    component: str
    version: str
    released_at: datetime
    signal: str
    before: int
    after: int
    rate_ratio: float
    p_value: float

    def describe(self) -> str:
        return (
            f"{self.component} {self.version} at {self.released_at:%Y-%m-%d %H:%M}Z: {self.signal} "
            f"{self.before} → {self.after} in the day before/after "
            f"(×{self.rate_ratio:.1f}, p={self.p_value:.1g})"
        )


def _tokens(name: str) -> set[str]:
    parts = re.split(r"[.\-_/@ ]+", name.lower())
    return {p.removesuffix("s") for p in parts if p and p not in _GENERIC}


def canonical(name: str, known: Sequence[str]) -> str:
    """``c.p.kyc.UploadController`` → ``kyc-service (c.p.kyc.UploadController)`` when ``kyc-service``
    is a known component; the name itself when it is known or nothing matches."""
    if name in known:
        return name
    have = _tokens(name)
    for comp in sorted(known, key=len, reverse=True):
        want = _tokens(comp)
        if want and want <= have:
            return f"{comp} ({name})"
    return name


def _base(component: str) -> str:
    return component.split(" (")[0]


def _partner(h: Hypothesis) -> str | None:
    if not h.segment:
        return None
    seg = ", ".join(f"{k}={v}" for k, v in sorted(h.segment.items()))
    return f"partner {h.party or 'side'}: {seg}"


def attribute(
    tops: Sequence[tuple[int, Hypothesis]],
    *,
    releases: Sequence[ReleaseSuspect] = (),
    known: Sequence[str] = (),
    fallback_components: Sequence[Section] = (),
    fallback_releases: Sequence[Section] = (),
    releases_checked: str | None = None,
    seen: Collection[str] = (),
) -> tuple[Section, Section]:
    """``tops`` = (case id, top hypothesis) of the representatives, strongest first; see the module doc.

    ``seen`` = components whose log lines the representative investigations correlated with the cases:
    a release rise is only blamed without a hypothesis when its component shows up there.
    """
    for cid, h in tops:
        if not h.component:
            continue
        name = canonical(h.component, known)
        src = [f"hypothesis '{h.title}' (case {cid})"]
        cited = [e for e in h.evidence if e.kind == EvidenceKind.RELEASE]
        if cited:
            rel = Section("suspected_release", cited[0].ref or cited[0].text, src)
        else:
            rel = _release_of(_base(name), releases, releases_checked)
        return Section("suspected_component", name, src), rel
    for cid, h in tops:
        if h.systemic and (partner := _partner(h)):
            src = [f"hypothesis '{h.title}' (case {cid})"]
            why = "not our release: the finding is concentrated at a partner"
            return Section("suspected_component", partner, src), Section("suspected_release", why, src)
    near = [r for r in releases if r.component in seen]
    if near:
        r = min(near, key=lambda r: r.p_value)
        src = [f"release impact: {r.signal} rose after {r.version}"]
        return (
            Section("suspected_component", r.component, src),
            Section("suspected_release", r.describe(), ["release impact (Poisson rate test)"]),
        )
    comps = [c for c in fallback_components if c.filled]
    if not comps:
        return Section("suspected_component", None), _release_of(None, releases, releases_checked)
    comp = Section("suspected_component", canonical(str(comps[0].value), known), comps[0].sources)
    rels = [r for r in fallback_releases if r.filled]
    return comp, rels[0] if rels else _release_of(_base(str(comp.value)), releases, releases_checked)


def _release_of(component: str | None, releases: Sequence[ReleaseSuspect], checked: str | None) -> Section:
    mine = [r for r in releases if component is not None and r.component == component]
    if mine:
        r = min(mine, key=lambda r: r.p_value)
        return Section("suspected_release", r.describe(), ["release impact (Poisson rate test)"])
    if checked:
        return Section("suspected_release", checked, ["release impact (no significant rise)"])
    return Section("suspected_release", None)
