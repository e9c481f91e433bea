"""Slack-compatible incoming webhooks over HTTP(S) POST with a JSON body (stdlib ``urllib``).

Retries 5xx, 429 (honouring a short ``Retry-After``), timeouts and connection errors with
exponential backoff; any other 4xx is permanent. The URL is a secret (Slack puts the token in
the path), so errors name the channel and the status, never the URL.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from paytriage.adapters.notify.base import Delivery, Notification, Sleep, backoff_delays
from paytriage.domain import ConfigurationError

__all__ = ["WebhookSender"]

_MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True, slots=True)
class WebhookSender:
    name: str
    url: str = field(repr=False)
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    sleep: Sleep = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"webhook {self.name}: url must be an http(s) URL")

    def _post(self, body: bytes) -> int:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "paytriage"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            response.read()
            return int(response.status)

    def send(self, notification: Notification) -> Delivery:
        """POST the payload (``text`` always present); retry what may succeed later."""
        payload = {"text": notification.text, **notification.payload}
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        delays = backoff_delays(self.retries, self.backoff_s)
        error = "not sent"
        for attempt in range(1, len(delays) + 2):
            wait: float | None = None
            try:
                self._post(body)
                return Delivery(self.name, True, attempt)
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    return Delivery(self.name, False, attempt, f"webhook {self.name}: {error} (not retried)")
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after and retry_after.strip().isdigit():
                    wait = min(float(retry_after), _MAX_RETRY_AFTER_S)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                error = "timed out" if isinstance(reason, TimeoutError) else type(reason).__name__
            if attempt <= len(delays):
                self.sleep(wait if wait is not None else delays[attempt - 1])
        attempts = len(delays) + 1
        return Delivery(self.name, False, attempts, f"webhook {self.name}: {error} after {attempts} attempts")
