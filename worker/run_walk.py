"""Walking an environment's compared runs from a place, forward or back, a page at a time.

Each page is one indexed range of `ix_compared_runs_env_key_run_time_uid`, after (or before)
the last run read, in (run_time, uid) order; the pages grow, since the run sought is nearly
always the next one. The queries are built once (worker/compare.py uses them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, Row, Select, String, bindparam, or_, select, tuple_

from shared.db.schema import compared_runs

_r = compared_runs.c
# Runs read at a time when walking from a run to its neighbours: the first page is small (the
# run next to it is nearly always the one sought), and each next one larger, up to the last.
_PAGES = (4, 16, 64, 256)

# A run of compared_runs, as read back.
Stored = Row[Any]


class Walk:
    """The runs of an environment after (or before) a place, read a page at a time."""

    def __init__(
        self,
        conn: Connection,
        env_key: str,
        at: datetime,
        uid: str,
        *,
        forward: bool,
        other_than: str | None = None,
    ) -> None:
        self.conn, self.env_key, self.forward = conn, env_key, forward
        # Leave out the runs of this commit in the query: many re-runs of one commit are not
        # read page after page.
        self.other_than = other_than
        self.start = (at, uid)
        self.seen: list[Stored] = []
        self.pages = 0
        self.done = False

    def __iter__(self) -> Iterator[Stored]:
        i = 0
        while True:
            if i == len(self.seen) and not self._more():
                return
            yield self.seen[i]
            i += 1

    def _more(self) -> bool:
        if self.done:
            return False
        at, uid = (self.seen[-1].run_time, self.seen[-1].uid) if self.seen else self.start
        size = _PAGES[min(self.pages, len(_PAGES) - 1)]
        query = _WALKS[(self.forward, self.other_than is not None)]
        params = {"env_key": self.env_key, "at": at, "uid": uid, "sha": self.other_than}
        page = self.conn.execute(query, {**params, "size": size}).all()
        self.pages += 1
        self.seen.extend(page)
        self.done = len(page) < size
        return bool(page)


def _walk(forward: bool, other_commit: bool) -> Select[Any]:
    # A row value, which both databases read as a range of the index.
    place = tuple_(_r.run_time, _r.uid)
    start = tuple_(bindparam("at", type_=_r.run_time.type), bindparam("uid", type_=String))
    if forward:
        beyond, order = place > start, (_r.run_time.asc(), _r.uid.asc())
    else:
        beyond, order = place < start, (_r.run_time.desc(), _r.uid.desc())
    query = select(compared_runs).where(_r.env_key == bindparam("env_key"), beyond)
    if other_commit:
        query = query.where(or_(_r.git_sha.is_(None), _r.git_sha != bindparam("sha")))
    return query.order_by(*order).limit(bindparam("size", type_=Integer))


# (forward, leaving out a commit's runs) -> the query of a page.
_WALKS = {(f, o): _walk(f, o) for f in (True, False) for o in (True, False)}
