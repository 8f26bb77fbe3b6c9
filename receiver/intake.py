"""The one intake path shared by every authenticated route: validate, then enqueue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from receiver.enqueue import Enqueued, Enqueuer
from shared.identity import body_digest
from shared.jobs import Delivery
from shared.payload import parse_event, utf8


class Intake:
    def __init__(self, enqueuer: Enqueuer) -> None:
        self.enqueuer = enqueuer

    async def accept(
        self,
        document: bytes,
        verified_by: str,
        auth: dict[str, Any] | None,
        log_fields: dict[str, Any],
    ) -> Enqueued:
        """Validate the verified `document` and enqueue it, identified by its digest; what it
        learns goes into the request's `log_fields` as soon as known.

        The digest is of what was verified: the raw body, except for TuxSuite's legacy
        double-encoded form, whose signature covers only the inner string; otherwise a replay
        re-wrapped in another outer encoding would count as a new delivery.
        """
        text = utf8(document)
        event = parse_event(text)
        log_fields["kind"], log_fields["uid"] = event.kind, event.uid
        delivery = Delivery(
            kind=event.kind,
            uid=event.uid,
            digest=body_digest(document),
            body=text,
            received_at=datetime.now(UTC).isoformat(),
            verified_by=verified_by,
            auth=auth or {},
        )
        result = await self.enqueuer.enqueue(delivery)
        log_fields["job_id"], log_fields["duplicate"] = result.job_id, result.duplicate
        return result
