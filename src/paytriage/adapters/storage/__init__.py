"""Storage adapter: SQLAlchemy 2 ORM, Alembic migrations, repositories (SQLite default, PostgreSQL)."""
