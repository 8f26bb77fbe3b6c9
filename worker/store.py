"""Record one delivery in one transaction: idempotent, and an outcome's state only moves forward.

The deliveries table is the ledger: a delivery already in it was stored by an earlier run of the
same job (an RQ retry, a redelivery, a worker that died after its commit), so nothing changes.
Otherwise one INSERT .. ON CONFLICT DO UPDATE .. WHERE <moves forward> (worker/forward.py)
either creates the outcome or replaces its content, atomically on both backends. When it does
neither, the delivery lost to a more advanced one stored before it, and is only counted, and
marked not applied in the ledger. A test's per-test results follow its applied deliveries.

PostgreSQL does all of it in one statement, one round trip (worker/chain.py: the pieces, and
why they stay correct when two workers store deliveries of one outcome at once). SQLite runs in
the worker's own process, where a round trip costs little, and has no data-modifying CTEs: it
runs the same steps as statements of their own, in a transaction that holds the database's
write lock from its start (BEGIN IMMEDIATE). Both write the same row, from `upsert_values`.

A finished build or test is then compared with its environment's runs (worker/compare.py), in
the delivery's transaction on both: on PostgreSQL, BEGIN, the delivery's statement, the
comparison, COMMIT. A test's links are resolved after that commit on PostgreSQL (they must see
what other workers committed meanwhile: worker/links.py), and the tests they gave a build to
are compared in the resolving transaction.

Statements are built once and given their values when executed: building a 40-column INSERT
for every job cost more than running it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Executable, bindparam, delete, update
from sqlalchemy.dialects import sqlite

from shared.db.schema import deliveries, outcomes, test_results
from worker import chain, links
from worker.compare import COMPARED_KINDS, compare
from worker.forward import earliest, upsert
from worker.notify.outbox import add_events, outbox_rows
from worker.outcome import Stored, Update

__all__ = ["Stored", "save", "upsert_values"]

_o, _d, _t = outcomes.c, deliveries.c, test_results.c

# RETURNING, not rowcount, which SQLAlchemy does not promise for an upsert.
_RECORD = sqlite.insert(deliveries).on_conflict_do_nothing().returning(_d.digest)


@cache
def _upsert(columns: tuple[str, ...]) -> Executable:
    return upsert(sqlite.insert(outcomes), columns).returning(_o.id, _o.deliveries)


_COUNT_STALE = (
    update(outcomes)
    .where(_o.kind == bindparam("o_kind"), _o.uid == bindparam("o_uid"))
    .values(
        deliveries=_o.deliveries + 1,
        updated_at=bindparam("o_now"),
        first_received_at=earliest(
            bindparam("o_received", type_=_o.first_received_at.type), _o.first_received_at
        ),
    )
)
_NOT_APPLIED = (
    update(deliveries)
    .where(
        _d.kind == bindparam("d_kind"),
        _d.uid == bindparam("d_uid"),
        _d.digest == bindparam("d_digest"),
    )
    .values(applied=False)
)
_DELETE_RESULTS = delete(test_results).where(_t.outcome_id == bindparam("outcome_id"))


def save(engine: Engine, change: Update) -> Stored:
    now = datetime.now(UTC)
    values = upsert_values(change, now)
    if engine.dialect.name == "postgresql":
        events = outbox_rows(change.events, now)
        then = comparing(change, now)
        done = chain.save(engine, values, change.digest, change.results, events, then)
        if links.linked(change.kind, change.columns):
            _resolve_links(engine, change, now, done)
        return done
    with engine.begin() as conn:
        if not _record_delivery(conn, change, now):
            return _resolved(conn, change, "duplicate")
        stored = conn.execute(_upsert(tuple(values)), values).one_or_none()
        if stored is None:
            _count_stale(conn, change, now)
            return _resolved(conn, change, "stale")
        if change.kind == "test":
            _replace_results(conn, stored.id, change, new=stored.deliveries == 1)
        # The outbox: an applied delivery's events, in the transaction that stores it.
        add_events(conn, change.events, now)
        done = _resolved(conn, change, "applied")
        if _compared(change):
            compare(conn, change.kind, change.uid, change.digest, now)
        return done


def _compared(change: Update) -> bool:
    """A build or test stored finished may be a run to compare (worker/compare.py)."""
    return change.kind in COMPARED_KINDS and change.columns.get("state") == "finished"


def comparing(change: Update, now: datetime) -> chain.Then | None:
    """PostgreSQL: the comparison of an applied delivery, in its statement's transaction."""
    if not _compared(change):
        return None

    def then(conn: Connection, done: Stored) -> None:
        if done == "applied":
            compare(conn, change.kind, change.uid, change.digest, now)

    return then


def _resolve_links(engine: Engine, change: Update, now: datetime, done: Stored) -> None:
    """PostgreSQL: a test's links, after its delivery's commit (worker/links.py), then the
    comparison of the tests they gave a build to. A delivery that was stored already (a job run
    again after its worker died between the two) resolves and compares in one transaction,
    whatever the links gave; a new one, the common case, resolves in one round trip and
    compares only when they gave some."""
    if done == "applied":
        if links.resolve_alone(engine, change.uid):
            with engine.begin() as conn:
                compare(conn, change.kind, change.uid, change.digest, now)
        return
    with engine.begin() as conn:
        links.resolve(conn, change.uid)
        compare(conn, change.kind, change.uid, change.digest, now)


def _resolved(conn: Connection, change: Update, stored: Stored) -> Stored:
    """A test's links, whatever became of its delivery (worker/links.py)."""
    if links.linked(change.kind, change.columns):
        links.resolve(conn, change.uid)
    return stored


def upsert_values(change: Update, now: datetime) -> dict[str, Any]:
    """The outcome's row as this delivery would insert it."""
    values = {
        "kind": change.kind,
        "uid": change.uid,
        "first_received_at": change.received_at,
        "updated_at": now,
        "deliveries": 1,
        **change.columns,
        "verified_by": change.verified_by,
        "auth": change.auth,
        "payload": change.payload,
    }
    if change.kind == "test":
        values["results_count"] = None if change.results is None else len(change.results)
    return values


def _record_delivery(conn: Connection, change: Update, now: datetime) -> bool:
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
    return conn.execute(_RECORD, row).scalar_one_or_none() is not None


def _count_stale(conn: Connection, change: Update, now: datetime) -> None:
    conn.execute(
        _COUNT_STALE,
        {
            "o_kind": change.kind,
            "o_uid": change.uid,
            "o_now": now,
            "o_received": change.received_at,
        },
    )
    keys = {"d_kind": change.kind, "d_uid": change.uid, "d_digest": change.digest}
    conn.execute(_NOT_APPLIED, keys)


def _replace_results(conn: Connection, outcome_id: int, change: Update, *, new: bool) -> None:
    if not new:
        conn.execute(_DELETE_RESULTS, {"outcome_id": outcome_id})
    if change.results:
        rows = [
            {"outcome_id": outcome_id, "name": name, "result": result}
            for name, result in change.results.items()
        ]
        conn.execute(test_results.insert(), rows)
