"""The event that takes a test's per-case results to KCIDB once the enrich queue has them.

A KCIDB submission is built when it is delivered, from the store: a test's event delivered after
its cases were fetched carries them. Cases often arrive later than the test's outcome, and its
events, were stored; so the enrich job, in the transaction that stores the cases, adds one more
event, of type `cases`, for each kcidb sink that one of the test's events went to. Delivered,
it submits the test again, with its cases: KCIDB ids are `origin:uid...`, so the suites are
replaced and the cases added. Its id is derived from the cases, so that a fetch run again with
the same answer adds nothing, and one that found other cases submits again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson
from sqlalchemy import Connection, select

from shared.db.schema import outbox
from shared.timestamps import iso
from worker.notify.events import OutboxEvent
from worker.notify.transition_events import TRANSITION_EVENTS

CASES_EVENT = "cases"
_x = outbox.c


def cases_event_id(uid: str, cases: Mapping[str, str | None]) -> str:
    seed = orjson.dumps([CASES_EVENT, "test", uid, sorted(cases.items())])
    return "evt_" + hashlib.sha256(seed).hexdigest()[:40]


def case_events(
    conn: Connection,
    uid: str,
    cases: Mapping[str, str | None],
    kcidb_sinks: Sequence[str],
    now: datetime,
) -> tuple[OutboxEvent, ...]:
    """The `cases` event of test `uid`, once for each kcidb sink its events went to."""
    if not cases or not kcidb_sinks:
        return ()
    query = (
        select(_x.sink, _x.project, _x.event)
        .where(_x.kind == "test", _x.uid == uid, _x.sink.in_(kcidb_sinks))
        # The test's own events, which carry it (a regression's carries a transition).
        .where(_x.type.not_in(TRANSITION_EVENTS))
        .order_by(_x.id)
    )
    rows = conn.execute(query).all()
    if not rows:
        return ()
    latest = orjson.loads(rows[-1].event)  # the test as its last event described it
    event_id = cases_event_id(uid, cases)
    doc = {
        "id": event_id,
        "type": CASES_EVENT,
        "created_at": iso(now),
        "outcome": latest.get("outcome"),
        "url": latest.get("url"),
    }
    text = orjson.dumps(doc).decode("utf-8")
    sinks = dict.fromkeys(r.sink for r in rows)
    project = rows[-1].project
    return tuple(
        OutboxEvent(event_id, sink, CASES_EVENT, "test", uid, project, text) for sink in sinks
    )
