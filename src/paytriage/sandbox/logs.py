"""Log files as services really write them: JSON lines for the API gateway and webhooks, and several
free-text formats (ISO + [service], Python logging, logback with stack traces, logfmt).

Lines are buffered per simulated hour, sorted by time and appended, so memory is bounded by one hour.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import orjson

__all__ = ["LOG_FILES", "LogSink", "compact_json", "fast_json_body", "iso", "iso_ms"]

#: file name -> timestamp style of that service's log.
LOG_FILES: dict[str, str] = {
    "gateway.jsonl": "json",
    "webhooks.jsonl": "json",
    "payments-core.log": "iso_ms",
    "acs-connector.log": "python",
    "refund-service.log": "logback",
    "payouts.log": "logfmt",
    "identity.log": "iso_ms",
    "kyc-service.log": "logback",
    "bank-connector.log": "logfmt",
}

_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
_MS = [f"{ms:03d}" for ms in range(1000)]
#: hour number -> "2026-01-05T10:" / "2026-01-05 10:"; filled lazily, emptied when it grows large.
_ISO_HOUR: dict[int, str] = {}
_SPACE_HOUR: dict[int, str] = {}


def _hour(h: int, cache: dict[int, str], fmt: str) -> str:
    if len(cache) > 4096:
        cache.clear()
    p = cache[h] = datetime.fromtimestamp(h * 3600, UTC).strftime(fmt)
    return p


def iso_ms(t: float) -> str:
    """``2026-01-05T10:00:01.123Z`` (milliseconds truncated)."""
    h, rem = divmod(int(t * 1000), 3_600_000)
    p = _ISO_HOUR.get(h) or _hour(h, _ISO_HOUR, "%Y-%m-%dT%H:")
    return f"{p}{_MMSS[rem // 1000]}.{_MS[rem % 1000]}Z"


def iso(t: float) -> str:
    """``2026-01-05T10:00:01Z``."""
    h, rem = divmod(int(t * 1000), 3_600_000)
    p = _ISO_HOUR.get(h) or _hour(h, _ISO_HOUR, "%Y-%m-%dT%H:")
    return f"{p}{_MMSS[rem // 1000]}Z"


def _stamp(t: float, style: str) -> str:
    if style == "iso_ms":
        return iso_ms(t)
    if style == "iso":
        return iso(t)
    h, rem = divmod(int(t * 1000), 3_600_000)
    p = _SPACE_HOUR.get(h) or _hour(h, _SPACE_HOUR, "%Y-%m-%d %H:")
    return f"{p}{_MMSS[rem // 1000]}{',' if style == 'python' else '.'}{_MS[rem % 1000]}"


_SLOW = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_PLAIN = frozenset({str, int, bool, type(None)})


def _orjson_safe(obj: Any) -> bool:
    """True when orjson prints ``obj`` exactly as :func:`json.dumps` would.

    They differ only on floats below 1e-4 or from 1e16 up (exponent spelling) and NaN/infinity;
    orjson raises on integers beyond 64 bits and lone surrogates, which :func:`compact_json` catches.
    Containers of plain values are cleared with one C-level pass over their element types.
    """
    kind = type(obj)
    if kind is float:
        return bool(obj == 0.0 or 1e-4 <= abs(obj) < 1e16)
    if kind is dict:
        obj = obj.values()
    elif kind is not list and kind is not tuple:
        return True
    if _PLAIN.issuperset(map(type, obj)):
        return True
    for v in obj:  # noqa: SIM110 - a plain loop skips the call per scalar, measurably faster
        if type(v) not in _PLAIN and not _orjson_safe(v):
            return False
    return True


def compact_json(obj: Any) -> str:
    """Byte-identical to ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``, via orjson."""
    if _orjson_safe(obj):
        try:
            return orjson.dumps(obj).decode()
        except (orjson.JSONEncodeError, TypeError):
            pass
    return _SLOW(obj)


def fast_json_body(record: dict[str, Any]) -> str:
    """The inside of a flat JSON object, byte-identical to :func:`json.dumps` (compact, non-ASCII kept)."""
    return compact_json(record)[1:-1]


_LINE = itemgetter(2)


class LogSink:
    """Hour-buffered writer for every log file; counts lines written."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._fh: dict[str, IO[str]] = {
            name: (directory / name).open("w", encoding="utf-8", newline="\n") for name in LOG_FILES
        }
        self._buf: dict[str, list[tuple[float, int, str]]] = {name: [] for name in LOG_FILES}
        self._seq = 0
        self.lines = 0

    def json(self, name: str, t: float, record: dict[str, Any], *, floats_checked: bool = False) -> None:
        """A JSON-lines record; ``ts`` is filled in from ``t`` (so a record may not carry its own).

        ``floats_checked``: the caller guarantees every float is 0 or within [1e-4, 1e16), so orjson's
        output equals json.dumps without the per-record scan (the hot gateway path).
        """
        if "ts" in record:
            raise ValueError("a log record's 'ts' is written by the sink from t")
        if floats_checked:
            try:
                body = orjson.dumps(record).decode()
            except (orjson.JSONEncodeError, TypeError):
                body = compact_json(record)
        else:
            body = compact_json(record)
        self._seq += 1
        rest = "," + body[1:] if len(body) > 2 else "}"
        self._buf[name].append((t, self._seq, '{"ts":"' + iso_ms(t) + '"' + rest))
        self.lines += 1  # JSON escapes newlines, so a record is always one line

    def text(
        self,
        name: str,
        t: float,
        level: str,
        message: str,
        *,
        service: str = "",
        logger: str = "",
        thread: str = "main",
        trace: tuple[str, ...] = (),
    ) -> None:
        """A free-text line in the file's own format (plus optional stack-trace continuation lines)."""
        style = LOG_FILES[name]
        if style == "iso_ms":
            line = f"{_stamp(t, style)} {level} [{service}] {message}"
        elif style == "python":
            line = f"{_stamp(t, style)} {level} {logger}: {message}"
        elif style == "logback":
            line = f"{_stamp(t, style)} {level:>5} [{thread}] {logger} - {message}"
        else:  # logfmt
            line = f'{_stamp(t, "iso")} level={level.lower()} service={service} msg="{message}"'
            if trace:
                line += " " + " ".join(trace)
                trace = ()
        if trace:
            line += "\n" + "\n".join(trace)
        self._push(name, t, line)

    def _push(self, name: str, t: float, line: str) -> None:
        self._seq += 1
        self._buf[name].append((t, self._seq, line))
        self.lines += 1 + line.count("\n")

    def flush(self, until: float | None = None) -> None:
        """Write buffered lines (all, or those before ``until``) in time order."""
        for name, buf in self._buf.items():
            if not buf:
                continue
            buf.sort()
            if until is None:
                keep: list[tuple[float, int, str]] = []
                out = buf
            else:
                cut = bisect_left(buf, (until,))  # first line at or after ``until``
                out, keep = buf[:cut], buf[cut:]
            if out:
                self._fh[name].write("\n".join(map(_LINE, out)) + "\n")
            self._buf[name] = keep

    def close(self) -> None:
        self.flush()
        for fh in self._fh.values():
            fh.close()
