"""Signals read from the text: language, sentiment, anger, urgency, legal and regulator threats.

Lexicons are small data tables compiled once. Language is guessed from stop-word hits (Latin
scripts) and Unicode script (others): microseconds per ticket, no model files, no downloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LANG_STOPWORDS", "Signals", "detect_language", "read_signals"]

LANG_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "my",
            "i",
            "you",
            "to",
            "of",
            "it",
            "for",
            "this",
            "that",
            "have",
            "not",
            "with",
            "on",
            "be",
            "me",
            "can",
            "your",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "ich",
            "sie",
            "mit",
            "ein",
            "eine",
            "mein",
            "meine",
            "zu",
            "auf",
            "für",
            "bitte",
            "wurde",
            "habe",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "pas",
            "je",
            "vous",
            "un",
            "une",
            "mon",
            "ma",
            "des",
            "du",
            "pour",
            "sur",
            "avec",
            "que",
            "qui",
            "été",
            "ai",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "no",
            "yo",
            "un",
            "una",
            "mi",
            "por",
            "para",
            "con",
            "que",
            "del",
            "se",
            "ha",
            "fue",
            "pero",
            "está",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "e",
            "è",
            "non",
            "io",
            "un",
            "una",
            "mio",
            "mia",
            "per",
            "con",
            "che",
            "del",
            "sono",
            "ho",
            "stato",
            "ma",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "niet",
            "ik",
            "mijn",
            "met",
            "voor",
            "op",
            "van",
            "dat",
            "die",
            "er",
            "zijn",
            "heb",
            "werd",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "e",
            "é",
            "não",
            "eu",
            "um",
            "uma",
            "meu",
            "minha",
            "por",
            "para",
            "com",
            "que",
            "do",
            "da",
            "foi",
            "mas",
            "está",
        ]
    ),
    "pl": frozenset(
        [
            "i",
            "nie",
            "jest",
            "się",
            "na",
            "to",
            "że",
            "w",
            "z",
            "do",
            "mój",
            "moja",
            "mam",
            "jak",
            "ale",
            "czy",
            "została",
        ]
    ),
    "sv": frozenset(
        [
            "och",
            "är",
            "inte",
            "jag",
            "en",
            "ett",
            "min",
            "mitt",
            "för",
            "med",
            "på",
            "att",
            "det",
            "som",
            "har",
            "var",
        ]
    ),
}
_SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
]
_ANY_SCRIPT = re.compile("|".join(p.pattern for _, p in _SCRIPTS))
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _phrases(*items: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(items) + r")\b", re.IGNORECASE)


_ANGER = _phrases(
    r"furious",
    r"angry",
    r"outraged",
    r"disgust(?:ed|ing)",
    r"unacceptable",
    r"ridiculous",
    r"joke",
    r"pathetic",
    r"useless",
    r"incompetent",
    r"worst",
    r"terrible",
    r"horrible",
    r"appalling",
    r"shocking",
    r"fed up",
    r"sick of",
    r"thieves",
    r"stealing",
    r"scam(?:mers)?",
    r"rip[- ]?off",
    r"wtf",
    r"damn",
    r"hell",
    r"disgrace(?:ful)?",
    r"never again",
    r"last time",
    r"how dare",
)
_POSITIVE = _phrases(
    r"thanks?",
    r"thank you",
    r"great",
    r"appreciate(?:d)?",
    r"helpful",
    r"love",
    r"perfect",
    r"excellent",
    r"resolved",
    r"works now",
)
_LEGAL = _phrases(
    r"lawyers?",
    r"solicitors?",
    r"attorneys?",
    r"sue",
    r"suing",
    r"lawsuit",
    r"legal action",
    r"court",
    r"small claims",
    r"litigation",
    r"legal team",
    r"class action",
)
_REGULATOR = _phrases(
    r"fca",
    r"ombudsman",
    r"regulators?",
    r"cfpb",
    r"bafin",
    r"acpr",
    r"consob",
    r"central bank",
    r"financial conduct authority",
    r"trading standards",
    r"consumer protection",
    r"data protection",
    r"gdpr",
    r"ico",
    r"fos",
    r"report you",
    r"psd2",
)
_CHARGEBACK_THREAT = _phrases(
    r"chargeback", r"charge back", r"dispute (?:it|this) with my bank", r"(?:call|contact) my bank"
)
_URGENT = _phrases(
    r"urgent(?:ly)?",
    r"asap",
    r"immediately",
    r"right now",
    r"emergency",
    r"as soon as possible",
    r"today",
    r"stranded",
    r"can(?:no|')t pay (?:my )?(?:rent|bills?|staff|employees|suppliers)",
    r"payroll",
    r"critical",
    r"outage",
    r"all (?:our )?(?:customers|payments|transactions)",
    r"nothing works",
    r"(?:is|are|went|been) down",
)
_FUNDS_AT_RISK = _phrases(
    r"money (?:is )?(?:gone|missing|lost|stuck|disappeared)",
    r"lost (?:my )?money",
    r"can(?:no|')t access (?:my )?(?:money|funds|account)",
    r"funds? (?:are )?(?:blocked|frozen|held|on hold)",
    r"account (?:is )?(?:frozen|blocked|suspended)",
    r"stolen",
    r"unauthori[sz]ed",
    r"fraud",
    r"never (?:received|arrived)",
    r"not received",
    r"charged twice",
    r"double charged",
)
_NEGATED = re.compile(r"\b(?:not|no|never|without|don't|won't)\s+(?:\w+\s+)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Signals:
    """What the text says about the customer's state, with the phrases that showed it."""

    language: str
    language_confidence: float
    mixed_languages: bool
    sentiment: float
    anger: bool
    urgency: bool
    legal_threat: bool
    regulator_threat: bool
    chargeback_threat: bool
    funds_at_risk: bool
    evidence: dict[str, list[str]] = field(default_factory=dict)

    def __reduce__(self) -> tuple[object, ...]:
        # Positional re-construction: faster to unpickle than the slots default (worker pools).
        return (Signals, tuple(getattr(self, name) for name in self.__dataclass_fields__))


_WORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in LANG_STOPWORDS.items():
    for _w in _words:
        _WORD_LANGS[_w] = (*_WORD_LANGS.get(_w, ()), _lang)
_LEXICONS = {
    "anger": _ANGER,
    "positive": _POSITIVE,
    "legal": _LEGAL,
    "regulator": _REGULATOR,
    "chargeback": _CHARGEBACK_THREAT,
    "urgency": _URGENT,
    "funds_at_risk": _FUNDS_AT_RISK,
}
# One pass over the text: every lexicon is a named group of a single alternation. Each lexicon is
# ``\b(?:…)\b``; the shared ``\b`` go outside the groups (same matches, one boundary test per position).
_ALL = re.compile(
    r"\b(?:" + "|".join(f"(?P<{name}>{p.pattern[2:-2]})" for name, p in _LEXICONS.items()) + r")\b",
    re.IGNORECASE,
)
if not all(p.pattern.startswith(r"\b(?:") and p.pattern.endswith(r")\b") for p in _LEXICONS.values()):
    raise RuntimeError("signals: every lexicon must be \\b(?:...)\\b")  # pragma: no cover
# The lexicons are written in lower case, so on lower-cased text a case-sensitive scan (2x faster) suffices.
_ALL_LOWER = re.compile(_ALL.pattern)


def _by_count(item: tuple[str, int]) -> int:
    return item[1]


def detect_language(text: str) -> tuple[str, float, bool]:
    """``(code, confidence, mixed)``; ``"und"`` when there is too little text to tell."""
    sample = text[:3000]
    if not sample.isascii() and _ANY_SCRIPT.search(sample):
        for code, pattern in _SCRIPTS:
            n = len(pattern.findall(sample))
            if n >= 3 and n >= 0.2 * max(1, len(sample.strip())):
                return code, 0.9, False
    hits = dict.fromkeys(LANG_STOPWORDS, 0)
    get = _WORD_LANGS.get
    for w in _WORD.findall(sample.lower()):
        for lang in get(w, ()):
            hits[lang] += 1
    # Highest counts first, ties in LANG_STOPWORDS order (what Counter.most_common(2) returned).
    (top, n1), (_, n2) = sorted(hits.items(), key=_by_count, reverse=True)[:2]
    if n1 == 0:
        return "und", 0.0, False
    confidence = round(n1 / (n1 + n2) * min(1.0, n1 / 3), 3)
    return top, confidence, n2 >= 3 and n2 >= 0.4 * n1


def _all_hits(text: str) -> dict[str, list[str]]:
    ev: dict[str, list[str]] = {name: [] for name in _LEXICONS}
    low = text.lower()
    matches = _ALL_LOWER.finditer(low) if len(low) == len(text) else _ALL.finditer(text)
    for m in matches:
        if m.lastgroup and not _NEGATED.search(text[max(0, m.start() - 20) : m.start()]):
            ev[m.lastgroup].append(text[m.start() : m.end()])
    return ev


def read_signals(text: str) -> Signals:
    """Language plus lexicon signals. Exclamation runs and shouting count toward anger."""
    sample = text[:20000]
    lang, conf, mixed = detect_language(sample)
    ev = _all_hits(sample)
    shouting = [
        w for w in re.findall(r"\b[A-Z]{4,}\b", sample) if w not in {"IBAN", "HTTP", "JSON", "HTML", "SEPA"}
    ]
    if len(shouting) >= 3 or "!!" in sample:
        ev["anger"].append("shouting" if len(shouting) >= 3 else "!!")
    neg, pos = len(ev["anger"]) + len(ev["legal"]) + len(ev["regulator"]), len(ev["positive"])
    sentiment = round((pos - neg) / (pos + neg + 1), 3)
    return Signals(
        language=lang,
        language_confidence=conf,
        mixed_languages=mixed,
        sentiment=sentiment,
        anger=bool(ev["anger"]),
        urgency=bool(ev["urgency"]),
        legal_threat=bool(ev["legal"]),
        regulator_threat=bool(ev["regulator"]),
        chargeback_threat=bool(ev["chargeback"]),
        funds_at_risk=bool(ev["funds_at_risk"]),
        evidence={k: v for k, v in ev.items() if v},
    )
