"""The pages read the store: their tests run once per backend, as the storage tests do."""

from __future__ import annotations

import pytest

# Short enough that a test holding a lock makes a worker fail (and retry) within a second.
LOCK_TIMEOUT_S = "0.5"


@pytest.fixture
def settings_env(settings_env: dict[str, str], database_url: str) -> dict[str, str]:
    return {
        **settings_env,
        "TUXHOOK_DATABASE_URL": database_url,
        "TUXHOOK_DATABASE_LOCK_TIMEOUT": LOCK_TIMEOUT_S,
    }
