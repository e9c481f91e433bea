"""`paytriage serve`: the web app and JSON API on 127.0.0.1:8000, one process per CPU by default.

Each worker process builds its own app and fits the triage model *before* it accepts connections
(:func:`served_app`), so the first requests do not wait a second for it. The schema is brought to
head once, in the parent, so workers never race to migrate the same database.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from paytriage.config.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["default_workers", "register", "serve", "served_app"]


def default_workers() -> int:
    """One worker per CPU this process may use (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def served_app() -> FastAPI:
    """The app as each server worker builds it: settings from the environment, triage model warm."""
    from paytriage.adapters.web.app import create_app
    from paytriage.adapters.web.triage_api import warm

    app = create_app(get_settings())
    warm(app)
    return app


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Server processes (default: one per CPU).", show_default=False),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request (method, path, status).")
    ] = True,
) -> None:
    """Serve the Tier-2 queue page, the JSON API and its OpenAPI docs (/docs)."""
    import uvicorn

    from paytriage.adapters.storage.database import Database

    settings = get_settings()
    db = Database(settings.resolved_database_url)
    db.ensure_schema()
    db.dispose()
    uvicorn.run(
        f"{__name__}:served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or default_workers(),
        log_level="info",
        access_log=access_log,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
