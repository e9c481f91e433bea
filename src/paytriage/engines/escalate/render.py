"""Markdown and JSON renderings of an escalation package (for a human, a ticket comment or Jira)."""

from __future__ import annotations

import json
from typing import Any

from paytriage.engines.escalate.completeness import SECTIONS
from paytriage.engines.escalate.package import EscalationPackage

__all__ = ["to_json", "to_markdown"]

_CODE_SECTIONS = frozenset({"log_excerpts"})


def to_json(package: EscalationPackage, *, indent: int | None = 2) -> str:
    return json.dumps(package.to_dict(), indent=indent, ensure_ascii=False, default=str)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _block(name: str, value: Any) -> list[str]:
    if value in (None, "", [], {}):
        return ["_missing_"]
    if name in _CODE_SECTIONS and isinstance(value, str):
        return ["```text", value, "```"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        rows = ["| field | value |", "|---|---|"]
        rows += [f"| {_cell(k)} | {_cell(v)} |" for k, v in value.items()]
        return rows
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        head = list(value[0].keys())
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        rows += ["| " + " | ".join(_cell(v.get(h, "")) for h in head) + " |" for v in value]
        return rows
    if isinstance(value, list):
        marker = "1." if name == "reproduction_steps" else "-"
        return [f"{marker} {v}" for v in value]
    return [str(value)]


def to_markdown(package: EscalationPackage) -> str:
    """One document: the title, a status line, each section (or ``_missing_``), queries and completeness."""
    d = package.decision
    c = package.completeness
    out = [
        f"# {package.title}",
        "",
        f"**{package.id}** · priority {package.priority or '-'} · decision **{d.verdict.value}** → "
        f"{d.owner.value} · completeness {c.score:.0%}",
        "",
    ]
    for name in SECTIONS[1:]:
        sec = package.sections[name]
        out += [f"## {name.replace('_', ' ').capitalize()}", "", *_block(name, sec.value)]
        if sec.sources:
            out.append(f"\n_from: {', '.join(sec.sources)}_")
        out.append("")
    out += ["## Decision: Tier 2 or Engineering", "", *[f"- {r}" for r in d.reasons]]
    out += [f"- not {k.replace('_', ' ')}: {v}" for k, v in d.ruled_out.items()]
    queries = [f"- `{q}`" for q in package.queries] or ["_none_"]
    out += ["", "## Queries behind the figures", "", *queries]
    out += ["", "## Completeness", "", f"{len(c.filled)}/{len(SECTIONS)} sections filled from evidence."]
    if c.ask_for:
        out.append("An engineer would still ask for: " + ", ".join(c.ask_for) + ".")
    return "\n".join(out).rstrip() + "\n"
