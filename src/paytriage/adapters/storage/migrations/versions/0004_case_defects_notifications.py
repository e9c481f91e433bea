"""Case ↔ defect links (kept when problems are regrouped) and draft customer notifications per defect.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_defects",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("defect_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_defects_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["defect_id"], ["defects.id"], name=op.f("fk_case_defects_defect_id_defects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "defect_id", name=op.f("pk_case_defects")),
    )
    with op.batch_alter_table("case_defects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_defects_defect_id"), ["defect_id"], unique=False)

    op.create_table(
        "defect_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("defect_id", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester", sa.String(length=320), nullable=False),
        sa.Column("requester_email", sa.String(length=320), nullable=True),
        sa.Column("organization", sa.String(length=256), nullable=True),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("ticket_ids", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["defect_id"],
            ["defects.id"],
            name=op.f("fk_defect_notifications_defect_id_defects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_defect_notifications")),
        sa.UniqueConstraint(
            "defect_id",
            "requester",
            "resolved_at",
            name=op.f("uq_defect_notifications_defect_id_requester_resolved_at"),
        ),
    )
    with op.batch_alter_table("defect_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_defect_notifications_defect_id"), ["defect_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_defect_notifications_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("defect_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_defect_notifications_status"))
        batch_op.drop_index(batch_op.f("ix_defect_notifications_defect_id"))
    op.drop_table("defect_notifications")
    with op.batch_alter_table("case_defects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_defects_defect_id"))
    op.drop_table("case_defects")
