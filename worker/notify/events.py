"""The events a stored outcome produces, and the outbox rows that route them to sinks.

An event is decided from the delivery being stored, in the job that stores it, and written in
the same transaction (worker/notify/outbox.py). Its id is derived from what it says (its type,
the outcome, the verdict), so that storing the same verdict again, from a redelivery or a
corrected payload, yields the same id, which the outbox keeps once per sink; a changed verdict
is a new event.

Only a final outcome announces anything (shared/outcome_rules.py: a build TuxSuite will build
again, or a test it will run again, is not final yet). `regression`, `fix` and `superseded`
come from the comparison of runs (worker/notify/transition_events.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from shared.notify_config import NotifyConfig
from shared.timestamps import iso
from worker.outcome import Update

# Columns that are the store's bookkeeping, not the outcome: left out of the event.
_NOT_SENT = frozenset({"state_time"})


@dataclass(frozen=True)
class OutboxEvent:
    """One event for one sink, as the outbox stores it."""

    event_id: str
    sink: str
    type: str
    kind: str
    uid: str
    project: str | None
    event: str


def event_types(change: Update) -> Iterator[str]:
    """What a delivery announces once its outcome is stored."""
    columns = change.columns
    if not columns.get("final"):
        return
    yield "outcome"
    kind, result = change.kind, columns.get("result")
    if kind == "build":
        status = columns.get("build_status") or result
        if status in ("fail", "error"):
            yield f"build_{'failed' if status == 'fail' else 'error'}"
    elif kind == "test":
        if result == "fail":
            yield "test_failed"
        elif result == "error":  # TuxSuite's infrastructure error, whatever its boot result
            yield "infra_error"
    elif kind == "plan":
        yield "plan_finished"


def event_id(event_type: str, change: Update) -> str:
    columns = change.columns
    verdict = f"{columns.get('result')}/{columns.get('build_status')}"
    seed = "\0".join((event_type, change.kind, change.uid, verdict))
    return "evt_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def outcome_link(public_url: str | None, kind: str, uid: str) -> str | None:
    """The outcome's page for people (receiver/pages: /outcomes/{kind}/{uid}), not its JSON."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/outcomes/{quote(kind, safe='')}/{quote(uid, safe='')}"


def outcome_document(change: Update) -> dict[str, Any]:
    """The outcome as an event carries it: the columns its payload filled, JSON-ready."""
    doc: dict[str, Any] = {"kind": change.kind, "uid": change.uid}
    for name, value in change.columns.items():
        if name not in _NOT_SENT:
            doc[name] = iso(value) if isinstance(value, datetime) else value
    doc["finished_at"] = iso(change.columns.get("state_time"))
    if change.kind == "test":
        doc["results"] = change.results
    return doc


def event_document(
    event_type: str, change: Update, created_at: datetime, public_url: str | None
) -> dict[str, Any]:
    return {
        "id": event_id(event_type, change),
        "type": event_type,
        "created_at": iso(created_at),
        "outcome": outcome_document(change),
        "url": outcome_link(public_url, change.kind, change.uid),
    }


def events_for(
    change: Update, config: NotifyConfig, public_url: str | None
) -> tuple[OutboxEvent, ...]:
    """The outbox rows a delivery adds once stored: each event, once for each of its sinks."""
    if not config.rules:
        return ()
    project = change.columns.get("project")
    now = datetime.now(UTC)
    rows = []
    for event_type in event_types(change):
        sinks = config.sinks_for(event_type, project)
        if not sinks:
            continue
        doc = event_document(event_type, change, now, public_url)
        text = orjson.dumps(doc).decode("utf-8")
        rows += [
            OutboxEvent(doc["id"], sink, event_type, change.kind, change.uid, project, text)
            for sink in sinks
        ]
    return tuple(rows)
