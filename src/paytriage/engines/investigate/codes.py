"""The code book: what a decline, status, HTTP, webhook or sign-in error code means and who fixes it.

The knowledge lives in editable, cited YAML files under ``paytriage/config/codes`` (one scheme per
YAML document); this module only loads, validates, indexes and searches them, so a team can add a
processor's codes without touching Python. Each scheme may declare ``match.patterns`` (regexes with a
``code`` group, e.g. "response code 91") and ``match.bare`` (codes such as ``AC04`` recognised alone);
multi-word names and aliases ("do not honor", ``insufficient_funds``) are matched everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from paytriage.domain.errors import ConfigurationError, NotFoundError
from paytriage.domain.taxonomy import Route

__all__ = [
    "DEFAULT_CODES_DIR",
    "CodeBook",
    "CodeInfo",
    "CodeMatch",
    "CodeScheme",
    "Party",
    "Source",
    "load_schemes",
]

DEFAULT_CODES_DIR = Path(__file__).resolve().parents[2] / "config" / "codes"
_SEP = re.compile(r"[\s_\-]+")
_BOUNDED = r"(?<![A-Za-z0-9])(?:{})(?![A-Za-z0-9])"
_REQUIRED = ("code", "meaning", "customer", "action", "route")


class Party(StrEnum):
    """Who can fix the cause of a code."""

    CUSTOMER = "customer"
    MERCHANT = "merchant"
    ISSUER = "issuer"
    BANK = "bank"
    US = "us"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a scheme's facts come from."""

    title: str
    url: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One code: meaning, who can fix it, what to tell the customer, what to do and where to route."""

    scheme: str
    code: str
    name: str
    meaning: str
    fixable_by: tuple[Party, ...]
    customer_message: str
    action: str
    route: Route
    aliases: tuple[str, ...] = ()
    retryable: bool = False
    iso8583: str | None = None
    version: str = ""

    @property
    def label(self) -> str:
        """Short human label such as ``iso8583 91 (issuer_unavailable)``."""
        return f"{self.scheme} {self.code}" + (f" ({self.name})" if self.name != self.code else "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fixable_by"] = [p.value for p in self.fixable_by]
        d["route"] = self.route.value
        d["aliases"] = list(self.aliases)
        return d


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A code found in free text: the span ``text[start:end]`` and what it decodes to."""

    info: CodeInfo
    start: int
    end: int
    text: str


@dataclass(slots=True)
class CodeScheme:
    """One family of codes (a YAML document) with its sources and text-matching rules."""

    name: str
    title: str
    version: str
    priority: int
    sources: tuple[Source, ...]
    codes: dict[str, CodeInfo]
    patterns: tuple[re.Pattern[str], ...] = ()
    bare: bool = False
    case_sensitive: bool = False
    _keys: dict[str, CodeInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for info in self.codes.values():
            self._keys.setdefault(_norm(info.code), info)
        for info in self.codes.values():
            self._keys.setdefault(_norm(info.name), info)
        for info in self.codes.values():
            for alias in info.aliases:
                self._keys.setdefault(_norm(alias), info)

    def get(self, code: str) -> CodeInfo | None:
        """Exact code first, then case/separator-insensitive code, name or alias."""
        hit = self.codes.get(code)
        if hit is None and not self.case_sensitive:
            hit = self._keys.get(_norm(code))
        elif hit is None:
            hit = self.codes.get(code.upper()) or self._keys.get(_norm(code))
        return hit


def _norm(text: str) -> str:
    return _SEP.sub("_", text.strip().lower()).strip("_")


def _phrase_regex(phrase: str) -> str:
    return r"[\s_\-]+".join(re.escape(tok) for tok in _norm(phrase).split("_"))


class CodeBook:
    """All schemes, searchable by code, name or alias and over free text."""

    def __init__(self, schemes: Sequence[CodeScheme]) -> None:
        self.schemes: dict[str, CodeScheme] = {}
        for s in sorted(schemes, key=lambda s: (s.priority, s.name)):
            if s.name in self.schemes:
                raise ConfigurationError(f"scheme {s.name!r} is defined twice")
            self.schemes[s.name] = s
        self._phrases: dict[str, CodeInfo] = {}
        # phrases: codes that are multi-word identifiers, then names, then aliases; higher priority first
        for attr in ("code", "name", "aliases"):
            for s in self.schemes.values():
                for info in s.codes.values():
                    values = info.aliases if attr == "aliases" else (getattr(info, attr),)
                    for v in values:
                        key = _norm(v)
                        if "_" in key and not key.replace("_", "").isdigit():
                            self._phrases.setdefault(key, info)
        alternatives = sorted(self._phrases, key=len, reverse=True)
        self._phrase_re = (
            re.compile(
                _BOUNDED.format("|".join(_phrase_regex(p) for p in alternatives)),
                re.IGNORECASE,
            )
            if alternatives
            else None
        )
        bare = [c for s in self.schemes.values() if s.bare for c in s.codes]
        self._bare_re = (
            re.compile(
                _BOUNDED.format("(" + "|".join(map(re.escape, sorted(bare, key=len, reverse=True))) + ")")
            )
            if bare
            else None
        )

    @classmethod
    def load(cls, directory: Path | None = None) -> CodeBook:
        """Load every ``*.yaml`` in ``directory`` (default: the packaged code files, cached)."""
        if directory is None:
            return _default_book()
        return cls(load_schemes(directory))

    @property
    def version(self) -> str:
        """A version string covering every scheme, carried by outputs that decode codes."""
        return ";".join(f"{s.name}@{s.version}" for s in self.schemes.values())

    def __len__(self) -> int:
        return sum(len(s.codes) for s in self.schemes.values())

    def __iter__(self) -> Iterator[CodeInfo]:
        for s in self.schemes.values():
            yield from s.codes.values()

    def get(self, code: str, scheme: str | None = None) -> CodeInfo | None:
        """Like :meth:`lookup` but ``None`` when unknown."""
        code = str(code).strip()
        if not code:
            return None
        if scheme is not None:
            s = self.schemes.get(scheme)
            if s is None:
                raise NotFoundError(f"unknown code scheme {scheme!r}; known: {', '.join(self.schemes)}")
            return s.get(code)
        key = _norm(code)
        for s in self.schemes.values():  # a code (exact, then loosely) wins over a name or alias elsewhere
            if code in s.codes:
                return s.codes[code]
        for s in self.schemes.values():
            hit = s._keys.get(key)
            if hit is not None and _norm(hit.code) == key:
                return hit
        for s in self.schemes.values():
            hit = s.get(code)
            if hit is not None:
                return hit
        return None

    def lookup(self, code: str, scheme: str | None = None) -> CodeInfo:
        """Decode ``code`` (e.g. ``"91"``, ``"AC04"``, ``"do not honor"``); :class:`NotFoundError` if unknown.

        Without ``scheme`` the schemes are tried in priority order (ISO 8583 before ECI for ``"05"``).
        """
        hit = self.get(code, scheme)
        if hit is None:
            where = f" in scheme {scheme!r}" if scheme else ""
            raise NotFoundError(f"unknown code {code!r}{where}")
        return hit

    def find_in_text(self, text: str) -> list[CodeMatch]:
        """Every code mentioned in ``text``, in order, overlapping mentions resolved longest-first."""
        found: list[CodeMatch] = []
        for s in self.schemes.values():
            for pat in s.patterns:
                for m in pat.finditer(text):
                    info = s.get(m.group("code"))
                    if info is not None:
                        found.append(CodeMatch(info, m.start(), m.end(), m.group(0)))
        if self._bare_re is not None:
            for m in self._bare_re.finditer(text):
                info = self.get(m.group(1))
                if info is not None:
                    found.append(CodeMatch(info, m.start(), m.end(), m.group(0)))
        if self._phrase_re is not None:
            for m in self._phrase_re.finditer(text):
                info = self._phrases.get(_norm(m.group(0)))
                if info is not None:
                    found.append(CodeMatch(info, m.start(), m.end(), m.group(0)))
        found.sort(key=lambda c: (c.start, -(c.end - c.start)))
        kept: list[CodeMatch] = []
        for c in found:
            if kept and c.start < kept[-1].end:
                continue
            kept.append(c)
        return kept


@lru_cache(maxsize=1)
def _default_book() -> CodeBook:
    return CodeBook(load_schemes(DEFAULT_CODES_DIR))


def load_schemes(directory: Path) -> list[CodeScheme]:
    """Parse every YAML document of every ``*.yaml`` file in ``directory``."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigurationError(f"{directory}: no code files (*.yaml) found")
    schemes: list[CodeScheme] = []
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: invalid YAML: {exc}") from None
        for i, doc in enumerate(docs):
            schemes.append(_scheme(doc, f"{path.name}[{i}]"))
    return schemes


def _text(item: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ConfigurationError(f"{where}: '{key}' must be a non-empty string")
    return str(value).strip()


def _scheme(doc: Any, where: str) -> CodeScheme:
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{where}: expected a mapping")
    name = _text(doc, "scheme", where)
    version = _text(doc, "version", where)
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigurationError(f"{where}: every code file must cite its 'sources'")
    sources = tuple(
        Source(_text(s, "title", where), _text(s, "url", where), str(s.get("note", "")))
        for s in raw_sources
        if isinstance(s, dict)
    )
    match = doc.get("match") or {}
    case_sensitive = bool(match.get("case_sensitive", False))
    patterns: list[re.Pattern[str]] = []
    for p in match.get("patterns") or []:
        try:
            rx = re.compile(str(p))
        except re.error as exc:
            raise ConfigurationError(f"{where}.match.patterns: bad regex {p!r}: {exc}") from None
        if "code" not in rx.groupindex:
            raise ConfigurationError(f"{where}.match.patterns: {p!r} needs a (?P<code>...) group")
        patterns.append(rx)
    codes: dict[str, CodeInfo] = {}
    raw_codes = doc.get("codes")
    if not isinstance(raw_codes, list) or not raw_codes:
        raise ConfigurationError(f"{where}: 'codes' must be a non-empty list")
    for i, item in enumerate(raw_codes):
        w = f"{where}.codes[{i}]"
        if not isinstance(item, dict):
            raise ConfigurationError(f"{w}: expected a mapping")
        for key in _REQUIRED:
            _text(item, key, w)
        code = _text(item, "code", w)
        if code in codes:
            raise ConfigurationError(f"{w}: duplicate code {code!r} in scheme {name!r}")
        try:
            route = Route(item["route"])
            parties = tuple(Party(p) for p in item.get("fix") or [])
        except ValueError as exc:
            raise ConfigurationError(f"{w} ({code}): {exc}") from None
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            raise ConfigurationError(f"{w} ({code}): 'aliases' must be a list")
        iso = item.get("iso8583")
        codes[code] = CodeInfo(
            scheme=name,
            code=code,
            name=_text(item, "name", w, required=False) or code,
            meaning=_text(item, "meaning", w),
            fixable_by=parties,
            customer_message=_text(item, "customer", w),
            action=_text(item, "action", w),
            route=route,
            aliases=tuple(str(a) for a in aliases),
            retryable=bool(item.get("retry", False)),
            iso8583=None if iso is None else str(iso),
            version=version,
        )
    return CodeScheme(
        name=name,
        title=_text(doc, "title", where),
        version=version,
        priority=int(doc.get("priority", 100)),
        sources=sources,
        codes=codes,
        patterns=tuple(patterns),
        bare=bool(match.get("bare", False)),
        case_sensitive=case_sensitive,
    )
