"""Regressions, fixes and superseded transitions reach the sinks: written to the outbox with
the transitions they announce, each delivered once to a webhook receiver, with the test, its
environment, both runs and their pages; a late run's comparison supersedes an earlier one's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis import Redis

from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.keys import KeyPair
from tests.support.notify_files import apprise_sink, rule, webhook_sink, write_notify_file
from tests.support.outbox import outbox_rows
from tests.support.series import a_test, build, uid
from tests.support.sinks import JsonEndpoint, WebhookReceiver
from tests.support.tuxsuite_api import cases_document, results, tuxsuite_api
from tests.support.workers import drain

TRANSITIONS = ["regression", "fix", "superseded"]
PAGES = "https://th.example"


async def store_in_turn(
    settings: Settings, keys: KeyPair, redis: Redis, *docs: dict[str, Any]
) -> None:
    """Each build stored, compared and its events delivered before the next is sent."""
    for doc in docs:
        async with serving(settings) as receiver:
            await post_document(receiver, keys, doc)
        drain(settings, redis)


def seen(hook: WebhookReceiver) -> list[tuple[str, str, str, str]]:
    """(type, transition type, before uid, after uid) of each delivery, in order."""
    return [
        (
            d.event["type"],
            d.event["regression"]["type"],
            d.event["regression"]["before"]["uid"],
            d.event["regression"]["after"]["uid"],
        )
        for d in hook.received
    ]


async def test_a_regression_a_fix_and_a_superseded_one_are_each_delivered_once(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    with JsonEndpoint().running() as chat:
        path = write_notify_file(
            tmp_path,
            webhook_sink("hook", hook.url("/hook")),
            apprise_sink("chat", f"json://127.0.0.1:{chat.port}/notify"),
            rule(TRANSITIONS, ["hook", "chat"], ["lkft/*"]),
            rule(["outcome"], ["hook"], ["nothing/*"]),
        )
        env = {**store_env, "TUXHOOK_NOTIFY_FILE": str(path), "TUXHOOK_PUBLIC_URL": PAGES}
        settings = Settings.from_env(env)
        # One environment's builds: pass at 0, fail at 2, pass at 3; then, late, fail at 1.
        b0, b2, b3 = (
            build(c, "arm64", "gcc-13", s) for c, s in ((0, "pass"), (2, "fail"), (3, "pass"))
        )
        b1 = build(1, "arm64", "gcc-13", "fail")
        await store_in_turn(settings, keys, redis_client, b0, b2, b3, b1)
        # Storing b1 again (a redelivery) announces nothing again.
        await store_in_turn(settings, keys, redis_client, b1)
        assert isinstance(chat, JsonEndpoint)
        titles = [m["title"] for m in chat.received]
    assert sorted(seen(hook)) == sorted(
        [
            ("regression", "regression", uid(b0), uid(b2)),
            ("fix", "fix", uid(b2), uid(b3)),
            ("regression", "regression", uid(b0), uid(b1)),
            ("superseded", "regression", uid(b0), uid(b2)),
        ]
    )
    assert len(set(hook.ids())) == 4 and hook.unverified == 0
    first = hook.received[0].event
    assert first["id"] == hook.received[0].event_id
    assert first["regression"]["test"] == "build"
    assert first["regression"]["environment"]["target_arch"] == "arm64"
    assert first["regression"]["before"]["url"] == f"{PAGES}/outcomes/build/{uid(b0)}"
    assert (
        first["url"] == first["regression"]["after"]["url"] == f"{PAGES}/outcomes/build/{uid(b2)}"
    )
    # The superseded event is an event of its own, not the regression's again.
    [superseded] = [d for d in hook.received if d.event["type"] == "superseded"]
    assert superseded.event["regression"]["superseded_at"] is not None
    assert superseded.event_id != first["id"]
    rows = outbox_rows(database_url)
    assert len(rows) == 8 and all(r.delivered and r.attempts == 1 for r in rows)
    assert sorted(titles) == [
        "tuxhook: build fix: lkft/mainline",
        "tuxhook: build regression withdrawn: lkft/mainline",
        "tuxhook: build regression: lkft/mainline",
        "tuxhook: build regression: lkft/mainline",
    ]


async def test_a_case_that_regressed_is_announced_when_its_cases_are_fetched(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    """Per-case results come from the enrich queue, after the test's outcome was compared: the
    regression their comparison records is announced by the fetch's job, once."""
    path = write_notify_file(
        tmp_path, webhook_sink("hook", hook.url("/hook")), rule(TRANSITIONS, ["hook"], ["lkft/*"])
    )
    suites = {"ltp-smoke": "pass"}  # the suite passes both times: only a case turns
    b0, b1 = build(0, "arm64", "gcc-13"), build(1, "arm64", "gcc-13")
    t0, t1 = a_test(b0, 0, 30, suites), a_test(b1, 1, 30, suites)
    with tuxsuite_api() as api:
        for test, result in ((t0, "pass"), (t1, "fail")):
            cases = cases_document({"1_ltp-smoke": {"chdir01": result}})
            api.answer(uid(test), results(cases), project="lkft/mainline")
        env = {
            **store_env,
            "TUXHOOK_NOTIFY_FILE": str(path),
            "TUXHOOK_TUXSUITE_API_URL": api.url,
            "TUXHOOK_TUXSUITE_TOKEN": "tuxsuite-token",
        }
        settings = Settings.from_env(env)
        await store_in_turn(settings, keys, redis_client, b0, t0, b1, t1)
        assert api.fetches(uid(t1), project="lkft/mainline") == 1
    [delivery] = hook.received
    assert seen(hook) == [("regression", "regression", uid(t0), uid(t1))]
    assert delivery.event["regression"]["test"] == "ltp-smoke/chdir01"
    assert delivery.event["regression"]["kind"] == "test"
