"""Storage tests run once per backend: each tuxhook they start uses the `database_url` store."""

from __future__ import annotations

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.keys import KeyPair
from tests.support.store import Store

# Short enough that a test holding a lock makes a worker fail (and retry) within a second.
LOCK_TIMEOUT_S = "0.5"


@pytest.fixture
def settings_env(settings_env: dict[str, str], database_url: str) -> dict[str, str]:
    return {
        **settings_env,
        "TUXHOOK_DATABASE_URL": database_url,
        "TUXHOOK_DATABASE_LOCK_TIMEOUT": LOCK_TIMEOUT_S,
    }


@pytest.fixture
def store(receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis) -> Store:
    return Store(receiver, keys, settings, redis_client)
