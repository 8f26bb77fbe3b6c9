"""Per-case results of tests, fetched from TuxSuite's API, and the last fetch of each test.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _outcome_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["outcome_id"], ["outcomes.id"], name=f"fk_{table}_outcome_id_outcomes", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "test_cases",
        sa.Column("outcome_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("result", sa.Text()),
        _outcome_key("test_cases"),
        sa.PrimaryKeyConstraint("outcome_id", "name", name="pk_test_cases"),
    )
    op.create_table(
        "case_fetches",
        sa.Column("outcome_id", ID, nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        _outcome_key("case_fetches"),
        sa.PrimaryKeyConstraint("outcome_id", name="pk_case_fetches"),
    )


def downgrade() -> None:
    op.drop_table("case_fetches")
    op.drop_table("test_cases")
