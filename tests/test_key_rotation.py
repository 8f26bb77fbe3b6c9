"""Keys from TUXHOOK_TUXSUITE_KEYS_URL: fetched, cached, refetched (rate-limited) on failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from shared.settings import Settings
from tests.conftest import serving
from tests.support.builders import signed_callback
from tests.support.keys import KeyPair, make_key_pair
from tests.support.queues import queued_count
from tests.support.servers import StaticDocument, serve_document

KEYS_PATH = "/v1/groups/demo/projects/demo/keys"
CALLBACK = "/v1/callbacks/tuxsuite"
REFETCH_S = 0.1  # seconds between refetches in these tests


def keys_json(*pairs: KeyPair) -> str:
    pub: str | list[str] = [p.public_line for p in pairs]
    return json.dumps({"ssh": {"pub": pub[0] if len(pairs) == 1 else pub}, "pat": []})


async def post(http: aiohttp.ClientSession, url: str, keys: KeyPair) -> tuple[int, str]:
    body, headers = signed_callback(keys)
    async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
        return resp.status, (await resp.json()).get("error", "")


@pytest.fixture
async def keys_server(
    tmp_path: Path,
) -> AsyncIterator[tuple[StaticDocument, str, KeyPair, KeyPair]]:
    old, new = make_key_pair(tmp_path, "old"), make_key_pair(tmp_path, "new")
    doc = StaticDocument(keys_json(old))
    async with serve_document(doc, KEYS_PATH) as url:
        yield doc, url, old, new


async def test_rotation_needs_no_restart(
    keys_server: tuple[StaticDocument, str, KeyPair, KeyPair], settings_env: dict[str, str]
) -> None:
    doc, keys_url, old, new = keys_server
    del settings_env["TUXHOOK_TUXSUITE_KEYS_FILE"]
    settings_env |= {
        "TUXHOOK_TUXSUITE_KEYS_URL": keys_url,
        "TUXHOOK_TUXSUITE_TOKEN": "tuxsuite-api-token",
        "TUXHOOK_KEYS_REFETCH_INTERVAL": str(REFETCH_S),
        "TUXHOOK_KEYS_MAX_AGE": str(REFETCH_S),
    }
    async with serving(Settings.from_env(settings_env)) as served:
        http, url = served.http, served.url
        assert await post(http, url, old) == (202, "")
        assert await post(http, url, new) == (401, "bad_signature")
        doc.body = keys_json(old, new)  # the group rotates: both valid for a while
        await asyncio.sleep(REFETCH_S)
        assert await post(http, url, new) == (202, "")
        assert await post(http, url, old) == (202, "")
        doc.body = keys_json(new)  # the old key is revoked: stale keys are refetched
        await asyncio.sleep(REFETCH_S)
        assert await post(http, url, old) == (401, "bad_signature")
        assert await post(http, url, new) == (202, "")
    # The API token goes in Authorization, as TuxSuite's own CLI sends it.
    assert set(doc.seen_authorization) == {"tuxsuite-api-token"}


async def test_refetch_is_rate_limited(
    keys_server: tuple[StaticDocument, str, KeyPair, KeyPair], settings_env: dict[str, str]
) -> None:
    doc, keys_url, _, new = keys_server
    settings_env["TUXHOOK_TUXSUITE_KEYS_URL"] = keys_url
    settings_env["TUXHOOK_KEYS_REFETCH_INTERVAL"] = "300"
    async with serving(Settings.from_env(settings_env)) as served:
        http, url = served.http, served.url
        for _ in range(10):  # forged callbacks must not turn into a fetch each
            assert await post(http, url, new) == (401, "bad_signature")
    assert doc.fetches == 1  # at start-up; failures within the interval fetch nothing


async def test_unreachable_keys_url_answers_503_until_keys_arrive(
    settings_env: dict[str, str], keys: KeyPair, redis_client: object
) -> None:
    del settings_env["TUXHOOK_TUXSUITE_KEYS_FILE"]
    doc = StaticDocument("unavailable", status=500)
    async with serve_document(doc, KEYS_PATH) as keys_url:
        settings_env["TUXHOOK_TUXSUITE_KEYS_URL"] = keys_url
        settings_env["TUXHOOK_KEYS_REFETCH_INTERVAL"] = str(REFETCH_S)
        async with serving(Settings.from_env(settings_env)) as served:
            http, url = served.http, served.url
            assert await post(http, url, keys) == (503, "keys_unavailable")
            doc.body, doc.status = keys_json(keys), 200
            await asyncio.sleep(REFETCH_S)
            assert await post(http, url, keys) == (202, "")


async def test_keys_file_may_hold_several_keys(
    settings_env: dict[str, str], tmp_path: Path, keys: KeyPair, redis_client: object
) -> None:
    other = make_key_pair(tmp_path, "other")
    lines = tmp_path / "authorized.pub"
    lines.write_text(f"# group keys\n{keys.public_line}\n\n{other.public_line}\n")
    settings_env["TUXHOOK_TUXSUITE_KEYS_FILE"] = str(lines)
    async with serving(Settings.from_env(settings_env)) as served:
        http, url = served.http, served.url
        assert await post(http, url, keys) == (202, "")
        assert await post(http, url, other) == (202, "")
    assert queued_count(redis_client) == 2  # type: ignore[arg-type]


async def test_without_any_tuxsuite_key_callbacks_are_refused_not_deferred(
    settings_env: dict[str, str], keys: KeyPair, tmp_path: Path, redis_client: object
) -> None:
    """With only token users configured, a signed callback is a 401: retrying cannot help."""
    del settings_env["TUXHOOK_TUXSUITE_KEYS_FILE"]
    users = tmp_path / "users.toml"
    users.write_text('[users.alice]\naccess_key = "' + "k" * 40 + '"\n')
    settings_env["TUXHOOK_USERS_FILE"] = str(users)
    async with serving(Settings.from_env(settings_env)) as served:
        http, url = served.http, served.url
        assert await post(http, url, keys) == (401, "bad_signature")
