"""One delivery as the store sees it: the outcome columns it carries and how far its job got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.constants import STATES
from shared.errors import PermanentError, TuxhookError
from shared.jobs import Delivery
from shared.payload import parse_event
from worker.fields import columns, per_test_results

STATE_RANKS = {state: rank for rank, state in enumerate(STATES, start=1)}


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as aware UTC; TuxSuite's naive times are UTC. Anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Progress:
    """A job's state and the payload's own time of that state."""

    state: str | None
    time: datetime | None

    @property
    def rank(self) -> int:
        return STATE_RANKS.get(self.state or "", 0)


def supersedes(new: Progress, old: Progress) -> bool:
    """Whether `new` may replace `old`: a later state, or the same state no earlier.

    A missing time counts as earlier than any time; equal progress goes to the newcomer, so
    that a corrected redelivery of the same state is shown.
    """
    if new.rank != old.rank:
        return new.rank > old.rank
    if new.time is None or old.time is None:
        return old.time is None
    return new.time >= old.time


@dataclass(frozen=True)
class Update:
    """What one delivery asks the store to record."""

    kind: str
    uid: str
    digest: str
    received_at: datetime
    verified_by: str
    auth: dict[str, Any]
    payload: str
    progress: Progress
    columns: dict[str, Any]
    # Per-test results of a test; None for other kinds, and for a test whose payload has none.
    results: dict[str, str | None] | None


def progress_of(status: dict[str, Any]) -> Progress:
    state = status.get("state")
    if state not in STATE_RANKS:
        return Progress(None, None)
    return Progress(state, parse_time(status.get(f"{state}_time")))


def delivery_from_job(data: Any) -> Delivery:
    try:
        delivery = Delivery.from_job(data)
    except TypeError as e:
        raise PermanentError(f"the job does not carry a delivery: {e}") from e
    texts = (delivery.kind, delivery.uid, delivery.digest, delivery.body, delivery.verified_by)
    if not all(isinstance(t, str) for t in texts) or not isinstance(delivery.auth, dict):
        raise PermanentError("the job's delivery has fields of the wrong type")
    return delivery


def update_from_job(kind: str, data: Any) -> Update:
    """The update a job's delivery asks for; PermanentError if no retry could make sense of it."""
    delivery = delivery_from_job(data)
    try:
        event = parse_event(delivery.body)
    except TuxhookError as e:
        raise PermanentError(f"{kind} {delivery.uid}: {e.message}") from e
    if (event.kind, event.uid) != (kind, delivery.uid):
        raise PermanentError(
            f"a {kind} job for uid {delivery.uid} carries a {event.kind} document "
            f"for uid {event.uid}"
        )
    received_at = parse_time(delivery.received_at)
    if received_at is None:
        raise PermanentError(f"{kind} {delivery.uid}: received_at is not an ISO 8601 time")
    return Update(
        kind=kind,
        uid=event.uid,
        digest=delivery.digest,
        received_at=received_at,
        verified_by=delivery.verified_by,
        auth=delivery.auth,
        payload=delivery.body,
        progress=progress_of(event.status),
        columns=columns(kind, event.status),
        results=per_test_results(event.status) if kind == "test" else None,
    )
