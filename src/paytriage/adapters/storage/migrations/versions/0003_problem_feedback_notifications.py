"""People's feedback on problems (merge/split/rename/status) and the notifications sent per problem.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problem_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("other_case_ids", sa.JSON(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_feedback")),
    )
    with op.batch_alter_table("problem_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_feedback_at"), ["at"], unique=False)

    op.create_table(
        "problem_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_notifications")),
    )
    with op.batch_alter_table("problem_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_notifications_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("problem_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_notifications_at"))
    op.drop_table("problem_notifications")
    with op.batch_alter_table("problem_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_feedback_at"))
    op.drop_table("problem_feedback")
