"""The job a receiver enqueues and a worker runs: a JSON-serialisable delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """One verified delivery of an event, as it travels through Redis to a worker.

    `body` is the verified document as text (for the legacy double-encoded form, the inner
    string); `digest` is the SHA-256 of what was verified, which identifies the delivery: the
    raw request body, or that inner string for the legacy form (receiver/intake.py says why).
    """

    kind: str
    uid: str
    digest: str
    body: str
    received_at: str
    verified_by: str
    auth: dict[str, Any] = field(default_factory=dict)
    # Sender quirks the receiver repaired to read `body` ("backslash_quote", "double_encoded").
    repairs: list[str] = field(default_factory=list)

    def to_job(self) -> dict[str, Any]:
        # dataclasses.asdict would deep-copy `auth`, at a cost paid once per callback.
        job = {
            "kind": self.kind,
            "uid": self.uid,
            "digest": self.digest,
            "body": self.body,
            "received_at": self.received_at,
            "verified_by": self.verified_by,
            "auth": self.auth,
        }
        # Only a repaired delivery carries the key: the others' jobs stay as they were.
        if self.repairs:
            job["repairs"] = self.repairs
        return job

    @classmethod
    def from_job(cls, data: dict[str, Any]) -> Delivery:
        return cls(**data)
