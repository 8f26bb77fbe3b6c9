"""The pages read the store: their tests run once per backend, as the storage tests do."""

from __future__ import annotations

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import post_document
from tests.support.keys import KeyPair
from tests.support.scenario import Scenario
from tests.support.workers import drain


@pytest.fixture
def settings_env(settings_env: dict[str, str], database_url: str) -> dict[str, str]:
    return {**settings_env, "TUXHOOK_DATABASE_URL": database_url}


@pytest.fixture
async def scenario(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> Scenario:
    plan = Scenario()
    for doc in plan.documents():
        await post_document(receiver, keys, doc)
    drain(settings, redis_client)
    return plan
