"""Outbound notifications: Slack-compatible webhooks and SMTP e-mail, behind one tiny port."""

from __future__ import annotations

from paytriage.adapters.notify.base import Delivery, Notification, Sender
from paytriage.adapters.notify.email import EmailSender
from paytriage.adapters.notify.webhook import WebhookSender

__all__ = ["Delivery", "EmailSender", "Notification", "Sender", "WebhookSender"]
