"""The Triager facade: ticket in, :class:`TriageResult` out, in well under a millisecond per ticket.

Pipeline per ticket: clean text → redact → entities → signals → category (batched) → knowledge
match (batched) → routing rules → needs-info questions → priority → duplicates. Everything heavy
(model fitting, regex compilation, YAML parsing) happens once in :meth:`Triager.from_config`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from paytriage.domain.taxonomy import Route, Taxonomy
from paytriage.domain.ticket import Ticket
from paytriage.engines.redaction import RULESET_VERSION, redact
from paytriage.engines.triage.classifier import Classifier, Prediction, ZeroConfigClassifier
from paytriage.engines.triage.config import DEFAULT_CONFIG_DIR, load_taxonomy, load_yaml
from paytriage.engines.triage.duplicates import find_duplicate
from paytriage.engines.triage.entities import Entity, EntityExtractor, EntityKind
from paytriage.engines.triage.knowledge import KbMatch, KnowledgeMatcher, is_how_to_question, load_kb_entries
from paytriage.engines.triage.priority import PriorityInputs, PriorityScorer
from paytriage.engines.triage.result import TriageContext, TriageResult
from paytriage.engines.triage.routing import Router, RoutingInputs
from paytriage.engines.triage.signals import Signals, read_signals
from paytriage.engines.triage.text import clean_text
from paytriage.engines.triage.workers import CHUNK, TriagePool

__all__ = ["Triager"]

MAX_ENTITY_CHARS = 20_000
_OUTAGE = re.compile(
    r"\b(?:all|every|none of)\s+(?:of\s+)?(?:our|the|my)?\s*(?:payments|transactions|customers|"
    r"cards|checkouts?|orders|webhooks)\b|\b(?:is|are|went|been) down\b|\boutage\b",
    re.IGNORECASE,
)
# Every match of _OUTAGE contains one of these (their letters have no special case folding), so
# texts without any skip the scan: same answer, a fraction of the time.
_OUTAGE_WORDS = ("all", "every", "none", "down", "outage")


def _mentions_outage(text: str) -> bool:
    head = text[:5000]
    low = head.lower()
    return any(w in low for w in _OUTAGE_WORDS) and _OUTAGE.search(head) is not None


@dataclass(slots=True)
class _Prepared:
    id: str
    ticket: Ticket | None
    redacted: str
    counts: dict[str, int]
    entities: list[Entity]
    signals: Signals
    question: bool


class Triager:
    """Holds the loaded configuration and models; :meth:`triage` and :meth:`triage_many` are pure."""

    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        classifier: Classifier,
        extractor: EntityExtractor,
        router: Router,
        scorer: PriorityScorer,
        knowledge: KnowledgeMatcher,
        model_version: str,
    ) -> None:
        self.taxonomy = taxonomy
        self.classifier = classifier
        self.extractor = extractor
        self.router = router
        self.scorer = scorer
        self.knowledge = knowledge
        self.model_version = model_version
        self.ruleset_version = (
            f"redaction={RULESET_VERSION};taxonomy={taxonomy.version};"
            f"routing={router.version};priority={scorer.version}"
        )

    @classmethod
    def from_config(
        cls,
        config_dir: Path | str | None = None,
        *,
        classifier: Classifier | None = None,
        model_version: str | None = None,
    ) -> Triager:
        """Load ``taxonomy.yaml``, ``routing.yaml``, ``priority.yaml`` and ``knowledge/`` from ``config_dir``.

        Without ``classifier`` the zero-config model is fitted on the taxonomy (about a second).
        A trained model (anything with ``classes_`` and ``predict_proba``) replaces it.
        """
        base = Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR
        taxonomy = load_taxonomy(base / "taxonomy.yaml")
        routing = load_yaml(base / "routing.yaml")
        if classifier is None:
            classifier = ZeroConfigClassifier().fit(taxonomy)
            digest = hashlib.sha256((base / "taxonomy.yaml").read_bytes()).hexdigest()[:10]
            model_version = model_version or f"zero-config/{taxonomy.version}/{digest}"
        extra = routing.get("id_patterns") or {}
        return cls(
            taxonomy=taxonomy,
            classifier=classifier,
            extractor=EntityExtractor(extra_id_patterns=extra),
            router=Router(routing),
            scorer=PriorityScorer(load_yaml(base / "priority.yaml")),
            knowledge=KnowledgeMatcher(load_kb_entries(base / "knowledge")),
            model_version=model_version or str(getattr(classifier, "version", type(classifier).__name__)),
        )

    # -- public API -----------------------------------------------------------------------------
    def triage(self, ticket: Ticket | str, context: TriageContext | None = None) -> TriageResult:
        """Triage one ticket (or bare text)."""
        return self.triage_many([ticket], [context] if context else None)[0]

    def triage_many(
        self,
        tickets: Sequence[Ticket | str],
        contexts: Sequence[TriageContext | None] | None = None,
        *,
        workers: int = 1,
    ) -> list[TriageResult]:
        """Triage a batch; classification and knowledge matching run vectorised over the batch.

        ``workers > 1`` spreads batches of at least ``2 * CHUNK`` tickets over that many worker
        processes (spawned once and kept; the fitted triager is sent to each once). Results are
        the same as with one process; :meth:`close` stops the workers.
        """
        if contexts is not None and len(contexts) != len(tickets):
            raise ValueError("contexts must be as long as tickets")
        if workers > 1 and len(tickets) >= 2 * CHUNK:
            return self._pool(workers).triage_many(tickets, contexts)
        prepared = [self._prepare(t, i) for i, t in enumerate(tickets)]
        predictions = self._classify([p.redacted for p in prepared])
        # A knowledge match only matters for how-to questions, or where the route may end up tier1.
        every = self._tier1_possible
        wanted = [i for i, p in enumerate(prepared) if every or p.question]
        found = self.knowledge.match(
            [prepared[i].redacted for i in wanted], [predictions[i].category for i in wanted]
        )
        kb: list[KbMatch | None] = [None] * len(prepared)
        for i, k in zip(wanted, found, strict=True):
            kb[i] = k
        return [
            self._decide(p, pr, k, (contexts[i] if contexts else None) or TriageContext())
            for i, (p, pr, k) in enumerate(zip(prepared, predictions, kb, strict=True))
        ]

    def triage_stream(
        self,
        tickets: Iterable[Any],
        *,
        workers: int = 1,
        render: Callable[[TriageResult], Any] | None = None,
        convert: Callable[[Any], Ticket | str] | None = None,
    ) -> Iterator[Any]:
        """Triage a stream (e.g. a file being read) in batches, yielding results in input order.

        ``render`` turns each result into what the caller wants (a JSON line, a row); with
        ``workers > 1`` it runs in the worker processes, so it must be picklable (a module-level
        function or a ``functools.partial`` of one). Bare strings are numbered from 1 in the stream.
        ``convert`` turns each item into a ticket first (in the workers, so parsing runs on every core).
        """
        if workers > 1:
            yield from self._pool(workers).imap(tickets, render, convert)
            return
        it = iter(tickets) if convert is None else map(convert, tickets)
        offset = 0
        while batch := list(islice(it, 2 * CHUNK)):
            results = self.triage_many(batch)
            for i, r in enumerate(results):
                if not isinstance(batch[i], Ticket):
                    r.id = str(offset + i + 1)
            offset += len(batch)
            yield from (results if render is None else map(render, results))

    def _pool(self, workers: int) -> TriagePool:
        pool = self.__dict__.get("_workers")
        if pool is None or pool.workers != workers:
            if pool is not None:
                pool.close()
            pool = self.__dict__["_workers"] = TriagePool(self, workers)
        return pool

    def close(self) -> None:
        """Stop worker processes started by ``triage_many(..., workers=N)`` (they also stop at exit)."""
        pool = self.__dict__.pop("_workers", None)
        if pool is not None:
            pool.close()

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_workers"}

    @property
    def _tier1_possible(self) -> bool:
        """Whether a rule or a category default can route to tier1 (then every ticket needs its KB match)."""
        return any(r.route is Route.TIER1 for r in self.router.rules) or any(
            c.default_route is Route.TIER1 for c in self.taxonomy.categories
        )

    # -- steps ----------------------------------------------------------------------------------
    def _prepare(self, ticket: Ticket | str, index: int) -> _Prepared:
        if isinstance(ticket, Ticket):
            raw, tid, tk = ticket.text, ticket.external_id, ticket
        else:
            raw, tid, tk = str(ticket), str(index + 1), None
        result = redact(clean_text(raw))
        text = result.text
        entities = self.extractor.extract(text[:MAX_ENTITY_CHARS])
        return _Prepared(tid, tk, text, result.counts, entities, read_signals(text), is_how_to_question(text))

    def _classify(self, texts: list[str]) -> list[Prediction]:
        if isinstance(self.classifier, ZeroConfigClassifier):
            return self.classifier.explain(texts)
        proba = np.asarray(self.classifier.predict_proba(texts), dtype=float)
        classes = [str(c) for c in self.classifier.classes_]
        out = []
        for row in proba:
            order = np.argsort(-row)
            second = int(order[1]) if len(order) > 1 else None
            out.append(
                Prediction(
                    classes[int(order[0])],
                    float(row[order[0]]),
                    classes[second] if second is not None else None,
                    float(row[second]) if second is not None else 0.0,
                    (f"trained model {self.model_version}",),
                )
            )
        return out

    def _decide(self, p: _Prepared, pred: Prediction, kb: KbMatch | None, ctx: TriageContext) -> TriageResult:
        category = pred.category if pred.category in self.taxonomy else "other"
        reasons = [
            f"category {category} ({pred.confidence:.0%})"
            + (f": {', '.join(pred.reasons)}" if pred.reasons else "")
        ]
        empty = not p.redacted.strip()
        if empty:
            category, reasons = "other", ["empty ticket text"]
        customers = max(ctx.customers_affected, 0)
        decision = self.router.route(
            RoutingInputs(category, pred.confidence, p.entities, p.signals, p.redacted, customers)
        )
        question = p.question
        feedback = None
        if decision is not None:
            route = decision.route
            reasons.append(f"route {route.value}: {decision.reason}")
        elif kb is not None and question:
            route, feedback = Route.TIER1, kb.feedback
            reasons.append(f"route tier1: knowledge article '{kb.slug}' answers this how-to question")
        else:
            route = self.taxonomy.get(category).default_route if category in self.taxonomy else Route.TIER2
            reasons.append(f"route {route.value}: default for {category}")
        missing = (
            []
            if (route is Route.TIER1 or question or empty)
            else self.router.missing_facts(category, p.entities)
        )
        if missing:
            reasons.append("missing " + ", ".join(f for f, _ in missing))
        amounts = [e.value for e in p.entities if e.kind is EntityKind.AMOUNT]
        merchant_tier = ctx.merchant_tier or (
            str(p.ticket.custom_fields.get("merchant_tier"))
            if p.ticket and p.ticket.custom_fields.get("merchant_tier")
            else None
        )
        priority, factors = self.scorer.score(
            PriorityInputs(
                category=category,
                amounts=amounts,
                customers_affected=customers,
                transactions_affected=ctx.transactions_affected,
                related_tickets=ctx.related_tickets,
                similar_last_24h=ctx.similar_last_24h,
                merchant_tier=merchant_tier,
                sla_remaining_hours=ctx.sla_remaining_hours,
                funds_at_risk=p.signals.funds_at_risk,
                outage=_mentions_outage(p.redacted) or customers >= 10,
                question=question and not p.signals.funds_at_risk,
                regulator_threat=p.signals.regulator_threat,
                legal_threat=p.signals.legal_threat,
                chargeback_threat=p.signals.chargeback_threat,
                anger=p.signals.anger,
            )
        )
        reasons.append(
            f"priority {priority.value}: "
            + ("; ".join(f"{f.reason} ({f.points:+d})" for f in factors) or "no aggravating factor")
        )
        duplicate = None
        if p.ticket is not None and ctx.duplicate_candidates:
            match = find_duplicate(
                text=p.redacted,
                created_at=p.ticket.created_at,
                requester_id=p.ticket.requester_id,
                requester_email=p.ticket.requester_email,
                transaction_ids=[str(e.value) for e in p.entities if e.kind is EntityKind.TRANSACTION_ID],
                candidates=ctx.duplicate_candidates,
            )
            if match is not None:
                duplicate = match.case_id
                reasons.append(f"duplicate of case {match.case_id}: {match.reason}")
        return TriageResult(
            id=p.id,
            category=category,
            category_confidence=0.0 if empty else pred.confidence,
            route=route,
            priority=priority,
            needs_info=bool(missing),
            questions=[q for _, q in missing],
            entities=p.entities,
            redacted_text=p.redacted,
            reasons=reasons,
            signals=p.signals,
            duplicate_of=duplicate,
            ruleset_version=self.ruleset_version,
            model_version=self.model_version,
            runner_up=pred.runner_up,
            priority_factors=factors,
            kb_article=kb.slug if route is Route.TIER1 and kb else None,
            tier1_feedback=feedback,
            redaction_counts=p.counts,
        )
