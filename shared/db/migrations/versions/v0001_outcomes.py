"""Outcomes, per-test results and deliveries.

Revision ID: 0001
Revises:
Create Date: 2025-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)
TIME = sa.DateTime(timezone=True)


def _text(*names: str) -> list[sa.Column[Any]]:
    return [sa.Column(name, sa.Text()) for name in names]


def _outcome_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("project", sa.Text()),
        sa.Column("state", sa.String(16)),
        sa.Column("state_time", TIME),
        sa.Column("result", sa.String(16)),
        sa.Column("first_received_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("verified_by", sa.Text(), nullable=False),
        sa.Column("auth", JSON, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("build_name", sa.Text()),
        sa.Column("build_status", sa.String(16)),
        *_text("toolchain", "target_arch"),
        sa.Column("kconfig", JSON),
        *_text("git_repo", "git_ref", "git_sha", "git_describe", "kernel_version"),
        sa.Column("warnings_count", sa.Integer()),
        sa.Column("errors_count", sa.Integer()),
        sa.Column("build_duration", sa.Float()),
        sa.Column("device", sa.Text()),
        sa.Column("tests", JSON),
        sa.Column("waiting_for", sa.Text()),
        sa.Column("build_uid", sa.String(64)),
        sa.Column("retries", sa.Integer()),
        sa.Column("results_count", sa.Integer()),
        *_text("machine", "distro"),
        sa.Column("targets", JSON),
        sa.Column("sources", JSON),
        *_text("name", "description"),
        sa.Column("duration", sa.Float()),
        sa.Column("download_url", sa.Text()),
    ]


def upgrade() -> None:
    op.create_table(
        "outcomes",
        *_outcome_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
        sa.UniqueConstraint("kind", "uid", name="uq_outcomes_kind_uid"),
    )
    op.create_index("ix_outcomes_updated_at_id", "outcomes", ["updated_at", "id"])
    op.create_index("ix_outcomes_project_updated_at", "outcomes", ["project", "updated_at"])
    op.create_index("ix_outcomes_device_updated_at", "outcomes", ["device", "updated_at"])
    op.create_index("ix_outcomes_build_uid", "outcomes", ["build_uid"])
    op.create_table(
        "test_results",
        sa.Column("outcome_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("result", sa.Text()),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["outcomes.id"],
            name="fk_test_results_outcome_id_outcomes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outcome_id", "name", name="pk_test_results"),
    )
    op.create_table(
        "deliveries",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("processed_at", TIME, nullable=False),
        sa.Column("verified_by", sa.Text(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "uid", "digest", name="pk_deliveries"),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("test_results")
    op.drop_table("outcomes")
