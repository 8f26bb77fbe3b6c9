"""Record one delivery in one transaction: idempotent, and an outcome's state only moves forward.

The deliveries table is the ledger: a delivery already in it was stored by an earlier run of the
same job (an RQ retry, a redelivery, a worker that died after its commit), so nothing changes.
Otherwise one INSERT .. ON CONFLICT DO UPDATE .. WHERE <moves forward> either creates the
outcome or replaces its content, atomically on both backends. When it does neither, the
delivery lost to a more advanced one stored before it, and is only counted.

Statements are built once and given their values when executed: building a 40-column INSERT
for every job cost more than running it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Insert,
    and_,
    bindparam,
    case,
    delete,
    literal_column,
    or_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from shared.constants import STATES
from shared.db.schema import deliveries, outcomes, test_results
from worker import links
from worker.compare import COMPARED_KINDS, compare
from worker.outcome import Update

# What a job did: stored its payload, only counted it (a more advanced one was there), or nothing.
Stored = Literal["applied", "stale", "duplicate"]

_o, _d, _t = outcomes.c, deliveries.c, test_results.c
_RANKS = {state: rank for rank, state in enumerate(STATES, start=1)}


def _rank(state: ColumnElement[str]) -> ColumnElement[int]:
    # SQL literals, not parameters: psycopg caches the parsing of queries up to 50 parameters.
    whens: list[tuple[ColumnElement[bool], ColumnElement[int]]] = [
        (state == literal_column(f"'{s}'"), literal_column(str(r))) for s, r in _RANKS.items()
    ]
    rank: ColumnElement[int] = case(*whens, else_=literal_column("0"))
    return rank


def _earliest(a: ColumnElement[datetime], b: ColumnElement[datetime]) -> ColumnElement[datetime]:
    return case((a < b, a), else_=b)


def _moves_forward(old: Any, new: Any) -> ColumnElement[bool]:
    """The rule: a later state, or the same state at an equal or later time by the payload's own
    clock. A missing time counts as the earliest; a tie goes to the newcomer, so that a
    corrected redelivery of the same state is shown."""
    return or_(
        _rank(new.state) > _rank(old.state),
        and_(
            _rank(new.state) == _rank(old.state),
            or_(old.state_time.is_(None), new.state_time >= old.state_time),
        ),
    )


@cache
def _record(dialect_name: str) -> Executable:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # RETURNING, not rowcount: SQLAlchemy 2.1 reports -1 for this statement on psycopg.
    stmt: Executable = dialect.insert(deliveries).on_conflict_do_nothing().returning(_d.digest)
    return stmt


# Set on insert only; an update counts the delivery and keeps the earliest receipt instead.
_INSERT_ONLY = frozenset({"kind", "uid", "first_received_at", "updated_at", "deliveries"})


@cache
def upsert(dialect_name: str, columns: tuple[str, ...]) -> Insert:
    """Insert the outcome, or replace its content if this delivery moves it forward.
    Returns (id, deliveries) when it did either, nothing when the delivery is stale.

    psycopg re-parses a query of more than 4096 bytes at every execution; keep it shorter."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    insert = dialect.insert(outcomes)
    new = insert.excluded
    stmt: Insert = insert.on_conflict_do_update(
        index_elements=["kind", "uid"],
        set_={
            **{name: new[name] for name in columns if name not in _INSERT_ONLY},
            "deliveries": _o.deliveries + 1,
            "updated_at": new.updated_at,
            "first_received_at": _earliest(new.first_received_at, _o.first_received_at),
        },
        where=_moves_forward(_o, new),
    ).returning(_o.id, _o.deliveries)
    return stmt


_COUNT_STALE = (
    update(outcomes)
    .where(_o.kind == bindparam("o_kind"), _o.uid == bindparam("o_uid"))
    .values(
        deliveries=_o.deliveries + 1,
        updated_at=bindparam("o_now"),
        first_received_at=_earliest(
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
    with engine.begin() as conn:
        if change.kind == "test":
            links.lock(conn, change.columns, change.uid)
        if not _record_delivery(conn, change, now):
            return "duplicate"
        values = upsert_values(change, now)
        stored = conn.execute(upsert(conn.dialect.name, tuple(values)), values).one_or_none()
        if stored is None:
            _count_stale(conn, change, now)
            return "stale"
        if change.kind == "test":
            _replace_results(conn, stored.id, change, new=stored.deliveries == 1)
            links.resolve(conn, change.uid, change.columns)
        if change.kind in COMPARED_KINDS and change.columns.get("state") == "finished":
            compare(conn, change.kind, change.uid, change.digest, now)
        return "applied"


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
    return conn.execute(_record(conn.dialect.name), row).scalar_one_or_none() is not None


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
