"""Knowledge-article matching: does an existing article already answer this ticket?

Articles are Markdown with YAML front matter under ``config/knowledge``. Matching is TF-IDF cosine
over each article's title, example questions and body; only *how-to questions* (not incidents with
ids, amounts or errors) are sent back to Tier 1 with the article named in the feedback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from paytriage.domain.errors import ConfigurationError
from paytriage.domain.knowledge import KnowledgeArticle
from paytriage.engines.triage.vectorize import FastTfidf

__all__ = ["KbEntry", "KbMatch", "KnowledgeMatcher", "is_how_to_question", "load_kb_entries"]

_HOW_TO = re.compile(
    r"\b(?:how (?:do|can|to|long|much|many|does)|where (?:do|can|is)|can i|could i|is it possible|"
    r"what (?:is|are|do|documents|fees?)|which|when will|do you|is there|why do i need)\b",
    re.IGNORECASE,
)
_INCIDENT = re.compile(
    r"\b(?:not working|doesn't work|didn't|hasn't|never|still|failed|failing|declined|error|"
    r"missing|wrong|stolen|charged|unauthori[sz]ed|blocked|stuck|urgent)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class KbEntry:
    """An article plus the Tier-1 feedback sentence that goes with it."""

    article: KnowledgeArticle
    questions: tuple[str, ...]
    tier1_feedback: str


@dataclass(frozen=True, slots=True)
class KbMatch:
    slug: str
    title: str
    score: float
    feedback: str


def is_how_to_question(text: str) -> bool:
    """A question about how something works, with no sign that something went wrong."""
    head = text[:600]
    return bool(_HOW_TO.search(head)) and not _INCIDENT.search(head)


def load_kb_entries(directory: Path) -> list[KbEntry]:
    """Read ``*.md`` files with front matter (``title``, ``category``, ``questions``, ``tier1_feedback``)."""
    entries: list[KbEntry] = []
    if not directory.is_dir():
        return entries
    for path in sorted(directory.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        meta: dict[str, object] = {}
        body = text
        if text.startswith("---"):
            try:
                _, head, body = text.split("---", 2)
                loaded = yaml.safe_load(head) or {}
            except (ValueError, yaml.YAMLError) as exc:
                raise ConfigurationError(f"{path}: invalid front matter: {exc}") from None
            if not isinstance(loaded, dict):
                raise ConfigurationError(f"{path}: front matter must be a mapping")
            meta = loaded
        questions = tuple(str(q) for q in meta.get("questions", []) or [])  # type: ignore[attr-defined]
        tags = [str(t) for t in meta.get("tags", []) or []]  # type: ignore[attr-defined]
        article = KnowledgeArticle(
            slug=str(meta.get("slug", path.stem)),
            title=str(meta.get("title", path.stem)),
            body=body.strip(),
            category=str(meta["category"]) if meta.get("category") else None,
            tags=tags,
        )
        entries.append(KbEntry(article, questions, str(meta.get("tier1_feedback", ""))))
    return entries


class KnowledgeMatcher:
    """Best article for a text; fitted once on the articles."""

    def __init__(self, entries: Sequence[KbEntry], *, threshold: float = 0.3) -> None:
        self.entries = list(entries)
        self.threshold = threshold
        self._vec: TfidfVectorizer | None = None
        if self.entries:
            docs = [" ".join([e.article.title, *e.questions, *e.questions]) for e in self.entries]
            self._vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
            self._matrix = self._vec.fit_transform(docs)
            self._fast = FastTfidf(self._vec)

    def match(self, texts: Sequence[str], categories: Sequence[str]) -> list[KbMatch | None]:
        """For each text, the best article of the same (or no) category above the threshold."""
        if self._vec is None or not texts:
            return [None] * len(texts)
        sims = (self._fast.transform([t[:2000] for t in texts]) @ self._matrix.T).toarray()
        out: list[KbMatch | None] = []
        for i, cat in enumerate(categories):
            allowed = np.array([e.article.category in (None, cat) for e in self.entries])
            row = np.where(allowed, sims[i], 0.0)
            j = int(row.argmax())
            if row[j] < self.threshold:
                out.append(None)
                continue
            e = self.entries[j]
            fb = (
                f"Tier 1 could have answered this with KB article '{e.article.title}' ({e.article.slug}). "
                f"{e.tier1_feedback}"
            ).strip()
            out.append(KbMatch(e.article.slug, e.article.title, round(float(row[j]), 3), fb))
        return out
