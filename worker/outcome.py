"""One delivery as the store sees it: who sent it, and the outcome columns its payload fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.errors import PermanentError, TuxhookError
from shared.field_values import FieldErrors, distinct
from shared.jobs import Delivery
from shared.outcome_fields import columns, notes, per_test_results
from shared.payload import parse_event
from shared.timestamps import parse_time

# What a job did: stored its payload, only counted it (a more advanced one was there), or nothing.
Stored = Literal["applied", "stale", "duplicate"]


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
    # Outcome columns from the payload, `state` and `state_time` among them.
    columns: dict[str, Any]
    # Per-test results of a test; None for other kinds, and for a test whose payload has none.
    results: dict[str, str | None] | None


def delivery_from_job(data: Any) -> Delivery:
    try:
        delivery = Delivery.from_job(data)
    except TypeError as e:
        raise PermanentError(f"the job does not carry a delivery: {e}") from e
    texts = (delivery.kind, delivery.uid, delivery.digest, delivery.body, delivery.verified_by)
    repairs = delivery.repairs
    if (
        not all(isinstance(t, str) for t in texts)
        or not isinstance(delivery.auth, dict)
        or not (isinstance(repairs, list) and all(isinstance(r, str) for r in repairs))
    ):
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
    errors: FieldErrors = []
    row = columns(kind, event.status, errors)
    results = per_test_results(event.status, errors) if kind == "test" else None
    row["notes"] = notes(distinct(errors), delivery.repairs)
    return Update(
        kind=kind,
        uid=event.uid,
        digest=delivery.digest,
        received_at=received_at,
        verified_by=delivery.verified_by,
        auth=delivery.auth,
        payload=delivery.body,
        columns=row,
        results=results,
    )
