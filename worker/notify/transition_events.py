"""The events a comparison produces: `regression`, `fix`, and `superseded` (a regression or fix
that a late run withdrew), written to the outbox in the transaction that records them.

worker/compare.py calls `add_transition_events` once it has reconciled a delivery's
transitions; shared/db/regressions.py's `transitions_of` says what that delivery detected and
superseded. An event's id is derived from the transition's row (its id and what it joins), and
from the event's type: the same delivery compared again (PostgreSQL compares a redelivery again)
yields the same ids, written once; a transition's `superseded` has an id of its own. The events
are handed to the notify queue after the commit, with the outcome's (`take_pending`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from shared.db.regressions import transitions_of
from shared.timestamps import iso
from worker.context import CONTEXT
from worker.notify.events import OutboxEvent, outcome_link
from worker.notify.outbox import add_events

TRANSITION_EVENTS = ("regression", "fix", "superseded")

# Events written by this job's transaction, to hand over once it has committed. A worker runs
# one job at a time; `take_pending` empties it, and a job that failed leaves nothing behind.
_PENDING: list[OutboxEvent] = []


def take_pending() -> tuple[OutboxEvent, ...]:
    taken = tuple(_PENDING)
    _PENDING.clear()
    return taken


def transition_event_id(event_type: str, transition: dict[str, Any]) -> str:
    seed = orjson.dumps(
        [
            event_type,
            transition["id"],
            transition["kind"],
            transition["test"],
            transition["before"]["uid"],
            transition["after"]["uid"],
        ]
    )
    return "evt_" + hashlib.sha256(seed).hexdigest()[:40]


def transition_document(
    event_type: str, transition: dict[str, Any], now: datetime, public_url: str | None
) -> dict[str, Any]:
    """The event: the transition as GET /v1/regressions shows it, each run with its page."""
    kind = transition["kind"]
    sides = {
        side: {**transition[side], "url": outcome_link(public_url, kind, transition[side]["uid"])}
        for side in ("before", "after")
    }
    return {
        "id": transition_event_id(event_type, transition),
        "type": event_type,
        "created_at": iso(now),
        "regression": {**transition, **sides},
        "url": sides["after"]["url"],
    }


def add_transition_events(conn: Connection, digest: str, now: datetime) -> None:
    """Write the events of what storing delivery `digest` did to regressions, in `conn`'s
    transaction, for the sinks the notify file's rules name."""
    config = CONTEXT.notify()
    if not config.rules:
        return
    events: list[OutboxEvent] = []
    for event_type, transition in transitions_of(conn, digest):
        project = transition["environment"].get("project")
        sinks = config.sinks_for(event_type, project)
        if not sinks:
            continue
        doc = transition_document(event_type, transition, now, CONTEXT.public_url())
        text = orjson.dumps(doc).decode("utf-8")
        kind, uid = transition["kind"], transition["after"]["uid"]
        events += [
            OutboxEvent(doc["id"], sink, event_type, kind, uid, project, text) for sink in sinks
        ]
    add_events(conn, events, now)
    _PENDING.extend(events)
