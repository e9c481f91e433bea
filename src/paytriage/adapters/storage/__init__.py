"""Storage adapter: SQLAlchemy 2 ORM, Alembic migrations, repositories. SQLite by default, PostgreSQL supported."""
