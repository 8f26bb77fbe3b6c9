"""A test's dependency links, resolved whatever the order in which the chain's tests arrive.

A test that waited for a build (`BUILD#uid`, a bare uid) or an oebuild (`OEBUILD#uid`) carries
the link in its own payload. One that waited for a test (`TEST#uid`: a sanity test, which
waited for the build) gets the links of the first test up its chain that has any, and passes
them down to the tests that wait for it, and to theirs: one statement, `RESOLVE`, run for every
delivery of a test, after the delivery's own write.

Why after, and in a snapshot of its own: two workers may store a test and the test it waited
for at once, each unable to see the other's uncommitted row. On PostgreSQL the delivery's write
commits first (worker/chain.py, one statement of its own), and `RESOLVE` runs next, on a new
snapshot. Whichever of the chain's tests commits last resolves after all of them are visible:
walking up from it finds the link, walking down reaches every test below. A worker that dies
between the two leaves its job to be run again, and a duplicate delivery resolves too. On
SQLite writers are serialised, and `RESOLVE` runs in the delivery's transaction.
tests/store/test_link_races.py stores both ends of chains with two workers at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Update,
    bindparam,
    cast,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy import update as update_

from shared.constants import MAX_CHAIN_LINKS
from shared.db.schema import outcomes
from shared.outcome_fields import LINK_COLUMNS

_o = outcomes.c
_DEPTH: ColumnElement[int] = literal_column(str(MAX_CHAIN_LINKS))


def _statement() -> Update:
    this = cast(bindparam("l_uid"), _o.uid.type)
    zero: ColumnElement[int] = literal_column("0")
    # Up the chain from this test to the first that has a link.
    start_up = select(
        _o.uid, _o.waiting_for_test.label("parent"), _o.build_uid, _o.oebuild_uid,
        zero.label("depth"),
    ).where(_o.kind == "test", _o.uid == this)  # fmt: skip
    up = start_up.cte("up", recursive=True)
    p = outcomes.alias("p")
    up = up.union_all(
        select(p.c.uid, p.c.waiting_for_test, p.c.build_uid, p.c.oebuild_uid, up.c.depth + 1)
        .where(p.c.kind == "test", p.c.uid == up.c.parent, up.c.depth < _DEPTH)
        .where(up.c.build_uid.is_(None), up.c.oebuild_uid.is_(None))
    )
    has_link = or_(up.c.build_uid.is_not(None), up.c.oebuild_uid.is_not(None))
    link = (
        select(up.c.build_uid, up.c.oebuild_uid)
        .where(has_link)
        .order_by(up.c.depth)
        .limit(1)
        .cte("link")
    )
    # Down from this test to every test that waits for it, however far.
    down = select(this.label("uid"), zero.label("depth")).cte("down", recursive=True)
    w = outcomes.alias("w")
    down = down.union_all(
        select(w.c.uid, down.c.depth + 1).where(
            w.c.kind == "test", w.c.waiting_for_test == down.c.uid, down.c.depth < _DEPTH
        )
    )
    build = select(link.c.build_uid).scalar_subquery()
    oebuild = select(link.c.oebuild_uid).scalar_subquery()
    return (
        update_(outcomes)
        .where(_o.kind == "test", _o.uid.in_(select(down.c.uid)))
        .where(_o.waiting_for_test.is_not(None), exists(select(link.c.build_uid)))
        .where(or_(_o.build_uid.is_distinct_from(build), _o.oebuild_uid.is_distinct_from(oebuild)))
        .values(build_uid=build, oebuild_uid=oebuild)
    )


RESOLVE = _statement()


def linked(kind: str, columns: dict[str, Any]) -> bool:
    """Whether a delivery can change a link: a test that names a build, an oebuild or a test.
    One that names none has nothing to pull and nothing to pass on."""
    return kind == "test" and any(columns.get(name) for name in LINK_COLUMNS)


def resolve(conn: Connection, uid: str) -> int:
    """Fill the links of test `uid` and of the tests below it in its chain: how many it gave."""
    return conn.execute(RESOLVE, {"l_uid": uid}).rowcount


def resolve_alone(engine: Engine, uid: str) -> int:
    """`resolve` as a statement of its own, after the delivery's commit (PostgreSQL): one round
    trip, no BEGIN, no COMMIT, as worker/chain.py's statement."""
    with engine.connect() as conn:
        return resolve(conn.execution_options(isolation_level="AUTOCOMMIT"), uid)
