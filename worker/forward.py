"""The forward-only rule and the outcome upsert it guards, the same SQL on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, case, literal_column, or_
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from shared.constants import STATES
from shared.db.schema import outcomes

_o = outcomes.c
_Insert = TypeVar("_Insert", PostgresInsert, SqliteInsert)
_RANKS = {state: rank for rank, state in enumerate(STATES, start=1)}

# Set on insert only; an update counts the delivery and keeps the earliest receipt instead.
_INSERT_ONLY = frozenset({"kind", "uid", "first_received_at", "updated_at", "deliveries"})


def _rank(state: ColumnElement[str]) -> ColumnElement[int]:
    """Twice the state's rank (moves_forward adds one for a time that is not earlier).
    SQL literals, not parameters: a parameter per state would only lengthen the statement."""
    ranks: list[tuple[ColumnElement[str], ColumnElement[int]]] = [
        (literal_column(f"'{s}'"), literal_column(str(2 * r))) for s, r in _RANKS.items()
    ]
    rank: ColumnElement[int] = case(*ranks, value=state, else_=literal_column("0"))
    return rank


class _Earliest(GenericFunction[datetime]):
    """The earlier of two times: LEAST on PostgreSQL, SQLite's two-argument min()."""

    inherit_cache = True
    name = "least"
    type = _o.first_received_at.type


@compiles(_Earliest, "sqlite")
def _sqlite_earliest(element: _Earliest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


def earliest(a: ColumnElement[datetime], b: ColumnElement[datetime]) -> ColumnElement[datetime]:
    return _Earliest(a, b)


def moves_forward(old: Any, new: Any) -> ColumnElement[bool]:
    """The rule: a later state, or the same state at an equal or later time by the payload's own
    clock. A missing time counts as the earliest; a tie goes to the newcomer, so that a
    corrected redelivery of the same state is shown.

    Written as 2 * rank(new) + (1 if the time is not earlier) > 2 * rank(old), which is the
    same, with each state's rank written once: the statement stays within psycopg's cache."""
    not_earlier = or_(old.state_time.is_(None), new.state_time >= old.state_time)
    one: ColumnElement[int] = case((not_earlier, literal_column("1")), else_=literal_column("0"))
    return _rank(new.state) + one > _rank(old.state)


def upsert(insert: _Insert, columns: Sequence[str]) -> _Insert:
    """`insert` (of the outcome's `columns`) made the upsert: it inserts the outcome, or
    replaces its content if this delivery moves it forward. When it does neither, the delivery
    is stale: the row is locked, not changed, and RETURNING gives nothing.

    psycopg re-parses a query of more than 4096 bytes at every execution; keep it shorter."""
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["kind", "uid"],
        set_={
            **{name: new[name] for name in columns if name not in _INSERT_ONLY},
            "deliveries": _o.deliveries + literal_column("1"),
            "updated_at": new.updated_at,
            "first_received_at": earliest(new.first_received_at, _o.first_received_at),
        },
        where=moves_forward(_o, new),
    )
