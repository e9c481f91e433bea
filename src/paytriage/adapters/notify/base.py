"""The notification port: a message, a sender, and what became of one delivery.

Senders retry transient failures themselves (5xx, 429, timeouts, dropped connections) with
exponential backoff and never put a secret (webhook URL, SMTP password) in an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Delivery", "Notification", "Sender", "backoff_delays"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message in the forms channels want: a subject, plain text, and a JSON payload."""

    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outcome of sending one notification on one channel."""

    channel: str
    ok: bool
    attempts: int
    error: str | None = None


class Sender(Protocol):
    """Anything that can deliver a :class:`Notification`; ``name`` identifies the channel."""

    @property
    def name(self) -> str: ...

    def send(self, notification: Notification) -> Delivery: ...


def backoff_delays(retries: int, base_s: float, cap_s: float = 30.0) -> list[float]:
    """Waits before retry 1..n: ``base, 2·base, 4·base, …`` capped at ``cap_s``."""
    return [min(cap_s, base_s * 2**i) for i in range(max(0, retries))]


Sleep = Callable[[float], None]
