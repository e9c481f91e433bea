"""The FastAPI application: API under /api, pages at /, static assets served locally."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from paytriage import __version__
from paytriage.adapters.storage.database import Database
from paytriage.adapters.web import (
    api,
    defects_api,
    escalation_api,
    investigation_api,
    pages,
    problem_pages,
    problems_api,
    triage_api,
)
from paytriage.config.settings import Settings, get_settings
from paytriage.domain import InputError, InvalidTransitionError, NotFoundError, PaytriageError
from paytriage.engines.triage.config import DEFAULT_CONFIG_DIR, load_taxonomy

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = database or Database(settings.resolved_database_url)
    db.ensure_schema()
    app = FastAPI(
        title="paytriage",
        version=__version__,
        description="Tier-2 payments support: tickets, cases, triage, investigation.",
    )
    app.state.db = db
    app.state.settings = settings
    app.state.category_names = set(load_taxonomy(DEFAULT_CONFIG_DIR / "taxonomy.yaml").names())

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidTransitionError)
    def _conflict(_: Request, exc: InvalidTransitionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(InputError)
    def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "line": exc.line, "field": exc.field}, status_code=422)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the offending input (which may hold a card number) and fails with a
        # server error on bytes that are not UTF-8; say where and what, never the value.
        errors = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(PaytriageError)
    def _other(_: Request, exc: PaytriageError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(api.router)
    app.include_router(triage_api.router)
    app.include_router(investigation_api.router)
    app.include_router(escalation_api.router)
    app.include_router(defects_api.router)
    app.include_router(pages.router)
    app.include_router(problems_api.router)
    app.include_router(problem_pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    return app
