"""Token-level helpers of the miner: routing, generalising, fitting and shaping templates.

Pure functions on lists of (masked) tokens; ``WILD`` (``<*>``) marks a variable.
"""

from __future__ import annotations

from paytriage.engines.logmining.masking import PLACEHOLDER

__all__ = ["WILD", "extract", "fits", "generalise", "params", "route", "shape", "wildish"]

WILD = PLACEHOLDER


def route(tokens: list[str]) -> str:
    """The bucket key's token: the first token unless it is (or carries) a variable."""
    if not tokens:
        return ""
    first = tokens[0]
    return WILD if WILD in first else first


def generalise(a: str, b: str) -> str:
    """Two different tokens at one position: keep a shared ``key=`` / ``key:`` head, else ``<*>``."""
    for sep in "=:":
        i = a.find(sep)
        if i > 0 and b[: i + 1] == a[: i + 1]:
            return a[: i + 1] + WILD
    return WILD


def wildish(token: str) -> bool:
    """A token that is only variables and punctuation (``<*>``, ``<*>,``, ``<*>:<*>``)."""
    return WILD in token and not any(c.isalnum() for c in token.replace(WILD, ""))


def shape(tokens: list[str]) -> tuple[str, ...]:
    """``tokens`` with each run of variable-only tokens collapsed to one ``<*>`` (see ``_reshape``)."""
    out: list[str] = []
    in_run = False
    for tok in tokens:
        if wildish(tok):
            if not in_run:
                out.append(WILD)
            in_run = True
        else:
            out.append(tok)
            in_run = False
    return tuple(out)


def fits(template: list[str], tokens: list[str]) -> bool:
    for a, b in zip(template, tokens, strict=True):
        if a != b and a != WILD and not (WILD in a and b.startswith(a[: a.index(WILD)])):
            return False
    return True


def params(template: list[str], raw: list[str]) -> tuple[str, ...]:
    return tuple(extract(t, r) for t, r in zip(template, raw, strict=False) if WILD in t)


def extract(template_token: str, raw_token: str) -> str:
    """The raw text under a template token's ``<*>`` slot (the whole token when it is just ``<*>``)."""
    if template_token == WILD:
        return raw_token
    head, _, rest = template_token.partition(WILD)
    tail = rest.rsplit(WILD, 1)[-1]
    if raw_token.startswith(head) and raw_token.endswith(tail) and len(raw_token) >= len(head) + len(tail):
        return raw_token[len(head) : len(raw_token) - len(tail)]
    return raw_token
