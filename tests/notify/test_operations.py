"""Operations: `tuxhook notify test SINK`, `tuxhook status`'s backlog, /metrics' figures."""

from __future__ import annotations

import json
from pathlib import Path

from redis import Redis

from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.cli import one_line_error, run_cli
from tests.support.keys import KeyPair
from tests.support.metrics import scrape, value
from tests.support.notify_files import (
    KCIDB_TOKEN,
    SECRET,
    apprise_sink,
    kcidb_sink,
    rule,
    webhook_sink,
    write_notify_file,
)
from tests.support.redis_server import free_port
from tests.support.sinks import JsonEndpoint, KcidbStandIn, WebhookReceiver
from tests.support.workers import drain


def test_notify_test_sends_a_test_event_to_each_kind_of_sink(
    settings_env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    with JsonEndpoint().running() as chat, KcidbStandIn(KCIDB_TOKEN).running() as kcidb:
        assert isinstance(kcidb, KcidbStandIn) and isinstance(chat, JsonEndpoint)
        path = write_notify_file(
            tmp_path,
            webhook_sink("hook", hook.url("/hook?key=in-the-query")),
            apprise_sink("chat", f"json://127.0.0.1:{chat.port}/notify"),
            kcidb_sink("kernelci", kcidb.url("/submit")),
        )
        env = {**settings_env, "TUXHOOK_NOTIFY_FILE": str(path)}
        said = {name: run_cli(env, "notify", "test", name) for name in ("hook", "chat", "kernelci")}
        assert kcidb.submissions == [{"version": {"major": 5, "minor": 3}}]
        assert [m["title"] for m in chat.received] == ["tuxhook: test notification"]
    for done in said.values():
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout and KCIDB_TOKEN not in done.stdout
    [got] = hook.received
    assert got.event["type"] == "test"
    assert f"took test event {got.event_id}: 204" in said["hook"].stdout
    assert "in-the-query" not in said["hook"].stdout and "key=***" in said["hook"].stdout
    assert said["kernelci"].stdout.endswith(": 200: Submission received\n")


def test_notify_test_says_in_one_line_what_went_wrong(
    settings_env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"
    path = write_notify_file(
        tmp_path, webhook_sink("hook", hook.url("/hook")), webhook_sink("down", down)
    )
    env = {**settings_env, "TUXHOOK_NOTIFY_FILE": str(path)}
    assert "no sink 'nope'" in one_line_error(run_cli(env, "notify", "test", "nope"))
    assert f"{down} did not answer" in one_line_error(run_cli(env, "notify", "test", "down"))
    hook.script = [403]
    assert "answered 403: scripted 403" in one_line_error(run_cli(env, "notify", "test", "hook"))
    assert "TUXHOOK_NOTIFY_FILE is not set" in one_line_error(
        run_cli(settings_env, "notify", "test", "hook")
    )


async def test_status_and_metrics_show_the_backlog_and_deliveries(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"
    path = write_notify_file(
        tmp_path,
        webhook_sink("hook", hook.url("/hook")),
        webhook_sink("down", down),
        rule(["outcome"], ["hook", "down"]),
    )
    env = {**store_env, "TUXHOOK_NOTIFY_FILE": str(path)}
    settings = Settings.from_env(env)
    async with serving(settings) as receiver:
        await post_document(receiver, keys, callback("build"))
        drain(settings, redis_client)
        drain(settings, redis_client)  # a second pass: maintenance counts what the first left
        metrics = await scrape(receiver.url, receiver.http)
    deliveries = "tuxhook_notify_deliveries_total"
    assert value(metrics, deliveries, sink="hook", outcome="delivered") == 1
    # Each pass tries the sink that is down again once its retry is due: a load may allow two.
    assert value(metrics, deliveries, sink="down", outcome="retried") in (1, 2)
    assert value(metrics, "tuxhook_outbox_undelivered") == 1
    assert value(metrics, "tuxhook_outbox_oldest_undelivered_age_seconds") > 0
    done = run_cli(env, "status", "--json")
    assert done.returncode == 0, done.stderr
    notify = json.loads(done.stdout)["notify"]
    assert notify["outbox"]["undelivered"] == 1 and notify["outbox"]["by_sink"] == {"down": 1}
    assert notify["outbox"]["oldest_undelivered_at"] is not None
    assert [s["name"] for s in notify["sinks"]] == ["hook", "down"]
    shown = run_cli(env, "status")
    assert "notifications: 1 undelivered, oldest " in shown.stdout
    assert SECRET not in shown.stdout + done.stdout


def test_status_shows_the_queues_when_the_store_is_not_there(
    settings_env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    path = write_notify_file(tmp_path, webhook_sink("hook", hook.url("/hook")))
    env = {
        **settings_env,
        "TUXHOOK_NOTIFY_FILE": str(path),
        "TUXHOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'absent.sqlite3'}",
    }
    done = run_cli(env, "status")
    assert done.returncode == 0, done.stderr
    assert "notifications: cannot use the store" in done.stdout
    assert "  hook  webhook  " in done.stdout and "undelivered=-" in done.stdout
    assert "QUEUE" in done.stdout
