"""The job a receiver enqueues and a worker runs: a JSON-serialisable delivery."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """One verified delivery of an event, as it travels through Redis to a worker.

    `body` is the verified document as text (for the legacy double-encoded form, the inner
    string); `digest` is the SHA-256 of the raw request body, which identifies the delivery.
    """

    kind: str
    uid: str
    digest: str
    body: str
    received_at: str
    verified_by: str
    auth: dict[str, Any] = field(default_factory=dict)

    def to_job(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_job(cls, data: dict[str, Any]) -> Delivery:
        return cls(**data)
