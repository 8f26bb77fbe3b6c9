"""The one intake path shared by every authenticated route: validate, then enqueue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from receiver.enqueue import Enqueued, Enqueuer
from receiver.quirks import parse_repaired
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
        repairs: tuple[str, ...] | None = None,
    ) -> Enqueued:
        """Validate the verified `document` and enqueue it, identified by its digest; what it
        learns goes into the request's `log_fields` as soon as known.

        The digest is of what was verified: the raw body, except for TuxSuite's legacy
        double-encoded form, whose signature covers only the inner string; otherwise a replay
        re-wrapped in another outer encoding would count as a new delivery.

        `repairs`, for a TuxSuite callback, says which sender quirks were repaired to get
        `document`; such a callback's `\'` escapes are repaired too (receiver/quirks.py).
        None for other senders: no quirk is repaired for them.
        """
        text = utf8(document)
        done = list(repairs or ())
        if repairs is None:
            event = parse_event(text)
        else:
            event, text = parse_repaired(text, done)
        log_fields["kind"], log_fields["uid"] = event.kind, event.uid
        delivery = Delivery(
            kind=event.kind,
            uid=event.uid,
            digest=body_digest(document),
            body=text,
            received_at=datetime.now(UTC).isoformat(),
            verified_by=verified_by,
            auth=auth or {},
            repairs=done,
        )
        result = await self.enqueuer.enqueue(delivery)
        log_fields["job_id"], log_fields["duplicate"] = result.job_id, result.duplicate
        return result
