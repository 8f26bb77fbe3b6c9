"""Faithful to TuxSuite, and total: final, plan_uid, notes, retries, links.

Adds the columns of issues 11 and 13, then fills every column of each stored outcome again from
its raw payload, by the rules of today's code (shared/outcome_fields.py): an old `canceled`
build stops being null, a count sent as "2" becomes 2, a `TEST#` chain is followed to its
build. Nothing is dropped; outcomes keep their ids, deliveries and times.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.constants import MAX_CHAIN_LINKS
from shared.field_values import FieldErrors, distinct
from shared.outcome_fields import columns, notes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True)
_BATCH = 500  # outcomes read and rewritten at a time

NEW_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("final", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("plan_uid", sa.String(64)),
    # field_errors and repairs (shared/db/schema.py)
    sa.Column("notes", JSON),
    sa.Column("git_short_log", sa.Text()),
    sa.Column("retry", sa.Integer()),
    sa.Column("status_message", sa.Text()),
    sa.Column("oebuild_uid", sa.String(64)),
    sa.Column("waiting_for_test", sa.String(64)),
    sa.Column("retries_messages", JSON),
    sa.Column("waited_by", JSON),
)
# The columns filled from payloads, as revision 0002 knows them: later revisions fill theirs.
FILLED = (
    "project", "state", "state_time", "result", "final", "plan_uid", "notes",
    "build_name", "build_status", "toolchain", "target_arch", "kconfig", "git_repo", "git_ref",
    "git_sha", "git_describe", "git_short_log", "kernel_version", "warnings_count",
    "errors_count", "build_duration", "retry", "status_message", "device", "tests",
    "waiting_for", "build_uid", "oebuild_uid", "waiting_for_test", "retries",
    "retries_messages", "machine", "distro", "targets", "sources", "waited_by", "name",
    "description", "duration", "download_url",
)  # fmt: skip


def upgrade() -> None:
    for column in NEW_COLUMNS:
        op.add_column("outcomes", column._copy())
    op.create_index("ix_outcomes_plan_uid", "outcomes", ["plan_uid"])
    op.create_index("ix_outcomes_waiting_for_test", "outcomes", ["waiting_for_test"])
    conn = op.get_bind()
    for rows in _batches(conn):
        conn.execute(_rewrite(conn), rows)
    _follow_chains(conn)


def _batches(conn: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    last = -1
    query = sa.text("SELECT id, kind, payload FROM outcomes WHERE id > :last ORDER BY id LIMIT :n")
    while rows := conn.execute(query, {"last": last, "n": _BATCH}).all():
        yield [_filled(row.id, row.kind, row.payload) for row in rows]
        last = rows[-1].id


def _filled(outcome_id: int, kind: str, payload: str) -> dict[str, Any]:
    errors: FieldErrors = []
    status = json.loads(payload).get("status", {})
    row = dict.fromkeys(FILLED) | columns(kind, status, errors)
    row["notes"] = notes(distinct(errors), [])
    return {"b_id": outcome_id, **{name: row[name] for name in FILLED}}


def _rewrite(conn: sa.Connection) -> sa.Update:
    table = sa.Table("outcomes", sa.MetaData(), autoload_with=conn)

    def bound(name: str) -> sa.BindParameter[Any]:
        # Reflected JSON writes None as JSON 'null'; the store means SQL NULL (schema.py).
        reflected = table.c[name].type
        return sa.bindparam(name, type_=JSON if isinstance(reflected, sa.JSON) else reflected)

    values = {name: bound(name) for name in FILLED}
    return table.update().where(table.c.id == sa.bindparam("b_id")).values(values)


def _follow_chains(conn: sa.Connection) -> None:
    """Give each test that waited for a test the build (or oebuild) at the end of its chain."""
    follow = sa.text(
        "UPDATE outcomes SET "
        "build_uid = (SELECT p.build_uid FROM outcomes p "
        "  WHERE p.kind = 'test' AND p.uid = outcomes.waiting_for_test), "
        "oebuild_uid = (SELECT p.oebuild_uid FROM outcomes p "
        "  WHERE p.kind = 'test' AND p.uid = outcomes.waiting_for_test) "
        "WHERE kind = 'test' AND waiting_for_test IS NOT NULL "
        "AND build_uid IS NULL AND oebuild_uid IS NULL "
        "AND EXISTS (SELECT 1 FROM outcomes p WHERE p.kind = 'test' "
        "  AND p.uid = outcomes.waiting_for_test "
        "  AND (p.build_uid IS NOT NULL OR p.oebuild_uid IS NOT NULL))"
    )
    for _ in range(MAX_CHAIN_LINKS):
        if conn.execute(follow).rowcount == 0:
            break


def downgrade() -> None:
    op.drop_index("ix_outcomes_waiting_for_test", "outcomes")
    op.drop_index("ix_outcomes_plan_uid", "outcomes")
    for column in reversed(NEW_COLUMNS):
        op.drop_column("outcomes", column.name)
