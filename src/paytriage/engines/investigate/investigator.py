"""The investigation facade: correlate a case, run the detectors, rank hypotheses, build the timeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from paytriage.domain import Ticket
from paytriage.engines.investigate.anomalies import amount_anomaly, duplicates
from paytriage.engines.investigate.codes import CodeBook
from paytriage.engines.investigate.correlation import (
    Clues,
    Correlation,
    Correlator,
    clues_from_tickets,
    status_as_of,
)
from paytriage.engines.investigate.detectors import DetectorConfig, DetectorContext, individual
from paytriage.engines.investigate.evidence import EvidenceSource
from paytriage.engines.investigate.hypotheses import RULES_VERSION, Hypothesis, rank
from paytriage.engines.investigate.replay import (
    ExpectedResponse,
    ReplayRequest,
    ReplayResult,
    find_expected,
    find_request,
    request_from_log,
)
from paytriage.engines.investigate.spikes import could_spike, segment_spike, template_spike
from paytriage.engines.investigate.timeline import TimelineEntry, build_timeline, release_window
from paytriage.engines.logmining import TemplateMiner
from paytriage.engines.redaction import redact
from paytriage.engines.triage.entities import EntityExtractor

__all__ = ["DETECTORS", "Investigation", "Investigator"]

#: Every detector, in the order they run (ranking does not depend on it).
DETECTORS: tuple[Callable[[DetectorContext], list[Hypothesis]], ...] = (
    segment_spike,
    template_spike,
    amount_anomaly,
    duplicates,
    individual,
)


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


@dataclass(slots=True)
class Investigation:
    """What an analyst sees: the evidence found, ranked hypotheses, a timeline, and the versions."""

    correlation: Correlation
    hypotheses: list[Hypothesis]
    timeline: list[TimelineEntry]
    rules_version: str
    codes_version: str
    elapsed_ms: float
    case_id: int | None = None
    notes: list[str] = field(default_factory=list)
    request: ReplayRequest | None = None
    expected: ExpectedResponse | None = None
    replay: ReplayResult | None = None

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None

    @property
    def systemic_cause(self) -> Hypothesis | None:
        """The top hypothesis when it is systemic; None means the case stands alone."""
        top = self.top
        return top if top is not None and top.systemic else None

    def to_dict(self) -> dict[str, Any]:
        c = self.correlation
        as_of = c.clues.as_of
        return {
            "case_id": self.case_id,
            "focus": c.focus.isoformat(),
            "window": [c.window[0].isoformat(), c.window[1].isoformat()],
            "as_of": as_of.isoformat(),
            "systemic_cause": self.systemic_cause.title if self.systemic_cause else None,
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "transactions": [
                {
                    "id": t.external_id,
                    "kind": t.kind.value,
                    "amount_minor": t.amount.minor_units,
                    "currency": t.amount.currency,
                    "amount": str(t.amount),
                    "status": t.status.value,
                    "status_as_of": status_as_of(t, as_of).value,
                    "created_at": t.created_at.isoformat(),
                    "merchant_id": t.merchant_id,
                    "customer_id": t.customer_id,
                    "response_code": t.response_code,
                    "decline_reason": t.decline_reason,
                    "matched_by": c.matched_by.get(t.external_id, "related"),
                }
                for t in c.transactions + c.related
            ],
            "templates": [
                {
                    "template_id": r.template_id,
                    "template": r.template,
                    "service": r.service,
                    "level": r.level,
                    "current": r.current,
                    "baseline": round(r.baseline, 2),
                    "baseline_days": r.baseline_days,
                    "ratio": round(r.ratio, 2),
                    "first_seen": r.first_seen.isoformat() if r.first_seen else None,
                }
                for r in c.templates
            ],
            "log_events": len(c.logs),
            "timeline": [e.to_dict() for e in self.timeline],
            "notes": self.notes,
            "request": self.request.redacted() if self.request else None,
            "expected_response": None
            if self.expected is None
            else {"status": self.expected.status, "body": _safe(self.expected.body)},
            "replay": self.replay.to_dict() if self.replay else None,
            "rules_version": self.rules_version,
            "codes_version": self.codes_version,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


class Investigator:
    """Built once, reused for every case (the code book and entity patterns compile once)."""

    def __init__(
        self,
        *,
        codes: CodeBook | None = None,
        correlator: Correlator | None = None,
        config: DetectorConfig | None = None,
        miner: TemplateMiner | None = None,
    ) -> None:
        self.codes = codes or CodeBook.load()
        self.correlator = correlator or Correlator()
        self.config = config or DetectorConfig()
        self.miner = miner
        self.extractor = EntityExtractor()

    def investigate(
        self,
        tickets: Sequence[Ticket],
        source: EvidenceSource,
        *,
        as_of: datetime | None = None,
        case_id: int | None = None,
    ) -> Investigation:
        t0 = time.perf_counter()
        clues = clues_from_tickets(tickets, extractor=self.extractor, as_of=as_of)
        return self.investigate_clues(clues, source, tickets=tickets, case_id=case_id, started=t0)

    def investigate_clues(
        self,
        clues: Clues,
        source: EvidenceSource,
        *,
        tickets: Sequence[Ticket] = (),
        case_id: int | None = None,
        started: float | None = None,
    ) -> Investigation:
        t0 = started if started is not None else time.perf_counter()
        miner = self.miner if self.miner is not None else TemplateMiner()
        corr = self.correlator.correlate(
            clues, source, miner, sample_when=partial(could_spike, cfg=self.config)
        )
        ctx = DetectorContext(corr=corr, source=source, codes=self.codes, config=self.config)
        found: list[Hypothesis] = []
        for detector in DETECTORS:
            found += detector(ctx)
        lo, hi = release_window(corr.focus)
        timeline = build_timeline(
            tickets=tickets,
            transactions=corr.transactions + corr.related,
            logs=corr.logs,
            releases=source.releases(lo, hi),
        )
        request = next((r for r in map(find_request, clues.texts) if r is not None), None)
        if request is None:  # the case's own API call, as the gateway logged it
            request = next((r for r in map(request_from_log, reversed(corr.logs)) if r is not None), None)
        expected = next((x for x in map(find_expected, clues.texts) if x is not None), None)
        return Investigation(
            request=request,
            expected=expected,
            correlation=corr,
            hypotheses=rank(found),
            timeline=timeline,
            rules_version=RULES_VERSION,
            codes_version=self.codes.version,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            case_id=case_id,
        )
