"""The notification outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("sink", sa.String(40), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("project", sa.Text()),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("handed_at", TIME),
        sa.Column("delivered_at", TIME),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", "sink", name="uq_outbox_event_id_sink"),
    )
    op.create_index("ix_outbox_kind_uid", "outbox", ["kind", "uid"])
    op.create_index("ix_outbox_delivered_at_created_at", "outbox", ["delivered_at", "created_at"])
    op.create_index("ix_outbox_handed_at_created_at", "outbox", ["handed_at", "created_at"])


def downgrade() -> None:
    op.drop_table("outbox")
