"""Deliver callbacks through a receiver and store them with one in-process pass of the workers,
so that each test decides the order in which the deliveries are processed."""

from __future__ import annotations

from typing import Any

from redis import Redis

from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import get_json, outcome, post_document
from tests.support.keys import KeyPair
from tests.support.queues import (
    failed_job_ids,
    queued_count,
    scheduled_job_ids,
    started_job_ids,
)
from tests.support.workers import drain


class Store:
    """Deliver documents through the receiver and process them, in the order given."""

    def __init__(self, receiver: Receiver, keys: KeyPair, settings: Settings, redis: Redis) -> None:
        self.receiver, self.keys, self.settings, self.redis = receiver, keys, settings, redis

    async def deliver(self, *docs: dict[str, Any]) -> None:
        for doc in docs:
            await post_document(self.receiver, self.keys, doc)
            drain(self.settings, self.redis)

    async def outcome(self, kind: str, uid: str) -> dict[str, Any]:
        return await outcome(self.receiver, kind, uid)

    async def uids(self, query: str) -> set[str]:
        """The uids GET /v1/outcomes?query lists (one page)."""
        status, page = await get_json(self.receiver, f"/v1/outcomes?{query}")
        assert status == 200, page
        return {o["uid"] for o in page["outcomes"]}

    def assert_settled(self) -> None:
        """Every job ran and was stored: none failed, none waits for a retry, none is left."""
        assert failed_job_ids(self.redis) == set()
        assert scheduled_job_ids(self.redis) == set()
        assert started_job_ids(self.redis) == set()
        assert queued_count(self.redis) == 0
