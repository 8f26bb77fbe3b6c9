"""The enrich tests' stand-in of TuxSuite's API, the settings that point at it, and a way to
deliver tests through the receiver and run every queue once (the test's job, then the fetch it
queued), on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import outcome, post_document
from tests.support.builders import callback, new_uid
from tests.support.keys import KeyPair
from tests.support.tuxsuite_api import TuxSuiteAPI, tuxsuite_api
from tests.support.workers import drain

TOKEN = "tuxsuite-api-token-of-the-tests"


@pytest.fixture
def uid() -> str:
    return new_uid()


@pytest.fixture
def api() -> Iterator[TuxSuiteAPI]:
    with tuxsuite_api() as served:
        yield served


@pytest.fixture
def settings_env(settings_env: dict[str, str], api: TuxSuiteAPI) -> dict[str, str]:
    return {**settings_env, "TUXHOOK_TUXSUITE_API_URL": api.url, "TUXHOOK_TUXSUITE_TOKEN": TOKEN}


class Runs:
    """Deliver finished tests through the receiver, then run every queue once."""

    def __init__(self, receiver: Receiver, keys: KeyPair, settings: Settings, redis: Redis) -> None:
        self.receiver, self.keys, self.settings, self.redis = receiver, keys, settings, redis

    async def deliver(self, doc: dict[str, Any]) -> None:
        await post_document(self.receiver, self.keys, doc)
        drain(self.settings, self.redis)

    async def finished(self, **status: Any) -> str:
        doc = callback("test", state="finished", project="demo/demo", **status)
        await self.deliver(doc)
        uid: str = doc["status"]["uid"]
        return uid

    async def deliver_running(self, uid: str) -> None:
        await self.deliver(callback("test", uid, state="running", project="demo/demo"))

    async def cases(self, uid: str) -> Any:
        return (await outcome(self.receiver, "test", uid))["cases"]


@pytest.fixture
def runs(receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis) -> Runs:
    return Runs(receiver, keys, settings, redis_client)
