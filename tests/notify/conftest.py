"""Notification tests run once per backend, with a webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.notify_files import SECRET
from tests.support.sinks import WebhookReceiver


@pytest.fixture
def store_env(settings_env: dict[str, str], database_url: str) -> dict[str, str]:
    return {**settings_env, "TUXHOOK_DATABASE_URL": database_url}


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET).running() as server:
        assert isinstance(server, WebhookReceiver)
        yield server
