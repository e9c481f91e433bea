"""Read labelled (or unlabelled) ticket texts from CSV or JSON Lines exports.

Zendesk and Jira exports differ in column names, so the caller names the text and label
columns. Errors name the file line and field; empty texts are rejected, not skipped, so a
training set never shrinks silently.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paytriage.domain.errors import InputError

__all__ = ["TextTable", "read_table"]


@dataclass(slots=True)
class TextTable:
    """Rows of an input file: the raw records (to write predictions back), texts and labels."""

    records: list[dict[str, str]]
    texts: list[str]
    labels: list[str] | None
    fieldnames: list[str]


def _fmt(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise InputError(f"{path.name}: unknown file type {suffix!r}; use .csv or .jsonl")


def _records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if _fmt(path) == "jsonl":
        rows: list[tuple[int, dict[str, str]]] = []
        names: dict[str, None] = {}
        for n, line in enumerate(raw.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON ({exc.msg})", line=n) from exc
            if not isinstance(obj, dict):
                raise InputError("each line must be a JSON object", line=n)
            rows.append((n, {str(k): "" if v is None else str(v) for k, v in obj.items()}))
            names.update(dict.fromkeys(obj))
        return rows, list(names)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(raw, newline=""), delimiter=delimiter)
    try:
        out = [(reader.line_num, {k: v or "" for k, v in row.items() if k is not None}) for row in reader]
    except csv.Error as exc:
        raise InputError(f"bad CSV ({exc})", line=reader.line_num) from exc
    return out, list(reader.fieldnames or [])


def read_table(
    path: Path, *, text_column: str, label_column: str | None = None, also: Sequence[str] = ()
) -> TextTable:
    """Texts (and labels when ``label_column`` is given) with line-numbered validation. ``also``:
    more text columns joined after ``text_column`` by a newline (a ticket's subject and description)."""
    rows, names = _records(path)
    if not rows:
        raise InputError(f"{path.name}: no rows")
    for col in (text_column, *also, label_column):
        if col is not None and col not in names:
            raise InputError(f"{path.name}: no column {col!r} (columns: {', '.join(names)})", field=col)
    texts: list[str] = []
    labels: list[str] = []
    for line, rec in rows:
        text = "\n".join(v for v in (rec.get(c, "").strip() for c in (text_column, *also)) if v)
        if not text:
            raise InputError("empty text", line=line, field=text_column)
        texts.append(text)
        if label_column is not None:
            label = rec.get(label_column, "").strip()
            if not label:
                raise InputError("empty label", line=line, field=label_column)
            labels.append(label)
    return TextTable(
        records=[r for _, r in rows],
        texts=texts,
        labels=labels if label_column is not None else None,
        fieldnames=names,
    )
