"""The one intake path shared by every authenticated route: validate, then enqueue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from receiver.enqueue import Enqueued, Enqueuer
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.payload import parse_event


class Intake:
    def __init__(self, enqueuer: Enqueuer) -> None:
        self.enqueuer = enqueuer

    async def accept(
        self, document: bytes, verified_by: str, auth: dict[str, Any] | None = None
    ) -> Enqueued:
        """Validate the verified `document` and enqueue it, identified by its digest.

        The digest is of what was verified: the raw body, except for TuxSuite's legacy
        double-encoded form, whose signature covers only the inner string; otherwise a replay
        re-wrapped in another outer encoding would count as a new delivery.
        """
        event = parse_event(document)
        structlog.contextvars.bind_contextvars(kind=event.kind, uid=event.uid)
        delivery = Delivery(
            kind=event.kind,
            uid=event.uid,
            digest=body_digest(document),
            body=document.decode("utf-8"),
            received_at=datetime.now(UTC).isoformat(),
            verified_by=verified_by,
            auth=auth or {},
        )
        result = await self.enqueuer.enqueue(delivery)
        structlog.contextvars.bind_contextvars(job_id=result.job_id, duplicate=result.duplicate)
        return result
