"""Links in notifications go to the outcome's page (/outcomes/{kind}/{uid}), where people read
it, not to its JSON; with TUXHOOK_PUBLIC_URL unset there is no link, in the webhook's event JSON
or in apprise's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.keys import KeyPair
from tests.support.notify_files import apprise_sink, rule, webhook_sink, write_notify_file
from tests.support.sinks import JsonEndpoint, WebhookReceiver
from tests.support.workers import drain


@pytest.mark.parametrize(
    ("public_url", "page"),
    [
        ("https://ci.example.org/tuxhook/", "https://ci.example.org/tuxhook/outcomes/build/{uid}"),
        ("https://ci.example.org", "https://ci.example.org/outcomes/build/{uid}"),
        (None, None),
    ],
)
async def test_the_link_is_the_outcomes_page_or_none(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    public_url: str | None,
    page: str | None,
) -> None:
    with JsonEndpoint().running() as chat:
        path = write_notify_file(
            tmp_path,
            webhook_sink("hook", hook.url("/hook")),
            apprise_sink("chat", f"json://127.0.0.1:{chat.port}/notify"),
            rule(["build_failed"], ["hook", "chat"]),
        )
        env = {**store_env, "TUXHOOK_NOTIFY_FILE": str(path)}
        if public_url is not None:
            env["TUXHOOK_PUBLIC_URL"] = public_url
        settings = Settings.from_env(env)
        doc = callback("build", result="fail", build_status="fail")
        async with serving(settings) as receiver:
            await post_document(receiver, keys, doc)
        drain(settings, redis_client)
        assert isinstance(chat, JsonEndpoint)
        [text] = [m["message"] for m in chat.received]
    [event] = [d.event for d in hook.received]
    link = page.format(uid=doc["status"]["uid"]) if page else None
    assert event["url"] == link
    if link is None:
        assert "outcomes/" not in text and "http" not in text
    else:
        assert text.splitlines()[-1] == link
