"""Log files as services really write them: JSON lines for the API gateway and webhooks, and several
free-text formats (ISO + [service], Python logging, logback with stack traces, logfmt).

Lines are buffered per simulated hour, sorted by time and appended, so memory is bounded by one hour.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

__all__ = ["LOG_FILES", "LogSink", "fast_json_body", "iso", "iso_ms"]

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
}

_hour_cache: dict[str, tuple[int, str]] = {}


def _prefix(t: float, style: str) -> str:
    h = int(t * 1000) // 3_600_000
    hit = _hour_cache.get(style)
    if hit is not None and hit[0] == h:
        return hit[1]
    d = datetime.fromtimestamp(h * 3600, UTC)
    p = d.strftime("%Y-%m-%dT%H:" if style in ("iso_ms", "iso") else "%Y-%m-%d %H:")
    _hour_cache[style] = (h, p)
    return p


_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
_MS = [f"{ms:03d}" for ms in range(1000)]


def _stamp(t: float, style: str) -> str:
    p = _prefix(t, style)
    ms_total = int(t * 1000)
    sec = ms_total // 1000
    mmss = _MMSS[sec % 3600]
    if style == "iso":
        return f"{p}{mmss}Z"
    ms = _MS[ms_total % 1000]
    if style == "iso_ms":
        return f"{p}{mmss}.{ms}Z"
    return f"{p}{mmss}{',' if style == 'python' else '.'}{ms}"


def iso_ms(t: float) -> str:
    """``2026-01-05T10:00:01.123Z``."""
    return _stamp(t, "iso_ms")


def iso(t: float) -> str:
    """``2026-01-05T10:00:01Z``."""
    return _stamp(t, "iso")


_SLOW = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def fast_json_body(record: dict[str, Any]) -> str:
    """The inside of a flat JSON object, byte-identical to :func:`json.dumps` (compact, non-ASCII kept).

    The hot path: plain strings are quoted directly, anything needing escapes goes through json.
    """
    parts = []
    for k, v in record.items():
        if v is True:
            parts.append(f'"{k}":true')
        elif v is False:
            parts.append(f'"{k}":false')
        elif isinstance(v, str) and '"' not in v and "\\" not in v and v.isprintable():
            parts.append(f'"{k}":"{v}"')
        elif isinstance(v, int | float) and not isinstance(v, bool) and v == v:
            parts.append(f'"{k}":{v!r}')
        else:
            parts.append(f'"{k}":{_SLOW(v)}')
    return ",".join(parts)


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

    def json(self, name: str, t: float, record: dict[str, Any]) -> None:
        """A JSON-lines record; ``ts`` is filled in from ``t``."""
        self._push(name, t, f'{{"ts":"{iso_ms(t)}",{fast_json_body(record)}}}')

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
                cut = next((k for k, item in enumerate(buf) if item[0] >= until), len(buf))
                out, keep = buf[:cut], buf[cut:]
            if out:
                self._fh[name].write("\n".join(line for _, _, line in out) + "\n")
            self._buf[name] = keep

    def close(self) -> None:
        self.flush()
        for fh in self._fh.values():
            fh.close()
