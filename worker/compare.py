"""Regressions and fixes, compared in the transaction that stores the run, whatever the order.

`compare` runs in the transaction that stores a delivery of a finished build or test
(worker/store.py), that gives tests their build link (PostgreSQL, worker/store.py), or that
stores a test's fetched cases (worker/case_store.py), and is given the digest of what it
stores: the transitions it records or supersedes are marked with it (shared/db/regressions.py's
transitions_of reads them back).

Each comparable run (worker/runs.py) has a row in `compared_runs`. For each of its results
(a name: a build's `build`, a test's suite), a run's **previous** run is the latest run of the
same environment before it, by the payload's own times (then uid), on another commit, that has
a pass or fail for that name: a run whose result for the name is error, canceled, unknown or
skip is passed over, and so is a run on the same commit (a re-run). pass -> fail is a
regression, fail -> pass a fix; at most one transition ends at each (run, name).

The stored transitions are a function of the runs stored, not of their order: when a run is
stored, moved (a later delivery of it) or dropped (no longer comparable), the transitions that
can change are recomputed from the table and compared with those recorded: the run's own, and
those of the runs right after its place, up to the next change of commit (the runs whose
previous it is, or was). One that no longer holds is superseded (kept, with superseded_at and
superseded_by), and the one that holds is inserted. Recomputing a transition that holds changes
nothing, so a delivery processed twice records nothing twice.

On PostgreSQL, where a statement sees only what was committed before it began, two workers
could each miss the other's run. Advisory transaction locks, held to the commit, prevent it:
first the build's uid (a test's build_uid, once its links are resolved), so that a build and
its tests stored at once are compared one after the other, whichever commits first (the
second sees the first); then the environments' keys, in sorted order, before their runs are
read. Every worker takes them in that order (after links.lock's), so none waits on another in
a cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)

from shared.db.schema import compared_runs, outcomes, regressions
from shared.timestamps import as_utc
from worker.notify.transition_events import add_transition_events
from worker.run_walk import Walk
from worker.runs import Run, runs_to_compare

_r, _g, _o = compared_runs.c, regressions.c, outcomes.c
# Only builds and tests have results to compare; stored finished, they are compared.
COMPARED_KINDS = frozenset({"build", "test"})

# A run of compared_runs, as read back.
Stored = Row[Any]
# A run as this comparison stored it, or as it read it back.
Known = Run | Stored


@dataclass
class _Work:
    """The transitions to recompute: env_key -> name -> the uids of the runs they end at; and
    the runs as they are now, stored or read since (None: no longer a run)."""

    digest: str
    now: datetime
    targets: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    current: dict[str, Known | None] = field(default_factory=dict)


def compare(conn: Connection, kind: str, uid: str, digest: str, now: datetime) -> None:
    """After a delivery of a build or test was stored: record what it changed."""
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        _lock_build(conn, kind, uid)
    found = runs_to_compare(conn, kind, uid)
    uids = [u for _, u in found]
    old = _stored(conn, uids)
    if not old and not any(found.values()):
        return  # nothing was a run, nor is: the common case of a test with no build yet
    if postgresql:
        envs = {r.env_key for r in old.values()} | {r.env_key for r in found.values() if r}
        for key in sorted(envs):
            conn.execute(_LOCK, {"key": f"env:{key}"})
        old = _stored(conn, uids)
    work = _Work(digest, now)
    for (_, run_uid), run in found.items():
        _store_run(conn, old.get(run_uid), run, run_uid, work)
    for env_key, names in work.targets.items():
        _reconcile(conn, env_key, names, work)
    add_transition_events(conn, digest, now)


# By the primary key (kind, uid): every kind that has runs, so that the key's index is read.
_STORED = select(compared_runs).where(
    _r.kind.in_(sorted(COMPARED_KINDS)), _r.uid.in_(bindparam("uids", expanding=True))
)


def _stored(conn: Connection, uids: list[str]) -> dict[str, Stored]:
    rows = conn.execute(_STORED, {"uids": uids}).all() if uids else []
    return {row.uid: row for row in rows}


def _advisory_lock(key: ColumnElement[str]) -> Select[Any]:
    """PostgreSQL: a lock held to the commit, named by text."""
    return select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))


_LOCK = _advisory_lock(bindparam("key", type_=String))
# A test's build: the build whose storing and this delivery's must not miss each other. None
# for a test with no build link yet, which has no run to miss.
_LOCK_TESTS_BUILD = _advisory_lock(literal("build:") + _o.build_uid).where(
    _o.kind == "test", _o.uid == bindparam("uid"), _o.build_uid.is_not(None)
)


def _lock_build(conn: Connection, kind: str, uid: str) -> None:
    if kind == "build":
        conn.execute(_LOCK, {"key": f"build:{uid}"})
    else:
        conn.execute(_LOCK_TESTS_BUILD, {"uid": uid})


def _same(old: Stored | None, run: Run | None) -> bool:
    if old is None or run is None:
        return old is None and run is None
    row = run.row()
    return all(old._mapping[name] == row[name] for name in row if name != "run_time") and (
        as_utc(old.run_time) == as_utc(run.run_time)
    )


def _store_run(
    conn: Connection, old: Stored | None, run: Run | None, uid: str, work: _Work
) -> None:
    if _same(old, run):
        return
    work.current[uid] = run
    if old is not None:
        conn.execute(_DELETE_RUN, {"kind": old.kind, "uid": uid})
        _affected(conn, old.env_key, old.run_time, uid, set(old.results), work)
    if run is not None:
        conn.execute(compared_runs.insert(), run.row())
        _affected(conn, run.env_key, run.run_time, uid, set(run.results), work)


_DELETE_RUN = delete(compared_runs).where(_r.kind == bindparam("kind"), _r.uid == bindparam("uid"))


def _affected(
    conn: Connection, env_key: str, at: datetime, uid: str, names: set[str], work: _Work
) -> None:
    """The run's own transitions, and those of the runs whose previous it may be or have been:
    for each name, the runs after its place up to the next change of commit."""
    after = Walk(conn, env_key, at, uid, forward=True)
    for name in names:
        work.targets[env_key][name].add(uid)
        for run in _block_after(after, name):
            work.targets[env_key][name].add(run.uid)
            # As read now; a run this comparison stores later replaces it (_store_run).
            work.current.setdefault(run.uid, run)


def _block_after(after: Walk, name: str) -> Iterator[Stored]:
    first: Stored | None = None
    for run in after:
        if name not in run.results:
            continue
        if first is not None and not _same_commit(first, run):
            return
        first = first or run
        yield run
        if first.git_sha is None:
            return


def _same_commit(a: Any, b: Any) -> bool:
    """Runs without a commit (tests with no build link) are each a commit of their own."""
    return a.git_sha is not None and a.git_sha == b.git_sha


def _previous(conn: Connection, run: Known, name: str, walks: dict[str, Walk]) -> Stored | None:
    if run.uid not in walks:
        walks[run.uid] = Walk(
            conn, run.env_key, run.run_time, run.uid, forward=False, other_than=run.git_sha
        )
    for before in walks[run.uid]:
        if name in before.results and not _same_commit(before, run):
            return before
    return None


# The transitions that stand, ending at some runs, for some names: a lookup of the index
# (env_key, test, after_uid), rather than a read of every transition of the environment.
_ACTIVE = select(regressions).where(
    _g.env_key == bindparam("env_key"),
    _g.test.in_(bindparam("names", expanding=True)),
    _g.after_uid.in_(bindparam("uids", expanding=True)),
    _g.superseded_at.is_(None),
)
# Names looked up at a time: a test's thousands of cases stay within SQLite's 32,766
# parameters.
_NAMES_AT_A_TIME = 1000


def _reconcile(conn: Connection, env_key: str, names: dict[str, set[str]], work: _Work) -> None:
    """Make the recorded transitions ending at the targets the ones that hold now."""
    uids = sorted(set().union(*names.values()))
    active: dict[tuple[str, str], list[Row[Any]]] = defaultdict(list)
    ordered = sorted(names)
    for i in range(0, len(ordered), _NAMES_AT_A_TIME):
        batch = {"env_key": env_key, "names": ordered[i : i + _NAMES_AT_A_TIME], "uids": uids}
        for row in conn.execute(_ACTIVE, batch):
            active[(row.test, row.after_uid)].append(row)
    walks: dict[str, Walk] = {}
    for name in ordered:
        for uid in sorted(names[name]):
            run = work.current.get(uid)
            wanted = _transition(conn, run, name, walks) if run is not None else None
            _settle(conn, active.get((name, uid), []), wanted, work)


def _transition(
    conn: Connection, run: Known, name: str, walks: dict[str, Walk]
) -> dict[str, Any] | None:
    result = run.results.get(name)
    previous = _previous(conn, run, name, walks) if result is not None else None
    if previous is None or previous.results[name] == result:
        return None
    env = run.environment
    return {
        "type": "regression" if result == "fail" else "fix",
        "kind": run.kind,
        "test": name,
        "env_key": run.env_key,
        **{k: env.get(k) for k in ("project", "device", "target_arch", "toolchain", "kconfig")},
        **_side("before", previous, name),
        **_side("after", run, name),
    }


def _side(side: str, run: Known, name: str) -> dict[str, Any]:
    return {
        f"{side}_uid": run.uid,
        f"{side}_result": run.results[name],
        f"{side}_git_sha": run.git_sha,
        f"{side}_git_describe": run.git_describe,
        f"{side}_time": run.run_time,
    }


_KEPT = ("type", "before_uid", "before_result", "after_result", "before_git_sha", "after_git_sha")


_SUPERSEDE = (
    update(regressions)
    .where(_g.id.in_(bindparam("ids", expanding=True)))
    .values(superseded_at=bindparam("superseded_at"), superseded_by=bindparam("superseded_by"))
)


def _settle(
    conn: Connection, active: list[Row[Any]], wanted: dict[str, Any] | None, work: _Work
) -> None:
    holds = [
        row.id
        for row in active
        if wanted is not None and all(row._mapping[k] == wanted[k] for k in _KEPT)
    ]
    stale = [row.id for row in active if row.id not in holds[:1]]
    if stale:
        superseded = {"superseded_at": work.now, "superseded_by": work.digest}
        conn.execute(_SUPERSEDE, {**superseded, "ids": stale})
    if wanted is not None and not holds:
        conn.execute(
            regressions.insert(),
            {**wanted, "detected_at": work.now, "detected_by": work.digest},
        )
