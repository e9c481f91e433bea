"""E-mail delivery against a local aiosmtpd server: content, login, transient vs permanent replies."""

from __future__ import annotations

import email
from email import policy

import pytest
from tests.adapters.notify.receivers import smtp_receiver

from paytriage.adapters.notify import EmailSender, Notification
from paytriage.domain import ConfigurationError

MSG = Notification(
    "[paytriage] New problem: BIN 453912 declines (4 cases)", "Cases: 4\nOpen: http://x/problems/1"
)


def _sender(host: str, port: int, sleeps: list[float], **kw: object) -> EmailSender:
    return EmailSender(
        "oncall", host, "paytriage@example.com", ("t2@example.com", "lead@example.com"), port=port,
        starttls=False, sleep=sleeps.append, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_sends_a_plain_text_message() -> None:
    with smtp_receiver() as rec:
        sleeps: list[float] = []
        d = _sender(rec.host, rec.port, sleeps).send(MSG)
    assert (d.ok, d.attempts) == (True, 1)
    (m,) = rec.messages
    assert m["from"] == "paytriage@example.com" and m["to"] == ["t2@example.com", "lead@example.com"]
    parsed = email.message_from_string(m["data"], policy=policy.default)
    assert parsed["Subject"] == MSG.subject
    assert "Cases: 4" in parsed.get_content()


def test_logs_in_and_never_shows_the_password() -> None:
    with smtp_receiver(password="s3cr3t-pw") as rec:
        sleeps: list[float] = []
        sender = _sender(rec.host, rec.port, sleeps, username="bot", password="s3cr3t-pw")
        assert sender.send(MSG).ok
        bad = _sender(rec.host, rec.port, sleeps, username="bot", password="wrong", timeout_s=2.0, retries=0)
        d = bad.send(MSG)
    assert rec.logins[0][0] == "bot" and len(rec.messages) == 1
    assert not d.ok and d.error is not None
    assert "s3cr3t" not in repr(sender) and "wrong" not in (d.error or "")


def test_transient_reply_is_retried() -> None:
    with smtp_receiver() as rec:
        rec.replies = ["451 4.3.0 try again later", "250 OK"]
        sleeps: list[float] = []
        d = _sender(rec.host, rec.port, sleeps, backoff_s=0.1).send(MSG)
    assert (d.ok, d.attempts, sleeps) == (True, 2, [0.1])
    assert len(rec.messages) == 1


def test_permanent_reply_is_not_retried() -> None:
    with smtp_receiver() as rec:
        rec.replies = ["554 5.7.1 rejected"]
        sleeps: list[float] = []
        d = _sender(rec.host, rec.port, sleeps).send(MSG)
    assert (d.ok, d.attempts, sleeps) == (False, 1, [])
    assert d.error == "email oncall: SMTP 554 (not retried)"


def test_unreachable_server_is_retried_then_reported() -> None:
    with smtp_receiver() as rec:
        host, port = rec.host, rec.port
    sleeps: list[float] = []
    d = _sender(host, port, sleeps, retries=2).send(MSG)
    assert (d.ok, d.attempts, len(sleeps)) == (False, 3, 2)


@pytest.mark.parametrize(("sender", "to"), [("nobody", ("a@b.c",)), ("a@b.c", ()), ("a@b.c", ("nope",))])
def test_addresses_are_checked(sender: str, to: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError):
        EmailSender("x", "localhost", sender, to)
