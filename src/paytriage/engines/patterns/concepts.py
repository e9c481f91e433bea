"""Concepts: one token for the different words customers and systems use for the same thing.

Why: linking a ticket to the log alert that explains it counts shared tokens, and the two sides
rarely share words. A cardholder writes "the 3D Secure page never finishes"; the 3-D Secure server
logs "ACS did not answer CReq within 10000ms". Both get the concept tokens ``~3ds`` and
``~timeout`` from a table of payments vocabulary (``config/concepts.yaml``, data a team can edit),
and a shared concept then weighs like any shared word (by how few log incidents carry it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from paytriage.domain.errors import InputError

__all__ = ["PREFIX", "Concepts", "load_concepts"]

#: Concept tokens start with this, which no word tokeniser produces.
PREFIX = "~"
_EDGE_BEFORE = r"(?<![A-Za-z0-9])"
_EDGE_AFTER = r"(?![A-Za-z0-9])"
#: Longer texts are tagged from their start: a pasted log dump must not cost a regex scan per KB.
MAX_CHARS = 4000


class Concepts:
    """Tags texts with the concepts whose patterns they contain.

    ``table`` maps a concept name to its regexes (case-insensitive, matched at word edges).
    """

    def __init__(self, table: Mapping[str, Sequence[str]], *, version: str = "custom") -> None:
        self.version = version
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, patterns in table.items():
            if not name or not isinstance(name, str):
                raise InputError("a concept needs a name", field="concepts")
            if not patterns:
                raise InputError(f"concept {name!r} has no patterns", field=f"concepts.{name}")
            for p in patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise InputError(
                        f"concept {name!r}: bad pattern {p!r}: {exc}", field=f"concepts.{name}"
                    ) from exc
            body = "|".join(f"(?:{p})" for p in patterns)
            self._patterns.append((PREFIX + name, re.compile(f"{_EDGE_BEFORE}(?:{body}){_EDGE_AFTER}", re.I)))

    @property
    def names(self) -> list[str]:
        return [token[len(PREFIX) :] for token, _ in self._patterns]

    def tags(self, text: str) -> set[str]:
        """The concept tokens (``~3ds``) of one text."""
        head = text[:MAX_CHARS]
        return {token for token, pattern in self._patterns if pattern.search(head)}

    def tag_all(self, texts: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for text in texts:
            out |= self.tags(text)
        return out


def load_concepts(path: str | Path | None = None) -> Concepts:
    """Read a concepts table (the packaged ``config/concepts.yaml`` when ``path`` is None)."""
    if path is None:
        return _packaged()
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read concepts table: {exc.strerror}", field="concepts") from exc
    return _parse(text, str(path))


@functools.lru_cache(maxsize=1)
def _packaged() -> Concepts:
    text = resources.files("paytriage").joinpath("config", "concepts.yaml").read_text("utf-8")
    return _parse(text, "concepts.yaml")


def _parse(text: str, where: str) -> Concepts:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML: {exc}", field="concepts") from exc
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
        raise InputError(f"{where}: expected a mapping with a 'concepts' list", field="concepts")
    table: dict[str, list[str]] = {}
    for i, row in enumerate(data["concepts"], 1):
        name = row.get("name") if isinstance(row, dict) else None
        patterns = row.get("patterns") if isinstance(row, dict) else None
        if (
            not isinstance(name, str)
            or not isinstance(patterns, list)
            or not all(isinstance(p, str) for p in patterns)
        ):
            raise InputError(
                f"{where}: concept #{i} needs a string 'name' and a list of string 'patterns'",
                field="concepts",
            )
        if name in table:
            raise InputError(f"{where}: concept #{i} repeats the name {name!r}", field="concepts")
        table[name] = patterns
    return Concepts(table, version=str(data.get("version", "unversioned")))
