"""Problems: how the pipeline found a systemic problem (its bursts and the log alerts that explain it),
and the log alerts of the last detection run.

Existing rows get an empty record; the next ``paytriage problems detect`` fills both.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detection", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "log_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("first_alert", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_log_alerts_detected_at", "log_alerts", ["detected_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_log_alerts_detected_at", table_name="log_alerts")
    op.drop_table("log_alerts")
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_column("detection")
