"""A test's dependency links, resolved whatever the order in which the chain's tests arrive.

A test that waited for a build (`BUILD#uid`, a bare uid) or an oebuild (`OEBUILD#uid`) carries
the link in its own payload. One that waited for a test (`TEST#uid`: a sanity test, which
waited for the build) gets that test's build_uid and oebuild_uid, followed as far as the chain
goes: pulled from the test it names when it is stored, and pushed to the tests that name it
(and to theirs) when that test is stored or linked later.

On PostgreSQL two workers may store a test and the test it waited for at once, each unable to
see the other's uncommitted row; `lock` serialises them on the named test's uid before either
writes, so that whichever commits second sees the first. SQLite's writers are serialised anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased

from shared.constants import MAX_CHAIN_LINKS
from shared.db.schema import outcomes

_o = outcomes.c
_parent = aliased(outcomes)
_named = and_(_parent.c.kind == "test", _parent.c.uid == _o.waiting_for_test)

# This test's links from the test it names, when that one has any.
_PULL = (
    update(outcomes)
    .where(_o.kind == "test", _o.uid == bindparam("l_uid"))
    .values(
        build_uid=select(_parent.c.build_uid).where(_named).scalar_subquery(),
        oebuild_uid=select(_parent.c.oebuild_uid).where(_named).scalar_subquery(),
    )
    .returning(_o.build_uid, _o.oebuild_uid)
)
# The tests that name one of `l_uids` get its links; returns their uids, to go on from.
_PUSH = (
    update(outcomes)
    .where(_o.kind == "test", _o.waiting_for_test.in_(bindparam("l_uids", expanding=True)))
    .where(or_(_o.build_uid.is_distinct_from(bindparam("l_build")),
               _o.oebuild_uid.is_distinct_from(bindparam("l_oebuild"))))
    .values(build_uid=bindparam("l_build"), oebuild_uid=bindparam("l_oebuild"))
    .returning(_o.uid)
)  # fmt: skip
# Two keys in the order given (PostgreSQL evaluates a select list left to right); the same key
# twice is held twice, which costs nothing more.
_LOCK = select(
    func.pg_advisory_xact_lock(func.hashtextextended(bindparam("l_first"), 0)),
    func.pg_advisory_xact_lock(func.hashtextextended(bindparam("l_second"), 0)),
)


def lock(conn: Connection, columns: dict[str, Any], uid: str) -> None:
    """Before a test is written on PostgreSQL: hold its uid, and the uid of the test it names,
    in one order for every worker, so that two never wait for each other."""
    if conn.dialect.name != "postgresql":
        return
    first, second = sorted((uid, columns.get("waiting_for_test") or uid))
    conn.execute(_LOCK, {"l_first": first, "l_second": second})


def resolve(conn: Connection, uid: str, columns: dict[str, Any]) -> None:
    """After a test was written: fill its links from the test it names, then pass them on."""
    build, oebuild = columns.get("build_uid"), columns.get("oebuild_uid")
    if columns.get("waiting_for_test"):
        build, oebuild = conn.execute(_PULL, {"l_uid": uid}).one()
    if build is None and oebuild is None:
        return
    waiting = [uid]
    for _ in range(MAX_CHAIN_LINKS):
        values = {"l_uids": waiting, "l_build": build, "l_oebuild": oebuild}
        waiting = list(conn.execute(_PUSH, values).scalars())
        if not waiting:
            return
        for key in sorted(waiting):
            lock(conn, {}, key)
