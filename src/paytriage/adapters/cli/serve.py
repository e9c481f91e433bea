"""`paytriage serve`: the web app and JSON API on 127.0.0.1:8000."""

from __future__ import annotations

from typing import Annotated

import typer

from paytriage.config.settings import get_settings

__all__ = ["register", "serve"]


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Serve the Tier-2 queue page, the JSON API and its OpenAPI docs (/docs)."""
    import uvicorn

    from paytriage.adapters.web.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=host or settings.host, port=port or settings.port, log_level="info"
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
