"""Atlassian Document Format (ADF): build Jira descriptions and comments from an escalation package.

Jira Cloud's REST v3 refuses plain strings for rich-text fields; it wants an ADF tree. Engineers read the
package in Jira, so the structure matters: headings per section, tables for impact/environment/timeline,
code blocks for log excerpts and queries, ordered lists for reproduction steps.

The package is a plain mapping (the escalation engine's JSON form), rendered by value shape so a new section
needs no code here: ``str`` → paragraphs, ``list[str]`` → bullet list (ordered for ``*steps*``),
``list[dict]`` → table, ``dict`` → two-column table, keys in :data:`CODE_KEYS` → code blocks.
:func:`check_adf` lists the structural rules Jira enforces (non-empty text, no marks in code, cells hold
paragraphs) so tests and the contract server can reject a bad tree before Jira does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "CODE_KEYS",
    "SECTION_ORDER",
    "bullet_list",
    "check_adf",
    "code_block",
    "doc",
    "escalation_to_adf",
    "heading",
    "ordered_list",
    "paragraph",
    "plain_text",
    "section",
    "table",
    "text",
]

Node = dict[str, Any]

#: Sections in the order an engineer reads them; unknown keys follow in the package's own order.
SECTION_ORDER = (
    "summary",
    "impact",
    "severity",
    "severity_reason",
    "environment",
    "reproduction_steps",
    "log_excerpts",
    "timeline",
    "related_tickets",
    "suspected_component",
    "suspected_release",
    "customer_context",
    "ruled_out",
    "queries",
    "completeness",
)
#: Keys whose string values are code or logs, rendered verbatim in a code block.
CODE_KEYS = frozenset({"log_excerpts", "logs", "queries", "query", "sql", "request", "response", "replay"})
_SKIP_KEYS = frozenset({"title", "id", "version", "priority", "links"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but tab, LF, CR
MAX_CODE_CHARS = 8000


def _clean(s: str) -> str:
    return _CONTROL.sub("", s)


def text(value: str, *, strong: bool = False, code: bool = False, href: str | None = None) -> Node:
    """A text node; ADF forbids empty text, so callers skip empties (the builders below do)."""
    node: Node = {"type": "text", "text": _clean(value)}
    marks: list[Node] = []
    if strong:
        marks.append({"type": "strong"})
    if code:
        marks.append({"type": "code"})
    if href:
        marks.append({"type": "link", "attrs": {"href": href}})
    if marks:
        node["marks"] = marks
    return node


def _inline(value: str | Node | Sequence[Node]) -> list[Node]:
    if isinstance(value, str):
        out: list[Node] = []
        for i, line in enumerate(_clean(value).split("\n")):
            if i:
                out.append({"type": "hardBreak"})
            if line:
                out.append(text(line))
        while out and out[-1]["type"] == "hardBreak":
            out.pop()
        return out
    if isinstance(value, dict):
        return [value] if value.get("type") != "text" or value.get("text") else []
    return [n for n in value if n.get("type") != "text" or n.get("text")]


def paragraph(*parts: str | Node) -> Node:
    content: list[Node] = []
    for p in parts:
        content.extend(_inline(p))
    node: Node = {"type": "paragraph"}
    if content:
        node["content"] = content
    return node


def heading(value: str, level: int = 2) -> Node:
    if not 1 <= level <= 6:
        raise ValueError("heading level must be 1-6")
    return {"type": "heading", "attrs": {"level": level}, "content": _inline(value) or [text("-")]}


def _list(kind: str, items: Iterable[str | Node]) -> Node:
    content = [{"type": "listItem", "content": [paragraph(i) if isinstance(i, str) else i]} for i in items]
    if not content:
        content = [{"type": "listItem", "content": [paragraph("(none)")]}]
    return {"type": kind, "content": content}


def bullet_list(items: Iterable[str | Node]) -> Node:
    return _list("bulletList", items)


def ordered_list(items: Iterable[str | Node]) -> Node:
    node = _list("orderedList", items)
    node["attrs"] = {"order": 1}
    return node


def code_block(value: str, language: str = "text", *, max_chars: int = MAX_CODE_CHARS) -> Node:
    """Verbatim text; long excerpts are cut (Jira caps a description at 32,767 characters)."""
    body = _clean(value)
    if len(body) > max_chars:
        body = body[:max_chars] + f"\n… ({len(value) - max_chars} more characters in the attachment)"
    node: Node = {"type": "codeBlock", "attrs": {"language": language}}
    if body:
        node["content"] = [{"type": "text", "text": body}]
    return node


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Node:
    def cell(kind: str, value: Any) -> Node:
        return {"type": kind, "attrs": {}, "content": [paragraph(_scalar(value))]}

    header = list(header) or ["-"]  # a row without cells is invalid ADF
    content = [{"type": "tableRow", "content": [cell("tableHeader", h) for h in header]}]
    for r in rows:
        cells = list(r) + [""] * (len(header) - len(r))
        content.append({"type": "tableRow", "content": [cell("tableCell", v) for v in cells[: len(header)]]})
    return {
        "type": "table",
        "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
        "content": content,
    }


def doc(content: Iterable[Node]) -> Node:
    nodes = list(content) or [paragraph()]
    return {"type": "doc", "version": 1, "content": nodes}


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _title(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or "-"


def section(key: str, value: Any) -> list[Node]:
    """Nodes for one value, chosen by its shape (see the module docstring)."""
    if value is None or value == "" or value == [] or value == {}:
        return [paragraph(text("not available", strong=True))]
    if key in CODE_KEYS:
        if isinstance(value, str):
            return [code_block(value)]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [code_block(v) for v in value if v] or [paragraph("(none)")]
        if isinstance(value, dict):
            out: list[Node] = []
            for k, v in value.items():
                out.append(paragraph(text(_title(str(k)), strong=True)))
                out.append(code_block(_scalar(v)))
            return out
    if isinstance(value, str):
        return [paragraph(p) for p in re.split(r"\n\s*\n", value) if p.strip()] or [paragraph()]
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            cols: list[str] = []
            for row in value:
                cols.extend(str(k) for k in row if str(k) not in cols)
            return [table([_title(c) for c in cols], [[row.get(c) for c in cols] for row in value])]
        items = [_scalar(v) for v in value]
        return [ordered_list(items) if "step" in key else bullet_list(items)]
    if isinstance(value, dict):
        nested = {k: v for k, v in value.items() if k in CODE_KEYS}
        flat = [(_title(str(k)), v) for k, v in value.items() if k not in CODE_KEYS]
        out = [table(["Field", "Value"], flat)] if flat else []
        for k, v in nested.items():
            out.append(paragraph(text(_title(str(k)), strong=True)))
            out.extend(section(str(k), v))
        return out
    return [paragraph(_scalar(value))]


def escalation_to_adf(package: Mapping[str, Any], *, links: Mapping[str, str] | None = None) -> Node:
    """The description of a Jira issue for an escalation package (``title`` becomes the summary instead).

    ``links`` (label → URL) are listed first so the engineer can jump to the paytriage case and tickets.
    """
    nodes: list[Node] = []
    if links:
        nodes.append(paragraph(*_join([text(label, href=url) for label, url in links.items()])))
    keys = [k for k in SECTION_ORDER if k in package]
    keys += [k for k in package if k not in keys and k not in _SKIP_KEYS]
    for key in keys:
        nodes.append(heading(_title(key), 2))
        nodes.extend(section(key, package[key]))
    return doc(nodes)


def _join(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for i, n in enumerate(nodes):
        if i:
            out.append(text(" · "))
        out.append(n)
    return out


def plain_text(node: Any) -> str:
    """Every text in an ADF tree, blocks separated by newlines (for similarity search and previews)."""
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        inner = "".join(plain_text(c) for c in node.get("content", []) or [])
        block = node.get("type") in {"paragraph", "heading", "codeBlock", "tableRow", "listItem"}
        return inner + ("\n" if block else (" " if node.get("type") in {"tableCell", "tableHeader"} else ""))
    if isinstance(node, list):
        return "".join(plain_text(c) for c in node)
    return ""


_CHILDREN: dict[str, frozenset[str]] = {
    "doc": frozenset({"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "table", "rule"}),
    "bulletList": frozenset({"listItem"}),
    "orderedList": frozenset({"listItem"}),
    "listItem": frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"}),
    "table": frozenset({"tableRow"}),
    "tableRow": frozenset({"tableHeader", "tableCell"}),
    "tableHeader": frozenset({"paragraph"}),
    "tableCell": frozenset({"paragraph"}),
    "paragraph": frozenset({"text", "hardBreak"}),
    "heading": frozenset({"text", "hardBreak"}),
    "codeBlock": frozenset({"text"}),
}


def check_adf(node: Any, path: str = "doc") -> list[str]:
    """Problems Jira would reject (empty list when the tree is fine); each names its path in the tree."""
    problems: list[str] = []
    if not isinstance(node, dict) or "type" not in node:
        return [f"{path}: not a node"]
    kind = node["type"]
    if path == "doc" and (kind != "doc" or node.get("version") != 1):
        problems.append("doc: root must be {type: doc, version: 1}")
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            problems.append(f"{path}: text must be a non-empty string")
        elif _CONTROL.search(node["text"]):
            problems.append(f"{path}: control character in text")
        return problems
    if kind == "heading" and not 1 <= int(node.get("attrs", {}).get("level", 0)) <= 6:
        problems.append(f"{path}: heading level must be 1-6")
    allowed = _CHILDREN.get(kind)
    if allowed is None and kind not in {"hardBreak", "rule"}:
        problems.append(f"{path}: unknown node type {kind!r}")
    content = node.get("content", [])
    needs_content = {"bulletList", "orderedList", "listItem", "table", "tableRow", "tableCell", "tableHeader"}
    if kind in needs_content and not content:
        problems.append(f"{path}: {kind} needs content")
    for i, child in enumerate(content or []):
        cpath = f"{path}.{kind}[{i}]"
        ctype = child.get("type") if isinstance(child, dict) else None
        if allowed is not None and ctype not in allowed:
            problems.append(f"{cpath}: {ctype!r} not allowed inside {kind}")
        if kind == "codeBlock" and isinstance(child, dict) and child.get("marks"):
            problems.append(f"{cpath}: marks are not allowed in a code block")
        problems.extend(check_adf(child, cpath))
    return problems
