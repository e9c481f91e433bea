"""The Alembic migrations and the ORM describe the same schema, on both backends.

A column added to ``orm.py`` without a migration (or the reverse) would work in tests that build the
schema one way and break an upgraded production database; autogenerate's comparison catches both.
"""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import Base


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_at_head_match_the_orm(db: Database) -> None:
    assert db.at_head()
    assert _differences(db) == []


def test_one_linear_history(db: Database) -> None:
    script = ScriptDirectory.from_config(db.alembic_config())
    assert len(script.get_heads()) == 1, "two migrations share a down_revision: renumber the newer one"
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None


def test_downgrade_to_base_and_back(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        cfg = db.alembic_config()
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.migrate()
        assert db.at_head()
        assert _differences(db) == []
    finally:
        db.dispose()
