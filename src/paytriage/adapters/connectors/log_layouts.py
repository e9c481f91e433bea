"""Where a plain-text log line's timestamp, level and service are, in the layouts real systems write.

Why: an application's own export starts each line with ISO 8601, but what a team copies off a server
rarely does: syslog (``Dec 10 06:55:46 host sshd[24200]: ...``, no year), Apache's error log
(``[Sun Dec 04 04:47:44 2005] [error] ...``), a web server's access log
(``203.0.113.9 - - [10/Oct/2025:13:55:36 +0000] "GET / HTTP/1.1" 200 512``), Hadoop-family
(``081109 203615 148 INFO dfs.DataNode: ...``, ``17/06/09 20:10:40 INFO ...``), klog
(``I0604 12:34:56.789012 1 server.go:42] ...``), Android logcat, RFC 5424, nginx's error log, and
supercomputer RAS logs that lead with epoch seconds. A line none of them matches continues the
record above it (a stack trace), so a file read with the wrong idea of its layout becomes one
record, which is what this module prevents.

Each layout is a regular expression naming the timestamp's parts; the layout that matched the
previous line is tried first (a file keeps one layout). A layout without a year takes the latest
year that does not put the line more than a day after ``reference`` (when the file was last
written), as syslog readers do; without a zone a time is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["LineHead", "LineHeads", "severity_from_words"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
_LEVELS = r"TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG"
_LETTER_LEVELS = {"V": "DEBUG", "D": "DEBUG", "I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}

_MON = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DOW = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_TIME = r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
_FRAC = r"(?:[.,](?P<frac>\d{1,9}))?"
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2})"
_LEVEL_WORD = rf"(?P<level>{_LEVELS})\b"


@dataclass(frozen=True, slots=True)
class LineHead:
    """What the start of one log line says: when, how severe, which program, and the rest."""

    timestamp: datetime
    message: str
    level: str | None = None
    service: str | None = None
    layout: str = ""
    #: an access log's response status (its one severity: ``"GET /x HTTP/1.1" 502 173``)
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class _Layout:
    name: str
    pattern: re.Pattern[str]
    #: the service named by the layout's ``service`` group, tidied (``sshd(pam_unix)`` → ``sshd``)
    tidy: Callable[[str], str] = str.strip
    #: the layout never writes a severity (syslog's priority is not in the file): read it from words
    levelless: bool = False


#: Words that make a line without a written severity a warning (or, the first group, an error): what
#: log viewers do to colour such lines. Without it an sshd "Failed password" storm is all "info",
#: and only warnings and errors feed the log rate alerts.
_ERROR_WORDS = re.compile(r"\b(?:error|errors|exception|fatal|panic|critical|crash(?:ed)?|segfault)\b", re.I)
_WARNING_WORDS = re.compile(
    r"\b(?:fail(?:s|ed|ing|ure)?|denied|refused|rejected|invalid|time[d ]?out|timed out|unreachable|"
    r"unavailable|cannot|can't|unable|did not|abort(?:ed|ing)?|break-in|warn(?:ing)?)\b",
    re.I,
)


_ACCESS_STATUS = re.compile(r'"[^"]*"\s+(\d{3})\b')


def severity_from_words(message: str) -> str | None:
    """``ERROR``/``WARNING`` when a line's words say so, else None (for lines with no written level)."""
    if _ERROR_WORDS.search(message):
        return "ERROR"
    return "WARNING" if _WARNING_WORDS.search(message) else None


def _compile(body: str) -> re.Pattern[str]:
    return re.compile(r"^\s*" + body, re.DOTALL | re.IGNORECASE)


def _logger(bracket: str) -> str:
    """A log4j ``[thread:Class@line]`` bracket names its class (``QuorumPeer[myid=1]/0.0.0.0:2181:
    FastLeaderElection@774`` → ``FastLeaderElection``); any other bracket is the service as written."""
    m = re.search(r":([A-Za-z_][\w$.]*)@\d+$", bracket.strip())
    return m.group(1) if m else bracket.strip()


def _program(name: str) -> str:
    """A syslog program tag without its pid or facility: ``sshd(pam_unix)`` → ``sshd``."""
    return re.split(r"[(\[]", name.strip(), maxsplit=1)[0] or name.strip()


_ISO = (
    r"(?:<\d{1,3}>\d?\s*)?"  # RFC 5424 priority and version
    r"(?:\S+\.log\S*\s+)?"  # a file name in front (OpenStack's collected logs)
    rf"(?P<Y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}})[T ]{_TIME}{_FRAC}\s*{_TZ}?"
    r"[,\s]*(?:-\s+)?"
    rf"(?:(?P<logger>[\w.$-]{{1,128}})\s+-\s+(?=(?:{_LEVELS})\b))?"  # Python: "name - LEVEL - message"
    rf"(?:(?:\d+\s+)?{_LEVEL_WORD}[:\s]*(?:-\s+)?)?"
    r"(?:\[(?P<service>(?:[^\[\]]|\[[^\]]*\]){1,128})\]\s*)?"
    r"(?P<msg>.*)$"
)
_LAYOUTS: tuple[_Layout, ...] = (
    _Layout("iso8601", _compile(_ISO), _logger),
    _Layout(
        "syslog",
        _compile(
            rf"{_MON}\s+(?P<d>\d{{1,2}})\s+{_TIME}{_FRAC}\s+(?P<host>[^\s:]+)\s+"
            r"(?P<service>[^\s:\[]+(?:\[[^\]\s]*\])?):\s?(?P<msg>.*)$"
        ),
        _program,
        levelless=True,
    ),
    _Layout(
        "syslog-bare", _compile(rf"{_MON}\s+(?P<d>\d{{1,2}})\s+{_TIME}{_FRAC}\s+(?P<msg>.*)$"), levelless=True
    ),
    _Layout(
        "apache-error",
        _compile(
            rf"\[{_DOW} {_MON} (?P<d>\d{{1,2}}) {_TIME}{_FRAC} (?P<Y>\d{{4}})\]\s*"
            r"(?:\[(?:[\w.-]*:)?(?P<level>\w+)\]\s*)?(?P<msg>.*)$"
        ),
    ),
    _Layout(
        "common-log",
        _compile(
            rf"(?P<client>\S+) \S+ \S+ \[(?P<d>\d{{2}})/{_MON}/(?P<Y>\d{{4}}):{_TIME}{_FRAC} {_TZ}\]\s*"
            r"(?P<msg>.*)$"
        ),
        levelless=True,
    ),
    _Layout(
        "nginx-error",
        _compile(
            rf"(?P<Y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}}) {_TIME}{_FRAC}\s+"
            r"(?:\[(?P<level>\w+)\]\s*)?(?P<msg>.*)$"
        ),
    ),
    _Layout(
        "hadoop-compact",
        _compile(
            r"(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2}) (?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})\s+(?:\d+\s+)?"
            rf"{_LEVEL_WORD}\s+(?:(?P<service>[^\s:]+):\s)?(?P<msg>.*)$"
        ),
    ),
    _Layout(
        "yy/mm/dd",
        _compile(
            rf"(?P<y>\d{{2}})/(?P<m>\d{{2}})/(?P<d>\d{{2}}) {_TIME}{_FRAC}\s+(?:{_LEVEL_WORD}\s+)?"
            r"(?:(?P<service>[^\s:]+):\s)?(?P<msg>.*)$"
        ),
    ),
    _Layout(
        "compact-date",
        _compile(
            r"(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})-(?P<H>\d{1,2}):(?P<M>\d{1,2}):(?P<S>\d{1,2})"
            r"(?:[:.,](?P<frac>\d{1,6}))?"
            r"(?:\|(?P<service>[^|]{1,64})\|(?:\d+\|)?|\s+)(?P<msg>.*)$"
        ),
        levelless=True,
    ),
    _Layout(
        "klog",
        _compile(
            rf"(?P<letter>[IWEF])(?P<m>\d{{2}})(?P<d>\d{{2}}) {_TIME}{_FRAC}\s+\d+\s+"
            r"(?P<service>[^\]:\s]+)(?::\d+)?\]\s?(?P<msg>.*)$"
        ),
        lambda s: s.rsplit(".", 1)[0],
    ),
    _Layout(
        "logcat",
        _compile(
            rf"(?P<m>\d{{2}})-(?P<d>\d{{2}}) {_TIME}{_FRAC}\s+\d+\s+\d+\s+(?P<letter>[VDIWEF])\s+"
            r"(?P<service>[^:]+?)\s*:\s?(?P<msg>.*)$"
        ),
    ),
    _Layout(
        "mm.dd",
        _compile(rf"\[(?P<m>\d{{2}})\.(?P<d>\d{{2}}) {_TIME}{_FRAC}\]\s*(?P<msg>.*)$"),
        levelless=True,
    ),
    _Layout(
        "epoch-ras",
        _compile(r"(?P<label>\S+)\s+(?P<epoch>\d{9,10})\s+\d{4}\.\d{2}\.\d{2}\s+(?P<msg>.*)$"),
        levelless=True,
    ),
)


def _zone(text: str | None) -> timezone:
    if not text or text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _year(month: int, day: int, clock: tuple[int, int, int], reference: datetime) -> int:
    """The latest year that does not put month/day more than a day after ``reference``."""
    for year in range(reference.year, reference.year - 8, -1):  # 29 February: back to a leap year
        try:
            when = datetime(year, month, day, *clock, tzinfo=UTC)
        except ValueError:
            continue
        if when <= reference + timedelta(days=1):
            return year
    raise ValueError(f"no year puts {month:02d}-{day:02d} before {reference:%Y-%m-%d}")


def _timestamp(g: dict[str, str | None], reference: datetime) -> datetime:
    if g.get("epoch"):
        return datetime.fromtimestamp(int(str(g["epoch"])), UTC)
    month = _MONTHS[str(g["mon"]).lower()] if g.get("mon") else int(str(g["m"]))
    day = int(str(g["d"]))
    clock = (int(str(g["H"])), int(str(g["M"])), int(str(g["S"])))
    if g.get("Y"):
        year = int(str(g["Y"]))
    elif g.get("y"):
        year = 2000 + int(str(g["y"]))
    else:
        year = _year(month, day, clock, reference)
    micro = int((str(g["frac"]) + "000000")[:6]) if g.get("frac") else 0
    return datetime(year, month, day, *clock, micro, tzinfo=_zone(g.get("tz"))).astimezone(UTC)


class LineHeads:
    """Reads the head of each line of one file; remembers the layout that last matched.

    ``reference``: when the file was last written (a year-less timestamp is placed before it).
    """

    def __init__(self, reference: datetime | None = None) -> None:
        self.reference = (reference or datetime.now(UTC)).astimezone(UTC)
        self._last = 0

    def parse(self, text: str) -> LineHead | None:
        """The line's head, or None when no layout reads a valid timestamp at its start."""
        order = (self._last, *(i for i in range(len(_LAYOUTS)) if i != self._last))
        for i in order:
            layout = _LAYOUTS[i]
            m = layout.pattern.match(text)
            if m is None:
                continue
            g = m.groupdict()
            try:
                ts = _timestamp(g, self.reference)
            except (ValueError, OverflowError, OSError):  # 31 February, hour 25, epoch out of range
                continue
            self._last = i
            message = (g.get("msg") or "").strip()
            level = g.get("level") or _LETTER_LEVELS.get(str(g.get("letter") or "").upper())
            if level is None and layout.levelless:
                level = severity_from_words(message)
            service = g.get("service") or g.get("logger")
            status = _ACCESS_STATUS.match(message) if layout.name == "common-log" else None
            return LineHead(
                http_status=int(status.group(1)) if status else None,
                timestamp=ts,
                message=message,
                level=level,
                service=layout.tidy(service) or None if service else None,
                layout=layout.name,
            )
        return None

    def starts_record(self, text: str) -> bool:
        """A line with a timestamp head opens a log record; any other continues the one above."""
        return self.parse(text) is not None
