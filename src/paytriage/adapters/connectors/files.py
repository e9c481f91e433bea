"""Streaming readers for CSV, JSON, JSONL and Zendesk exports: yield ``(line_number, record)``.

Records are plain dicts; line numbers are 1-based lines of the input file (for CSV the header is
line 1, so the first data row is line 2) so errors can name the line a person opens in an editor.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import ijson

from paytriage.adapters.connectors.log_layouts import LineHeads
from paytriage.domain.errors import InputError

__all__ = ["FileFormat", "Record", "detect_format", "read_records", "read_text_log_records"]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
_WRAPPER_KEYS = ("tickets", "transactions", "logs", "records", "releases", "data", "results")


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    ZENDESK = "zendesk"
    TEXT = "text"


@dataclass(slots=True)
class Record:
    """One input record, or the reason it could not be read."""

    line: int
    data: dict[str, Any] | None
    raw: str
    error: str | None = None


def detect_format(path: Path) -> FileFormat:
    """By extension, then by the first line (a timestamped log line?), then by its first character."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return FileFormat.CSV
    if suffix in {".jsonl", ".ndjson"}:
        return FileFormat.JSONL
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        head = fh.read(4096).lstrip()
    if suffix != ".json" and head and LineHeads().starts_record(head.splitlines()[0]):
        return FileFormat.TEXT  # a log whose lines open with "[" ([Sun Dec 04 04:47:44 2005] [error] ...)
    if suffix == ".json" or head.startswith("["):
        return FileFormat.ZENDESK if head.startswith("{") and '"tickets"' in head else FileFormat.JSON
    if head.startswith("{"):
        first_line = head.splitlines()[0]
        try:
            json.loads(first_line)
        except json.JSONDecodeError:
            return FileFormat.ZENDESK if '"tickets"' in head else FileFormat.JSON
        return FileFormat.JSONL
    return FileFormat.TEXT


def read_records(path: Path, fmt: FileFormat | None = None) -> Iterator[Record]:
    """Stream records; an unreadable record is yielded with ``error`` set, never raised."""
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a file")
    fmt = fmt or detect_format(path)
    if fmt == FileFormat.CSV:
        yield from _read_csv(path)
    elif fmt == FileFormat.JSONL:
        yield from _read_jsonl(path)
    elif fmt in {FileFormat.JSON, FileFormat.ZENDESK}:
        yield from _read_json(path)
    else:
        raise InputError(f"{path.name}: not CSV, JSON or JSONL")


def read_text_log_records(path: Path, heads: LineHeads) -> Iterator[Record]:
    """Plain-text logs: a line starting with a timestamp (in any layout ``heads`` knows) opens a
    record; others continue it."""
    current: Record | None = None
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if heads.starts_record(line) or current is None:
                if current is not None:
                    yield current
                current = Record(line=n, data={"_text": line}, raw=line)
            else:
                assert current.data is not None
                current.data["_text"] += "\n" + line
                current.raw += "\n" + line
    if current is not None:
        yield current


def _read_csv(path: Path) -> Iterator[Record]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open("r", encoding="utf-8-sig", errors="strict", newline="") as fh:
        try:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start})", line=1) from None
        except csv.Error as exc:
            raise InputError(f"cannot read CSV header: {exc}", line=1) from None
        if not header:
            raise InputError("empty file: no header row", line=1)
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            raise InputError("duplicate column names in header", line=1)
        line = 1
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                yield Record(line=start, data=None, raw="", error="not UTF-8 text; stopped reading here")
                return
            except csv.Error as exc:
                yield Record(line=start, data=None, raw="", error=f"unreadable CSV row: {exc}")
                return
            line = start
            if not row or all(not c.strip() for c in row):
                continue
            raw = _csv_line(row, delimiter)
            if len(row) != len(header):
                yield Record(
                    line=line, data=None, raw=raw, error=f"expected {len(header)} columns, found {len(row)}"
                )
                continue
            yield Record(line=line, data=dict(zip(header, row, strict=True)), raw=raw)


def _csv_line(row: list[str], delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(row)
    return buf.getvalue()


def _read_jsonl(path: Path) -> Iterator[Record]:
    with path.open("rb") as fh:
        for n, raw_bytes in enumerate(fh, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError:
                yield Record(line=n, data=None, raw="", error="not valid UTF-8")
                continue
            stripped = raw.strip()
            if not stripped:
                continue
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                yield Record(
                    line=n, data=None, raw=stripped, error=f"invalid JSON: {exc.msg} at column {exc.colno}"
                )
                continue
            if not isinstance(obj, dict):
                yield Record(line=n, data=None, raw=stripped, error="expected a JSON object")
                continue
            yield Record(line=n, data=obj, raw=stripped)


def _json_items_prefix(path: Path) -> str | None:
    """Where the records are: ``item`` for a top-level list, ``<key>.item`` for a wrapping object."""
    with path.open("rb") as fh:
        for prefix, event, _value in ijson.parse(fh):
            if prefix == "" and event == "start_array":
                return "item"
            if prefix == "" and event == "start_map":
                continue
            if event == "start_array" and prefix in _WRAPPER_KEYS:
                return f"{prefix}.item"
    return None


def _read_json(path: Path) -> Iterator[Record]:
    """Stream the elements of a JSON array (bounded memory, via ijson); a single object is one record."""
    try:
        prefix = _json_items_prefix(path)
        if prefix is None:
            with path.open("rb") as fh:
                doc = json.load(fh)
            if not isinstance(doc, dict):
                raise InputError("expected a JSON list or object")
            yield Record(line=1, data=doc, raw=json.dumps(doc, ensure_ascii=False))
            return
        with path.open("rb") as fh:
            # JSON arrays have no natural line per element; the element's 1-based position is its "line".
            for n, obj in enumerate(ijson.items(fh, prefix, use_float=True), start=1):
                raw = json.dumps(obj, ensure_ascii=False, default=str)
                if not isinstance(obj, dict):
                    yield Record(line=n, data=None, raw=raw, error="expected a JSON object")
                else:
                    yield Record(line=n, data=obj, raw=raw)
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not valid UTF-8") from None
    except (ijson.JSONError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: invalid JSON ({exc})") from None
