"""Shared fixtures: databases on SQLite and on a real PostgreSQL server started for the test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from paytriage.adapters.storage.database import Database
from tests.pg_server import PostgresServer, find_pg_bin

SHARED_DATA = Path(
    os.environ.get("PAYTRIAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    if find_pg_bin() is None:
        if os.environ.get("PAYTRIAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL binaries not found; install Debian's postgresql package")
        pytest.skip("PostgreSQL binaries not found")
    server = PostgresServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def _new_pg_database(base_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    base: str = request.getfixturevalue("pg_base_url")
    return _new_pg_database(base)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the CLI at a private SQLite file."""
    from paytriage.config.settings import get_settings

    monkeypatch.setenv("PAYTRIAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAYTRIAGE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data" / "paytriage.db"
    get_settings.cache_clear()
