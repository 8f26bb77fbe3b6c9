"""Record one delivery in one transaction: idempotent, and an outcome's state only moves forward.

The deliveries table is the ledger: a delivery already in it was stored by an earlier run of the
same job (an RQ retry, a redelivery, a worker that died after its commit), so nothing changes.

Statements are built once and given their values when executed: building a 40-column INSERT
for every job cost more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Executable, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.db.schema import deliveries, outcomes, test_results
from shared.db.timestamps import as_utc
from worker.outcome import Progress, Update, supersedes

# What a job did: stored its payload, only counted it (a more advanced one was there), or nothing.
Stored = Literal["applied", "stale", "duplicate"]

_o, _d, _t = outcomes.c, deliveries.c, test_results.c

_LOCK_OUTCOME = (
    select(_o.id, _o.state, _o.state_time, _o.first_received_at, _o.results_count)
    .where(_o.kind == bindparam("kind"), _o.uid == bindparam("uid"))
    .with_for_update()  # PostgreSQL: one delivery of an outcome at a time. SQLite: a no-op.
)
# The SET clause also takes whichever columns the execution passes.
_UPDATE_OUTCOME = (
    update(outcomes).where(_o.id == bindparam("outcome_id")).values(deliveries=_o.deliveries + 1)
)
_DELETE_RESULTS = delete(test_results).where(_t.outcome_id == bindparam("outcome_id"))
_NOT_APPLIED = (
    update(deliveries)
    .where(
        _d.kind == bindparam("d_kind"),
        _d.uid == bindparam("d_uid"),
        _d.digest == bindparam("d_digest"),
    )
    .values(applied=False)
)


@dataclass(frozen=True)
class _Inserts:
    """INSERT .. ON CONFLICT DO NOTHING RETURNING, compiled for one dialect."""

    delivery: Executable
    outcome: Executable


@cache
def _inserts(dialect_name: str) -> _Inserts:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return _Inserts(
        # RETURNING, not rowcount: SQLAlchemy 2.1 reports -1 for these on psycopg.
        delivery=dialect.insert(deliveries).on_conflict_do_nothing().returning(_d.digest),
        outcome=dialect.insert(outcomes)
        .on_conflict_do_nothing(index_elements=["kind", "uid"])
        .returning(_o.id),
    )


def save(engine: Engine, change: Update) -> Stored:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        inserts = _inserts(conn.dialect.name)
        if not _record_delivery(conn, inserts, change, now):
            return "duplicate"
        outcome_id = _insert_new(conn, inserts, change, now)
        if outcome_id is not None:
            _write_results(conn, outcome_id, change)
            return "applied"
        return _update_existing(conn, change, now)


def _record_delivery(conn: Connection, inserts: _Inserts, change: Update, now: datetime) -> bool:
    """Add the delivery to the ledger; False when it was there already."""
    row = {
        "kind": change.kind,
        "uid": change.uid,
        "digest": change.digest,
        "received_at": change.received_at,
        "processed_at": now,
        "verified_by": change.verified_by,
        "applied": True,
    }
    return conn.execute(inserts.delivery, row).scalar_one_or_none() is not None


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


def _insert_new(conn: Connection, inserts: _Inserts, change: Update, now: datetime) -> int | None:
    """Insert the outcome if it is the first of its (kind, uid); its id, else None."""
    row = {
        "kind": change.kind,
        "uid": change.uid,
        "first_received_at": change.received_at,
        "updated_at": now,
        "deliveries": 1,
        **_content(change),
    }
    outcome_id: int | None = conn.execute(inserts.outcome, row).scalar_one_or_none()
    return outcome_id


def _update_existing(conn: Connection, change: Update, now: datetime) -> Stored:
    current = conn.execute(_LOCK_OUTCOME, {"kind": change.kind, "uid": change.uid}).one()
    stored = Progress(current.state, current.state_time and as_utc(current.state_time))
    applies = supersedes(change.progress, stored)
    values: dict[str, Any] = {
        "outcome_id": current.id,
        "updated_at": now,
        "first_received_at": min(as_utc(current.first_received_at), change.received_at),
    }
    conn.execute(_UPDATE_OUTCOME, values | _content(change) if applies else values)
    if not applies:
        keys = {"d_kind": change.kind, "d_uid": change.uid, "d_digest": change.digest}
        conn.execute(_NOT_APPLIED, keys)
        return "stale"
    if current.results_count:
        conn.execute(_DELETE_RESULTS, {"outcome_id": current.id})
    _write_results(conn, current.id, change)
    return "applied"


def _write_results(conn: Connection, outcome_id: int, change: Update) -> None:
    if change.results:
        rows = [
            {"outcome_id": outcome_id, "name": name, "result": result}
            for name, result in change.results.items()
        ]
        conn.execute(test_results.insert(), rows)
