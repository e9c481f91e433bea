"""Log events: a customer id column and indexes on the ids pulled out of free-text lines at ingest.

Existing rows keep NULL ids until ``paytriage logs reindex`` re-reads their messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_log_events_merchant_time", ["merchant_id", "timestamp"], unique=False)
        batch_op.create_index("ix_log_events_customer_time", ["customer_id", "timestamp"], unique=False)
        batch_op.create_index("ix_log_events_level_time", ["level", "timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.drop_index("ix_log_events_level_time")
        batch_op.drop_index("ix_log_events_customer_time")
        batch_op.drop_index("ix_log_events_merchant_time")
        batch_op.drop_column("customer_id")
