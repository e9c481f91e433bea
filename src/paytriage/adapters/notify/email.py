"""E-mail over SMTP (stdlib ``smtplib``/``email``): STARTTLS or implicit TLS, optional login.

Transient failures (dropped connection, timeout, 4xx replies) are retried with exponential
backoff; 5xx replies are permanent. The password is never part of a repr or an error.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from paytriage.adapters.notify.base import Delivery, Notification, Sleep, backoff_delays
from paytriage.domain import ConfigurationError

__all__ = ["EmailSender"]


@dataclass(frozen=True, slots=True)
class EmailSender:
    name: str
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    sleep: Sleep = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.to:
            raise ConfigurationError(f"email {self.name}: 'to' needs at least one address")
        if "@" not in self.sender or any("@" not in a for a in self.to):
            raise ConfigurationError(f"email {self.name}: sender and every 'to' must be e-mail addresses")

    def message(self, notification: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = notification.subject.replace("\n", " ")[:250]
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        msg.set_content(notification.text)
        return msg

    def _deliver(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.starttls and not self.implicit_tls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)

    def send(self, notification: Notification) -> Delivery:
        msg = self.message(notification)
        delays = backoff_delays(self.retries, self.backoff_s)
        error = "not sent"
        for attempt in range(1, len(delays) + 2):
            try:
                self._deliver(msg)
                return Delivery(self.name, True, attempt)
            except smtplib.SMTPAuthenticationError:
                return Delivery(self.name, False, attempt, f"email {self.name}: login refused (not retried)")
            except smtplib.SMTPResponseException as exc:
                error = f"SMTP {exc.smtp_code}"
                if not 400 <= exc.smtp_code < 500:
                    return Delivery(self.name, False, attempt, f"email {self.name}: {error} (not retried)")
            except smtplib.SMTPRecipientsRefused:
                return Delivery(self.name, False, attempt, f"email {self.name}: recipients refused")
            except (smtplib.SMTPException, TimeoutError, OSError) as exc:
                error = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            if attempt <= len(delays):
                self.sleep(delays[attempt - 1])
        attempts = len(delays) + 1
        return Delivery(self.name, False, attempts, f"email {self.name}: {error} after {attempts} attempts")
