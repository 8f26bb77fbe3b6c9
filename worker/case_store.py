"""Per-case results in the store: the test a fetch is for, and what the fetch found.

Each fetch replaces a test's cases whole, in one transaction that first locks the test's
outcome row, so that two fetches of one test never interleave and a fetch run twice leaves the
same rows. A fetch that found no results keeps the cases held and records why. The cases'
`cases` event for KCIDB (worker/notify/case_events.py) is written in the same transaction.

Stored cases are compared in the same transaction (worker/compare.py), however long after the
test's outcome: its cases become results of the run, named `suite/test`. The transitions they
make are recorded as detected by the fetch's digest (`fetch_digest`), as a delivery's are by
its own; a fetch run twice stores the same rows and records nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import Connection, Engine, Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.db.schema import case_fetches, outcomes, test_cases
from shared.errors import PermanentError
from worker.compare import compare
from worker.notify.case_events import case_events
from worker.notify.events import OutboxEvent
from worker.notify.outbox import add_events

_o, _c, _f = outcomes.c, test_cases.c, case_fetches.c


@dataclass(frozen=True)
class TestRef:
    """The stored test a fetch is for."""

    outcome_id: int
    uid: str
    project: str | None


def find_test(engine: Engine, uid: str) -> TestRef:
    with engine.connect() as conn:
        query = select(_o.id, _o.project).where(_o.kind == "test", _o.uid == uid)
        row = conn.execute(query).one_or_none()
    if row is None:
        raise PermanentError(f"there is no test outcome with uid {uid[:64]!r}")
    return TestRef(row.id, uid, row.project)


@cache
def _upsert_fetch(dialect_name: str, *, keep_count: bool) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    insert = dialect.insert(case_fetches)
    changes = {"error": insert.excluded.error}
    if not keep_count:
        changes["cases"] = insert.excluded.cases
    stmt: Insert = insert.on_conflict_do_update(index_elements=["outcome_id"], set_=changes)
    return stmt


def _lock(conn: Connection, outcome_id: int) -> None:
    # PostgreSQL: the outcome's row lock orders the fetches of one test. SQLite: a writer
    # holds the whole store from BEGIN IMMEDIATE on, and FOR UPDATE is left out.
    conn.execute(select(_o.id).where(_o.id == outcome_id).with_for_update())


def fetch_digest(uid: str, cases: dict[str, str]) -> str:
    """What identifies a fetch's results: the `detected_by` of the transitions they make."""
    canonical = json.dumps([uid, cases], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def store_cases(
    engine: Engine, ref: TestRef, cases: dict[str, str], kcidb_sinks: Sequence[str]
) -> tuple[OutboxEvent, ...]:
    """Replace the test's cases with `cases` and compare them; the events written with them
    (for KCIDB), to hand over."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _lock(conn, ref.outcome_id)
        conn.execute(delete(test_cases).where(_c.outcome_id == ref.outcome_id))
        if cases:
            rows = [
                {"outcome_id": ref.outcome_id, "name": n, "result": r} for n, r in cases.items()
            ]
            conn.execute(test_cases.insert(), rows)
        fetch = {"outcome_id": ref.outcome_id, "cases": len(cases), "error": None}
        conn.execute(_upsert_fetch(conn.dialect.name, keep_count=False), fetch)
        events = case_events(conn, ref.uid, cases, kcidb_sinks, now)
        add_events(conn, events, now)
        compare(conn, "test", ref.uid, fetch_digest(ref.uid, cases), now)
    return events


def record_failure(engine: Engine, outcome_id: int, error: str) -> None:
    """Say why the last fetch found no results; the cases held, if any, stay."""
    with engine.begin() as conn:
        _lock(conn, outcome_id)
        fetch = {"outcome_id": outcome_id, "cases": 0, "error": error}
        conn.execute(_upsert_fetch(conn.dialect.name, keep_count=True), fetch)
