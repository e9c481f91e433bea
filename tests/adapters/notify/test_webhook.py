"""Webhook delivery against a local HTTP receiver: retries, backoff, permanent errors, no leaked URL."""

from __future__ import annotations

import pytest
from tests.adapters.notify.receivers import http_receiver

from paytriage.adapters.notify import Notification, WebhookSender
from paytriage.adapters.notify.base import backoff_delays
from paytriage.domain import ConfigurationError

MSG = Notification("subject", "long body", {"text": "short", "blocks": [{"type": "section"}]})


def _sender(url: str, sleeps: list[float], **kw: float) -> WebhookSender:
    return WebhookSender("ops", url, sleep=sleeps.append, **kw)  # type: ignore[arg-type]


def test_posts_slack_compatible_json() -> None:
    with http_receiver() as rec:
        sleeps: list[float] = []
        d = _sender(rec.url, sleeps).send(MSG)
    assert (d.ok, d.attempts, sleeps) == (True, 1, [])
    assert rec.bodies == [{"text": "short", "blocks": [{"type": "section"}]}]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_failures_are_retried_with_backoff(status: int) -> None:
    with http_receiver() as rec:
        rec.script = [(status, {}, 0.0), (status, {}, 0.0), (200, {}, 0.0)]
        sleeps: list[float] = []
        d = _sender(rec.url, sleeps, backoff_s=0.25).send(MSG)
    assert (d.ok, d.attempts) == (True, 3)
    assert sleeps == [0.25, 0.5]
    assert len(rec.bodies) == 3


def test_retry_after_is_honoured() -> None:
    with http_receiver() as rec:
        rec.script = [(429, {"Retry-After": "7"}, 0.0), (200, {}, 0.0)]
        sleeps: list[float] = []
        assert _sender(rec.url, sleeps).send(MSG).ok
    assert sleeps == [7.0]


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_permanent(status: int) -> None:
    with http_receiver() as rec:
        rec.script = [(status, {}, 0.0)]
        sleeps: list[float] = []
        d = _sender(rec.url, sleeps).send(MSG)
    assert (d.ok, d.attempts, sleeps) == (False, 1, [])
    assert d.error == f"webhook ops: HTTP {status} (not retried)"


def test_gives_up_after_retries_and_never_names_the_secret_url() -> None:
    secret = "/services/T000/B000/XXXXsecretXXXX"
    with http_receiver(secret) as rec:
        rec.script = [(503, {}, 0.0)]
        sleeps: list[float] = []
        sender = _sender(rec.url, sleeps, retries=2)
        d = sender.send(MSG)
    assert (d.ok, d.attempts, len(sleeps)) == (False, 3, 2)
    assert d.error == "webhook ops: HTTP 503 after 3 attempts"
    assert "secret" not in repr(sender) and "secret" not in str(d)


def test_timeouts_are_retried() -> None:
    with http_receiver() as rec:
        rec.script = [(200, {}, 1.5), (200, {}, 0.0)]
        sleeps: list[float] = []
        d = _sender(rec.url, sleeps, timeout_s=0.2).send(MSG)
    assert (d.ok, d.attempts) == (True, 2)


def test_refused_connection_is_retried_then_reported() -> None:
    with http_receiver() as rec:
        url = rec.url
    sleeps: list[float] = []
    d = _sender(url, sleeps, retries=1).send(MSG)
    assert (d.ok, d.attempts) == (False, 2)
    assert d.error is not None and "127.0.0.1" not in d.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y", "hooks.slack.com/services/x", ""])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        WebhookSender("ops", url)


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff_delays(5, 1.0, cap_s=5.0) == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff_delays(0, 1.0) == []
