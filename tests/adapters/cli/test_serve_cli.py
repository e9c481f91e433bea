"""`paytriage serve`: worker count, the factory each worker runs, schema migrated once in the parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from paytriage.adapters.cli import serve as serve_cli
from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.triage_api import get_batcher

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()
    serve_cli.register(a)

    @a.command("noop")
    def _noop() -> None:  # a second command keeps Typer in multi-command mode, as in the real root app
        """Nothing."""

    return a


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    return calls


def test_workers_default_to_cpus_and_the_factory_is_used(
    app: typer.Typer, cli_env: Path, uvicorn_calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    res = runner.invoke(app, ["serve", "--port", "8123"])
    assert res.exit_code == 0, res.output
    (args, kwargs) = uvicorn_calls[0]
    assert args == ("paytriage.adapters.cli.serve:served_app",) and kwargs["factory"] is True
    assert kwargs["workers"] == serve_cli.default_workers() >= 1
    assert kwargs["port"] == 8123 and kwargs["access_log"] is True
    assert Database(f"sqlite:///{cli_env}").at_head()  # migrated before any worker starts


def test_workers_and_access_log_options(
    app: typer.Typer, cli_env: Path, uvicorn_calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    res = runner.invoke(app, ["serve", "--workers", "3", "--no-access-log"])
    assert res.exit_code == 0, res.output
    assert uvicorn_calls[0][1]["workers"] == 3 and uvicorn_calls[0][1]["access_log"] is False
    assert runner.invoke(app, ["serve", "--workers", "0"]).exit_code == 2


def test_served_app_is_warm(cli_env: Path) -> None:
    served = serve_cli.served_app()
    batcher = get_batcher(served)
    assert batcher.tickets == 0 and batcher.ready  # built before the first request


def test_help(app: typer.Typer) -> None:
    res = runner.invoke(app, ["serve", "--help"])
    assert res.exit_code == 0 and "--workers" in res.output
