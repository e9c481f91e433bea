"""Shared HTTP plumbing for the SaaS connectors: retries, rate limits, timeouts, errors and secrets.

Jira and Zendesk fail the same ways (401, 404, 429 with ``Retry-After``, 5xx, timeouts), so both connectors
send through one :class:`RetryingTransport` and raise one error hierarchy:

    PaytriageError
    └── ConnectorError          a remote call failed; names the service, method, path and status
        ├── CredentialsError    credentials missing or malformed (env or secrets file)
        ├── AuthError           401/403: wrong token or missing permission (never retried)
        ├── RemoteNotFoundError 404: the key/id does not exist remotely
        ├── RateLimitedError    429 still returned after every retry; ``retry_after`` seconds
        ├── RemoteServerError   5xx still returned after every retry
        └── ConnectorTimeoutError    the remote did not answer in time (after retries when safe)

Why a hand-written loop rather than a retry library: the rule that matters here is not "retry N times" but
"retry a write only when it provably did not happen", which needs the caller's ``already_applied`` check
between attempts. Messages carry the request path only, never headers, so a token cannot leak through an
exception or a log line; secrets are held in :class:`pydantic.SecretStr`, whose repr is masked.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from paytriage.domain.errors import PaytriageError

__all__ = [
    "AuthError",
    "ConnectorError",
    "ConnectorTimeoutError",
    "CredentialsError",
    "RateLimitedError",
    "RemoteNotFoundError",
    "RemoteServerError",
    "RetryPolicy",
    "RetryingTransport",
    "parse_retry_after",
    "read_secret_values",
]

logger = logging.getLogger("paytriage.connectors")


class ConnectorError(PaytriageError):
    """A call to Jira or Zendesk failed. ``status`` is the HTTP status when there was one."""

    def __init__(
        self, message: str, *, service: str, method: str = "", path: str = "", status: int | None = None
    ) -> None:
        self.message = message
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" -> {self.status}" if self.status is not None else ""
        return (
            f"{self.service}: {where}{status}: {self.message}" if where else f"{self.service}: {self.message}"
        )


class CredentialsError(ConnectorError):
    """Credentials are missing or malformed; the message names the variable, never its value."""


class AuthError(ConnectorError):
    """401 or 403."""


class RemoteNotFoundError(ConnectorError):
    """404."""


class RateLimitedError(ConnectorError):
    """429 after every retry; ``retry_after`` is the server's last hint in seconds."""

    retry_after: float | None = None


class RemoteServerError(ConnectorError):
    """5xx after every retry."""


class ConnectorTimeoutError(ConnectorError):
    """No answer in time."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Backoff for 5xx/timeouts is ``backoff_base * 2**n`` capped at ``backoff_max``;
    a 429's ``Retry-After`` is obeyed up to ``max_retry_after`` seconds (longer means give up and say so)."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_max, self.backoff_base * (2**attempt)))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent/bad."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class RetryingTransport:
    """Sends requests through an ``httpx.Client`` and turns failures into :class:`ConnectorError`.

    ``sleep`` is injectable so tests of Retry-After and backoff run instantly yet still assert the waits.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        service: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.service = service
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.waits: list[float] = []

    def __repr__(self) -> str:
        return f"RetryingTransport(service={self.service!r}, base_url={str(self.client.base_url)!r})"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call that is safe to repeat (reads, PUTs that set a value): retried on 429, 5xx, timeouts."""
        response = self._send(method, path, already_applied=lambda: False, idempotent=True, **kwargs)
        assert response is not None
        return response

    def request_effect(
        self, method: str, path: str, *, already_applied: Callable[[], bool], **kwargs: Any
    ) -> httpx.Response | None:
        """A call with a side effect that must happen once (post a comment, create an issue).

        A 429 is always retried: the server refused before acting. After an ambiguous failure (timeout,
        5xx) ``already_applied()`` is asked first; when it says the effect is there, None is returned
        instead of repeating it.
        """
        return self._send(method, path, already_applied=already_applied, idempotent=False, **kwargs)

    def _error(
        self, cls: type[ConnectorError], message: str, method: str, path: str, status: int | None
    ) -> Any:
        return cls(message, service=self.service, method=method, path=path, status=status)

    def _send(
        self,
        method: str,
        path: str,
        *,
        already_applied: Callable[[], bool],
        idempotent: bool,
        **kwargs: Any,
    ) -> httpx.Response | None:
        policy = self.policy
        ambiguous = False
        last_retry_after: float | None = None
        for attempt in range(policy.max_attempts):
            if ambiguous and not idempotent and already_applied():
                logger.info("%s %s %s: already applied, not repeated", self.service, method, path)
                return None
            ambiguous = False
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                logger.warning("%s %s %s: timeout (attempt %d)", self.service, method, path, attempt + 1)
                ambiguous = True
                if attempt + 1 >= policy.max_attempts:
                    raise self._error(
                        ConnectorTimeoutError, "no answer in time", method, path, None
                    ) from None
                self._wait(policy.backoff(attempt))
                continue
            except httpx.TransportError as exc:
                raise self._error(
                    ConnectorError, f"cannot connect ({type(exc).__name__})", method, path, None
                ) from None
            status = response.status_code
            logger.debug("%s %s %s -> %d (attempt %d)", self.service, method, path, status, attempt + 1)
            if status < 400:
                return response
            if status in (401, 403):
                raise self._error(AuthError, _brief(response), method, path, status)
            if status == 404:
                raise self._error(RemoteNotFoundError, _brief(response), method, path, status)
            if status == 429:
                last_retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = policy.backoff(attempt) if last_retry_after is None else last_retry_after
                if wait > policy.max_retry_after or attempt + 1 >= policy.max_attempts:
                    err = self._error(RateLimitedError, "rate limited; retry later", method, path, status)
                    err.retry_after = last_retry_after
                    raise err
                logger.info("%s %s %s: 429, waiting %.1fs", self.service, method, path, wait)
                self._wait(wait)
                continue
            if status in _RETRYABLE_STATUS:
                ambiguous = True
                hinted = parse_retry_after(response.headers.get("Retry-After"))
                wait = policy.backoff(attempt) if hinted is None else min(hinted, policy.max_retry_after)
                if attempt + 1 >= policy.max_attempts:
                    raise self._error(RemoteServerError, _brief(response), method, path, status)
                logger.warning("%s %s %s -> %d, retrying in %.1fs", self.service, method, path, status, wait)
                self._wait(wait)
                continue
            raise self._error(ConnectorError, _brief(response), method, path, status)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)


def _brief(response: httpx.Response) -> str:
    """The remote's own error text (Jira ``errorMessages``/``errors``, Zendesk ``error``/``description``)."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("errorMessages", "error", "description", "message"):
            v = body.get(key)
            if isinstance(v, list):
                parts.extend(str(x) for x in v)
            elif isinstance(v, dict):
                parts.append(str(v.get("title") or v.get("message") or v))
            elif v:
                parts.append(str(v))
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts.extend(f"{k}: {v}" for k, v in errors.items())
    text = "; ".join(parts) or response.reason_phrase or f"HTTP {response.status_code}"
    return text[:300]


def read_secret_values(
    names: Mapping[str, str], *, service: str, secrets_file: Path | None = None
) -> dict[str, SecretStr]:
    """Read ``{field: ENV_VAR}`` from the environment, falling back to a YAML secrets file.

    The secrets file (``--secrets-file`` or ``PAYTRIAGE_SECRETS_FILE``) is a mapping with the same
    variable names as keys, e.g. ``PAYTRIAGE_JIRA_TOKEN: ...``. Missing values raise
    :class:`CredentialsError` naming the variables; values are wrapped at once so nothing prints them.
    """
    file_values: dict[str, Any] = {}
    path = secrets_file or (
        Path(os.environ["PAYTRIAGE_SECRETS_FILE"]) if os.environ.get("PAYTRIAGE_SECRETS_FILE") else None
    )
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CredentialsError(
                f"cannot read secrets file {path}: {type(exc).__name__}", service=service
            ) from None
        if not isinstance(loaded, dict):
            raise CredentialsError(f"secrets file {path} must be a mapping of NAME: value", service=service)
        file_values = loaded
    out: dict[str, SecretStr] = {}
    missing: list[str] = []
    for field, env in names.items():
        value = os.environ.get(env) or file_values.get(env)
        if value in (None, ""):
            missing.append(env)
        else:
            out[field] = SecretStr(str(value).strip())
    if missing:
        raise CredentialsError(
            f"missing {', '.join(missing)} (set in the environment or a secrets file)", service=service
        )
    return out
