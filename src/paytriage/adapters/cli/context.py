"""What every command needs: settings and an open, migrated database."""

from __future__ import annotations

from paytriage.adapters.storage.database import Database
from paytriage.config.settings import Settings, get_settings

__all__ = ["open_database"]


def open_database(settings: Settings | None = None) -> Database:
    """The configured database, migrated to the newest schema."""
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url)
    db.ensure_schema()
    return db
