"""Masking: replace variable parts of log tokens (ids, numbers, IPs, paths…) with ``<*>`` before mining.

The rules are a data table (``config/log_masking.yaml``): named, ordered, commented regexes compiled
once into one alternation (at each position the first rule in table order that matches wins, like a
lexer), each counting its hits. They act on one whitespace-separated token at a time, which lets the
masker memoise whole tokens: a busy log repeats the same few thousand tokens, so most tokens cost one
dict lookup instead of a dozen regex passes.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_MASKING_PATH", "PLACEHOLDER", "Masker", "MaskingError", "MaskingRule", "load_rules"]

PLACEHOLDER = "<*>"
DEFAULT_MASKING_PATH = "log_masking.yaml"
_FLAGS = {"IGNORECASE": re.IGNORECASE, "ASCII": re.ASCII, "MULTILINE": re.MULTILINE}
_CACHE_LIMIT = 200_000
_PLACEHOLDER_RUN = re.compile(r"(?:<\*>){2,}")


class MaskingError(ValueError):
    """A masking table that cannot be used: names the rule and the problem."""


@dataclass(frozen=True, slots=True)
class MaskingRule:
    """One row of the masking table."""

    name: str
    pattern: str
    comment: str = ""
    flags: tuple[str, ...] = ()
    trigger: str = ""

    def compile(self) -> re.Pattern[str]:
        flags = 0
        for f in self.flags:
            if f not in _FLAGS:
                raise MaskingError(f"masking rule {self.name!r}: unknown flag {f!r}")
            flags |= _FLAGS[f]
        try:
            return re.compile(self.pattern, flags)
        except re.error as exc:
            raise MaskingError(f"masking rule {self.name!r}: bad regex: {exc}") from exc


def load_rules(path: str | Path | None = None) -> tuple[str, tuple[MaskingRule, ...]]:
    """Read a masking table (the packaged default when ``path`` is None); returns (version, rules)."""
    if path is None:
        return _load_rules_cached(None, 0)
    p = Path(path)
    try:
        stamp = p.stat().st_mtime_ns
    except OSError as exc:
        raise MaskingError(f"{path}: cannot read masking table: {exc.strerror}") from exc
    return _load_rules_cached(str(p.resolve()), stamp)


@functools.lru_cache(maxsize=16)
def _load_rules_cached(path: str | None, stamp: int) -> tuple[str, tuple[MaskingRule, ...]]:
    """Parsed once per file version: a miner per request must not re-read YAML."""
    if path is None:
        text = resources.files("paytriage").joinpath("config", DEFAULT_MASKING_PATH).read_text("utf-8")
        where = DEFAULT_MASKING_PATH
    else:
        text = Path(path).read_text("utf-8")
        where = str(path)
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise MaskingError(f"{where}: expected a mapping with a 'rules' list")
    rules: list[MaskingRule] = []
    seen: set[str] = set()
    for i, row in enumerate(data["rules"], 1):
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("name"), str)
            or not isinstance(row.get("pattern"), str)
        ):
            raise MaskingError(f"{where}: rule #{i} needs a string 'name' and 'pattern'")
        if row["name"] in seen:
            raise MaskingError(f"{where}: rule #{i} repeats the name {row['name']!r}")
        seen.add(row["name"])
        rules.append(
            MaskingRule(
                name=row["name"],
                pattern=row["pattern"],
                comment=str(row.get("comment", "")),
                flags=tuple(row.get("flags") or ()),
                trigger=str(row.get("trigger") or ""),
            )
        )
    return str(data.get("version", "unversioned")), tuple(rules)


_INLINE = {"IGNORECASE": "i", "ASCII": "a", "MULTILINE": "m"}


@functools.lru_cache(maxsize=16)
def _compile_all(
    rules: tuple[MaskingRule, ...],
) -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str] | None]:
    """One alternation of all rules (group ``r<i>`` per rule), its group→rule names, and the gate.

    Every rule is compiled alone first so a broken one is reported by name. The gate is the union
    of the triggers; it is None when some rule has no trigger (then every token is scanned).
    """
    parts: list[str] = []
    names: dict[str, str] = {}
    for i, r in enumerate(rules):
        r.compile()
        if r.trigger:
            try:
                re.compile(r.trigger)
            except re.error as exc:
                raise MaskingError(f"masking rule {r.name!r}: bad trigger regex: {exc}") from exc
        flags = "".join(_INLINE[f] for f in r.flags)
        body = f"(?{flags}:{r.pattern})" if flags else r.pattern
        parts.append(f"(?P<r{i}>{body})")
        names[f"r{i}"] = r.name
    try:
        combined = re.compile("|".join(parts) or "(?!)")
    except re.error as exc:
        raise MaskingError(f"masking rules do not combine into one regex: {exc}") from exc
    triggers = {r.trigger for r in rules}
    if "" in triggers or not triggers:
        return combined, names, None
    try:
        gate = re.compile("|".join(f"(?:{t})" for t in sorted(triggers)))
    except re.error as exc:  # e.g. an inline global flag such as (?i) that only works alone
        raise MaskingError(f"masking triggers do not combine into one regex: {exc}") from exc
    return combined, names, gate


class Masker:
    """Applies the rules to tokens, with a memo per distinct token and hit counts per rule."""

    def __init__(self, rules: tuple[MaskingRule, ...], version: str = "custom") -> None:
        self.rules = rules
        self.version = version
        self._combined, self._group_names, self._gate = _compile_all(rules)
        self._cache: dict[str, tuple[str, tuple[str, ...]]] = {}
        # Hits are tallied per distinct set of rules that fired (a handful), not per rule: updating
        # a Counter for every masked token cost a sixth of the mining time.
        self._fired: dict[tuple[str, ...], int] = {}

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> Masker:
        version, rules = load_rules(path)
        return cls(rules, version)

    def mask_token(self, token: str) -> str:
        """The token with every rule applied in order (memoised)."""
        entry = self._cache.get(token)
        if entry is None:
            entry = self._apply(token)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = entry
        if entry[1]:
            self._fired[entry[1]] = self._fired.get(entry[1], 0) + 1
        return entry[0]

    @property
    def hits(self) -> Counter[str]:
        """How often each rule fired (a memoised token counts every time it is seen)."""
        out: Counter[str] = Counter()
        for names, n in self._fired.items():
            for name in names:
                out[name] += n
        return out

    def mask_tokens(self, tokens: list[str]) -> list[str]:
        """All tokens masked; the hot path of the miner."""
        cache = self._cache
        fired = self._fired
        out: list[str] = []
        append = out.append
        for tok in tokens:
            entry = cache.get(tok)
            if entry is None:
                entry = self._apply(tok)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[tok] = entry
            if entry[1]:
                fired[entry[1]] = fired.get(entry[1], 0) + 1
            append(entry[0])
        return out

    def mask(self, text: str) -> str:
        """A whole line masked token by token (whitespace collapsed to single spaces)."""
        return " ".join(self.mask_tokens(text.split()))

    def _apply(self, token: str) -> tuple[str, tuple[str, ...]]:
        if self._gate is not None and self._gate.search(token) is None:
            return token, ()
        fired: list[str] = []
        names = self._group_names

        def hit(m: re.Match[str]) -> str:
            fired.append(names[m.lastgroup or ""])
            return PLACEHOLDER

        out = self._combined.sub(hit, token)
        if fired and "<*><*>" in out:
            out = _PLACEHOLDER_RUN.sub(PLACEHOLDER, out)
        return out, tuple(fired)
