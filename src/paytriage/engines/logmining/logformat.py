"""Log line formats in logparser's notation: ``'<Date> <Time> <Level> <Component>: <Content>'``.

Each ``<Name>`` is a field; the text between fields is literal (runs of spaces match any run of
whitespace). ``Content`` is the message the miner sees. A line that does not fit the format is not an
error: :meth:`LogFormat.parse` returns None and the caller decides (the CLI mines the whole line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CONTENT_FIELD", "LogFormat", "LogFormatError"]

CONTENT_FIELD = "Content"
_FIELD = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


class LogFormatError(ValueError):
    """A format string that cannot be used (no fields, repeated field, no Content)."""


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A compiled line format; ``fields`` in order of appearance."""

    spec: str
    fields: tuple[str, ...]
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, spec: str) -> LogFormat:
        parts = _FIELD.split(spec)
        fields = tuple(parts[1::2])
        if not fields:
            raise LogFormatError(f"format {spec!r} has no <Field> in it")
        if len(set(fields)) != len(fields):
            raise LogFormatError(f"format {spec!r} names a field twice")
        if CONTENT_FIELD not in fields:
            raise LogFormatError(f"format {spec!r} has no <{CONTENT_FIELD}> field")
        pattern = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                # Literal text; logparser writes brackets escaped (\[), so drop backslashes first.
                literal = part.replace("\\", "")
                pattern += r"\s+".join(re.escape(chunk) for chunk in re.split(r" +", literal))
            elif part == CONTENT_FIELD:
                pattern += f"(?P<{part}>.*?)"
            else:
                pattern += f"(?P<{part}>.*?)"
        return cls(spec=spec, fields=fields, regex=re.compile("^" + pattern + r"\s*$", re.DOTALL))

    def parse(self, line: str) -> dict[str, str] | None:
        """The fields of ``line``, or None when the line does not fit the format."""
        m = self.regex.match(line)
        return None if m is None else m.groupdict()

    def content(self, line: str) -> str | None:
        """Only the Content field (None when the line does not fit)."""
        m = self.regex.match(line)
        return None if m is None else m.group(CONTENT_FIELD)
