"""The outbox, end to end in one pass of the workers: a stored outcome's events are written with
it, handed to the notify queue and delivered once; what is not final announces nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.keys import KeyPair
from tests.support.notify_files import rule, webhook_sink, write_notify_file
from tests.support.outbox import outbox_rows
from tests.support.sinks import WebhookReceiver
from tests.support.workers import drain

ALL = ["build_failed", "build_error", "test_failed", "infra_error", "plan_finished", "outcome"]


def notify_env(env: dict[str, str], tmp_path: Path, hook: WebhookReceiver) -> dict[str, str]:
    path = write_notify_file(
        tmp_path, webhook_sink("hook", hook.url("/hook")), rule(ALL, ["hook"], ["linaro/*"])
    )
    return {**env, "TUXHOOK_NOTIFY_FILE": str(path), "TUXHOOK_PUBLIC_URL": "https://th.example/"}


async def store(env: dict[str, str], keys: KeyPair, redis: Redis, *docs: dict[str, object]) -> None:
    settings = Settings.from_env(env)
    async with serving(settings) as receiver:
        for doc in docs:
            await post_document(receiver, keys, doc)
    drain(settings, redis)


async def test_a_failed_build_is_announced_once_to_each_of_its_rules_sinks(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    env = notify_env(store_env, tmp_path, hook)
    doc = callback("build", project="linaro/lkft", result="fail", build_status="fail")
    uid = doc["status"]["uid"]
    await store(env, keys, redis_client, doc)
    types = sorted(d.event["type"] for d in hook.received)
    assert types == ["build_failed", "outcome"]
    assert len(set(hook.ids())) == 2
    for got in hook.received:
        assert got.event["id"] == got.event_id
        assert got.event["outcome"]["uid"] == uid
        assert got.event["url"] == f"https://th.example/outcomes/build/{uid}"
    rows = outbox_rows(database_url)
    assert [(r.handed, r.delivered, r.attempts) for r in rows] == [(True, True, 1)] * 2
    # The same verdict stored again (a corrected redelivery) is the same events, kept once.
    again = {**doc, "status": {**doc["status"], "duration": 1}}
    await store(env, keys, redis_client, again)
    assert len(hook.received) == 2 and len(outbox_rows(database_url)) == 2


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("build", {"result": "pass", "build_status": "pass"}, ["outcome"]),
        # Not final: TuxSuite builds an error again until its retry reaches 2.
        ("build", {"result": "error", "build_status": "error"}, []),
        (
            "build",
            {"result": "error", "build_status": "error", "retry": 2},
            ["build_error", "outcome"],
        ),
        ("build", {"state": "running"}, []),
        ("test", {"result": "fail"}, ["outcome", "test_failed"]),
        ("test", {"result": "error", "results": {"boot": "unknown"}}, ["infra_error", "outcome"]),
        ("test", {"result": "unknown"}, []),  # not final: no verdict yet
        ("plan", {}, ["outcome", "plan_finished"]),
        ("oebuild", {"result": "fail"}, ["outcome"]),
        ("build", {"project": "other/x", "result": "fail"}, []),
    ],
)
async def test_which_events_an_outcome_announces(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    kind: str,
    status: dict[str, Any],
    expected: list[str],
) -> None:
    env = notify_env(store_env, tmp_path, hook)
    doc = callback(kind, **{"project": "linaro/lkft", **status})
    await store(env, keys, redis_client, doc)
    assert sorted(d.event["type"] for d in hook.received) == expected


async def test_a_stale_delivery_announces_nothing(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    """A finished delivery older, by its own clock, than the one stored is only counted: what
    it would announce is not written."""
    env = notify_env(store_env, tmp_path, hook)
    late = callback("build", project="linaro/lkft", finished_time="2024-05-01T10:09:00")
    early = {**late, "status": {**late["status"], "finished_time": "2024-05-01T10:00:00"}}
    early["status"].update(result="fail", build_status="fail")
    await store(env, keys, redis_client, late)
    await store(env, keys, redis_client, early)
    assert [d.event["outcome"]["result"] for d in hook.received] == ["pass"]
    assert [r.type for r in outbox_rows(database_url)] == ["outcome"]
