"""`paytriage sandbox` commands (placeholder until its issue lands; owned by that issue's work)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
