"""LogEvent: one line of a gateway, service or webhook log, parsed into fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["LogEvent", "LogLevel"]


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @classmethod
    def parse(cls, value: str | None) -> LogLevel:
        if not value:
            return cls.INFO
        v = value.strip().lower()
        v = {
            "warn": "warning",
            "err": "error",
            "fatal": "critical",
            "crit": "critical",
            "trace": "debug",
            "notice": "info",
            "severe": "error",
        }.get(v, v)
        try:
            return cls(v)
        except ValueError:
            return cls.INFO


@dataclass(slots=True)
class LogEvent:
    """A log line. ``fingerprint`` identifies it so re-ingesting the same file adds nothing."""

    timestamp: datetime
    message: str
    source: str = "logs"
    service: str | None = None
    level: LogLevel = LogLevel.INFO
    transaction_id: str | None = None
    request_id: str | None = None
    merchant_id: str | None = None
    http_status: int | None = None
    error_code: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    template_id: str | None = None
    id: int | None = None
    customer_id: str | None = None
