"""Two workers storing a test and the test it waited for at the same moment: each cannot see the
other's uncommitted row, and still the chain ends linked to its build (worker/links.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from shared.db.schema import outcomes
from shared.identity import body_digest
from shared.jobs import Delivery
from tests.support.builders import callback, encode, new_uid
from tests.support.database import engine_for
from worker.outcome import Update, update_from_job
from worker.store import save

PAIRS = 20  # concurrent pairs per database


def update(doc: dict[str, object]) -> Update:
    body = encode(doc)
    status = doc["status"]
    assert isinstance(status, dict)
    delivery = Delivery(
        kind="test",
        uid=status["uid"],
        digest=body_digest(body),
        body=body.decode(),
        received_at=datetime.now(UTC).isoformat(),
        verified_by="key:SHA256:test",
    )
    return update_from_job("test", delivery.to_job())


def test_a_chain_stored_by_two_workers_at_once_is_linked(database_url: str) -> None:
    engines = [engine_for(database_url), engine_for(database_url)]
    try:
        pairs = []
        for _ in range(PAIRS):
            build, sanity_uid = new_uid(), new_uid()
            sanity = update(callback("test", sanity_uid, waiting_for=f"BUILD#{build}"))
            chained = update(callback("test", waiting_for=f"TEST#{sanity_uid}"))
            pairs.append((build, sanity, chained))
        for _, sanity, chained in pairs:
            start = threading.Barrier(2)

            def store(engine_index: int, change: Update, start: threading.Barrier = start) -> None:
                start.wait()
                save(engines[engine_index], change)

            threads = [
                threading.Thread(target=store, args=(0, sanity)),
                threading.Thread(target=store, args=(1, chained)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        with engines[0].connect() as conn:
            c = outcomes.c
            linked = dict(conn.execute(select(c.uid, c.build_uid).where(c.kind == "test")).all())
        for build, sanity, chained in pairs:
            assert linked[sanity.uid] == build
            assert linked[chained.uid] == build, "the chained test lost its link"
    finally:
        for engine in engines:
            engine.dispose()
