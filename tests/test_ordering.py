"""Whatever order deliveries arrive in, the store ends on the most advanced one: a property of
the real store (a SQLite file, and PostgreSQL), checked over generated arrival orders."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.constants import STATES
from shared.db.engine import create_engine
from shared.db.schema import metadata, outcomes
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.timestamps import as_utc
from tests.support.builders import callback, encode, new_uid
from tests.support.database import engine_for
from tests.support.properties import examples
from worker.outcome import update_from_job
from worker.store import save

BASE = datetime(2024, 5, 1, tzinfo=UTC)
Progress = tuple[str | None, datetime | None]  # (state, the payload's time of that state)
progresses = st.tuples(
    st.sampled_from([*STATES, None]),
    st.one_of(st.none(), st.integers(0, 50).map(lambda s: BASE + timedelta(seconds=s))),
)


def advance(p: Progress) -> tuple[int, datetime]:
    """How far a delivery got: its state's rank, then its time (a missing one is earliest).
    Without a state there is no state's time either."""
    state, time = p
    if state is None:
        return 0, datetime.min.replace(tzinfo=UTC)
    return STATES.index(state) + 1, time or datetime.min.replace(tzinfo=UTC)


def delivery(uid: str, p: Progress) -> Delivery:
    state, time = p
    doc = callback("plan", uid, state=state)
    for name in STATES:
        doc["status"].pop(f"{name}_time", None)
    if state and time:
        doc["status"][f"{state}_time"] = time.isoformat()
    body = encode(doc)
    return Delivery("plan", uid, body_digest(body), body.decode(), BASE.isoformat(), "key:x")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """A store for the module; every example stores an outcome of its own uid."""
    if request.param == "postgres":
        store = engine_for(request.getfixturevalue("postgres_database"))
    else:
        path = tmp_path_factory.mktemp("ordering") / "store.sqlite3"
        store = create_engine(f"sqlite:///{path}", lock_timeout_s=1, write=True)
        metadata.create_all(store)
    try:
        yield store
    finally:
        store.dispose()


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(progresses, min_size=1, max_size=6, unique_by=advance), st.randoms())
def test_any_arrival_order_ends_on_the_most_advanced(
    engine: sa.Engine, arrivals: list[Progress], rng: random.Random
) -> None:
    rng.shuffle(arrivals)
    uid = new_uid()
    for p in arrivals:
        save(engine, update_from_job("plan", delivery(uid, p).to_job()))
    with engine.connect() as conn:
        row = conn.execute(sa.select(outcomes).where(outcomes.c.uid == uid)).one()
    state, time = max(arrivals, key=advance)
    time = time if state else None
    assert (row.state, row.state_time and as_utc(row.state_time)) == (state, time)
    assert row.deliveries == len(arrivals)
