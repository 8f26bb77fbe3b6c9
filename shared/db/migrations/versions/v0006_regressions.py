"""Regressions and fixes, compared as runs arrive (issue 15): compared_runs and regressions.

Outcomes stored before this revision are not compared: regressions start from the runs that
arrive after the upgrade (docs/workers.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "compared_runs",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("env_key", sa.String(64), nullable=False),
        sa.Column("environment", JSON, nullable=False),
        sa.Column("git_sha", sa.Text()),
        sa.Column("git_describe", sa.Text()),
        sa.Column("run_time", TIME, nullable=False),
        sa.Column("results", JSON, nullable=False),
    )
    op.create_index(
        "ix_compared_runs_env_key_run_time_uid", "compared_runs", ["env_key", "run_time", "uid"]
    )
    op.create_table(
        "regressions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("test", sa.Text(), nullable=False),
        sa.Column("env_key", sa.String(64), nullable=False),
        *(sa.Column(name, sa.Text()) for name in ("project", "device", "target_arch", "toolchain")),
        sa.Column("kconfig", JSON),
        *_run_columns("before"),
        *_run_columns("after"),
        sa.Column("detected_at", TIME, nullable=False),
        sa.Column("detected_by", sa.String(64), nullable=False),
        sa.Column("superseded_at", TIME),
        sa.Column("superseded_by", sa.String(64)),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "regressions", list(columns))


_INDEXES = {
    "ix_regressions_detected_at_id": ("detected_at", "id"),
    "ix_regressions_project_detected_at": ("project", "detected_at"),
    "ix_regressions_env_key_test_after_uid": ("env_key", "test", "after_uid"),
    "ix_regressions_detected_by": ("detected_by",),
    "ix_regressions_superseded_by": ("superseded_by",),
}


def _run_columns(side: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{side}_uid", sa.String(64), nullable=False),
        sa.Column(f"{side}_result", sa.String(16), nullable=False),
        sa.Column(f"{side}_git_sha", sa.Text()),
        sa.Column(f"{side}_git_describe", sa.Text()),
        sa.Column(f"{side}_time", TIME, nullable=False),
    ]


def downgrade() -> None:
    op.drop_table("regressions")
    op.drop_index("ix_compared_runs_env_key_run_time_uid", "compared_runs")
    op.drop_table("compared_runs")
