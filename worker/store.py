"""Record one delivery in one transaction: idempotent, and an outcome's state only moves forward.

The deliveries table is the ledger: a delivery already in it was stored by an earlier run of the
same job (an RQ retry, a redelivery, a worker that died after its commit), so nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.db.schema import deliveries, outcomes, test_results
from shared.db.timestamps import as_utc
from worker.outcome import Progress, Update, supersedes

# What a job did: stored its payload, only counted it (a more advanced one was there), or nothing.
Stored = Literal["applied", "stale", "duplicate"]


def save(engine: Engine, change: Update) -> Stored:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if not _record_delivery(conn, change, now):
            return "duplicate"
        outcome_id = _insert_new(conn, change, now)
        if outcome_id is not None:
            _write_results(conn, outcome_id, change)
            return "applied"
        return _update_existing(conn, change, now)


def _insert(conn: Connection, table: Table) -> Any:
    """INSERT with ON CONFLICT: the same API on both dialects, compiled for the one in use."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _record_delivery(conn: Connection, change: Update, now: datetime) -> bool:
    """Add the delivery to the ledger; False when it was there already."""
    stmt = _insert(conn, deliveries).values(
        kind=change.kind,
        uid=change.uid,
        digest=change.digest,
        received_at=change.received_at,
        processed_at=now,
        verified_by=change.verified_by,
        applied=True,
    )
    # RETURNING, not rowcount: SQLAlchemy 2.1 reports -1 for this statement on psycopg.
    added = conn.execute(stmt.on_conflict_do_nothing().returning(deliveries.c.digest))
    return added.scalar_one_or_none() is not None


def _content(change: Update) -> dict[str, Any]:
    """The columns a delivery's payload sets, when it is the most advanced one seen."""
    content = {
        **change.columns,
        "state": change.progress.state,
        "state_time": change.progress.time,
        "verified_by": change.verified_by,
        "auth": change.auth,
        "payload": change.payload,
    }
    if change.kind == "test":
        content["results_count"] = None if change.results is None else len(change.results)
    return content


def _insert_new(conn: Connection, change: Update, now: datetime) -> int | None:
    """Insert the outcome if it is the first of its (kind, uid); its id, else None."""
    stmt = (
        _insert(conn, outcomes)
        .values(
            kind=change.kind,
            uid=change.uid,
            first_received_at=change.received_at,
            updated_at=now,
            deliveries=1,
            **_content(change),
        )
        .on_conflict_do_nothing(index_elements=["kind", "uid"])
        .returning(outcomes.c.id)
    )
    outcome_id: int | None = conn.execute(stmt).scalar_one_or_none()
    return outcome_id


def _update_existing(conn: Connection, change: Update, now: datetime) -> Stored:
    c = outcomes.c
    current = conn.execute(
        select(c.id, c.state, c.state_time, c.first_received_at)
        .where(c.kind == change.kind, c.uid == change.uid)
        .with_for_update()  # PostgreSQL: one delivery of an outcome at a time. SQLite: no-op.
    ).one()
    stored = Progress(current.state, current.state_time and as_utc(current.state_time))
    applies = supersedes(change.progress, stored)
    values: dict[str, Any] = {
        "deliveries": c.deliveries + 1,
        "updated_at": now,
        "first_received_at": min(as_utc(current.first_received_at), change.received_at),
    }
    if applies:
        values |= _content(change)
    conn.execute(update(outcomes).where(c.id == current.id).values(values))
    if not applies:
        _mark_not_applied(conn, change)
        return "stale"
    if change.kind == "test":
        conn.execute(delete(test_results).where(test_results.c.outcome_id == current.id))
        _write_results(conn, current.id, change)
    return "applied"


def _write_results(conn: Connection, outcome_id: int, change: Update) -> None:
    if change.results:
        rows = [
            {"outcome_id": outcome_id, "name": name, "result": result}
            for name, result in change.results.items()
        ]
        conn.execute(test_results.insert(), rows)


def _mark_not_applied(conn: Connection, change: Update) -> None:
    d = deliveries.c
    conn.execute(
        update(deliveries)
        .where(d.kind == change.kind, d.uid == change.uid, d.digest == change.digest)
        .values(applied=False)
    )
