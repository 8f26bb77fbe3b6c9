"""Each sink against a real local endpoint: signed webhooks verified with standardwebhooks,
apprise to a JSON endpoint and to an SMTP server, KCIDB submissions validated with kcidb-io."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from shared.errors import SinkRejected, SinkUnavailable
from shared.notify_config import AppriseSink, KcidbSink, WebhookSink
from shared.settings import Secret
from tests.support.notify_files import KCIDB_TOKEN, OLD_SECRET, SECRET
from tests.support.redis_server import free_port
from tests.support.sinks import JsonEndpoint, KcidbStandIn, WebhookReceiver, smtp_server
from worker.notify.sinks import send
from worker.notify.sinks.kcidb_submission import submission

SHA = "0123456789abcdef0123456789abcdef01234567"
BUILD = {
    "kind": "build",
    "uid": "2QpE0aJbVn6S1rKx9WmT3yZcH4u",
    "project": "linaro/lkft",
    "state": "finished",
    "result": "fail",
    "build_status": "fail",
    "build_name": "gcc-13-defconfig",
    "toolchain": "gcc-13",
    "target_arch": "arm64",
    "kconfig": ["defconfig", "CONFIG_KASAN=y"],
    "git_repo": "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git",
    "git_ref": "master",
    "git_sha": SHA,
    "git_describe": "v6.7-rc1-12-g0123456789ab",
    "kernel_version": "6.7.0-rc1",
    "warnings_count": 2,
    "errors_count": 1,
    "duration": 312.0,
    "build_duration": 290.5,
    "download_url": "https://storage.tuxsuite.com/public/linaro/lkft/builds/2QpE0aJbVn6S1rKx9WmT3yZcH4u/",
}
TEST = {
    "kind": "test",
    "uid": "2QpE3uN8dA1bK5cX7vR0mS2jL6w",
    "project": "linaro/lkft",
    "state": "finished",
    "result": "fail",
    "device": "qemu-arm64",
    "build_uid": BUILD["uid"],
    "results": {
        "boot": "pass",
        "ltp-syscalls": "fail",
        "kselftest.net": "skip",
        "odd name!": "pass",
    },
    "duration": 117.0,
    "download_url": "https://storage.tuxsuite.com/public/linaro/lkft/tests/2QpE3uN8dA1bK5cX7vR0mS2jL6w/",
}


def event(outcome: dict[str, Any], event_type: str = "build_failed") -> tuple[str, str]:
    event_id = f"evt_{event_type}_{outcome['uid']}"
    doc = {
        "id": event_id,
        "type": event_type,
        "created_at": datetime.now(UTC).isoformat(),
        "outcome": outcome,
        "url": f"https://tuxhook.example.org/outcomes/{outcome['kind']}/{outcome['uid']}",
    }
    return event_id, orjson.dumps(doc).decode()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET).running() as server:
        assert isinstance(server, WebhookReceiver)
        yield server


@pytest.fixture
def kcidb() -> Iterator[KcidbStandIn]:
    with KcidbStandIn(KCIDB_TOKEN).running() as server:
        assert isinstance(server, KcidbStandIn)
        yield server


def webhook_sink(url: str, *secrets: str) -> WebhookSink:
    return WebhookSink("hook", url, tuple(Secret(s) for s in secrets or (SECRET,)))


def kcidb_sink(url: str, token: str = KCIDB_TOKEN) -> KcidbSink:
    return KcidbSink("kernelci", url, Secret(token), "tuxhook_test")


def test_a_webhook_is_signed_as_standard_webhooks_says(hook: WebhookReceiver) -> None:
    event_id, text = event(BUILD)
    assert send(webhook_sink(hook.url("/hook")), event_id, text).startswith("204")
    [got] = hook.received
    assert got.event_id == event_id and got.event["outcome"]["uid"] == BUILD["uid"]


def test_during_a_rotation_either_secret_verifies(hook: WebhookReceiver) -> None:
    """The sink signs with the old secret and the new: a receiver that knows either verifies."""
    event_id, text = event(BUILD)
    send(webhook_sink(hook.url("/hook"), OLD_SECRET, SECRET), event_id, text)
    assert hook.ids() == [event_id] and hook.unverified == 0
    with pytest.raises(SinkRejected, match="answered 401"):
        send(webhook_sink(hook.url("/hook"), OLD_SECRET), event_id, text)
    assert hook.unverified == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, SinkUnavailable),
        (503, SinkUnavailable),
        (408, SinkUnavailable),
        (429, SinkUnavailable),
        (400, SinkRejected),
        (404, SinkRejected),
        (410, SinkRejected),
        (301, SinkRejected),
    ],
)
def test_what_an_answer_means(hook: WebhookReceiver, status: int, error: type[Exception]) -> None:
    hook.script = [status]
    with pytest.raises(error, match=f"answered {status}: scripted {status}"):
        send(webhook_sink(hook.url("/hook")), *event(BUILD))
    assert hook.received == []


def test_a_sink_that_is_not_there_is_retried() -> None:
    with pytest.raises(SinkUnavailable, match="did not answer"):
        send(webhook_sink(f"http://127.0.0.1:{free_port()}/hook"), *event(BUILD))


def test_apprise_posts_a_short_text_with_a_link_to_a_json_endpoint() -> None:
    with JsonEndpoint().running() as endpoint:
        assert isinstance(endpoint, JsonEndpoint)
        url = f"json://127.0.0.1:{endpoint.port}/notify"
        sink = AppriseSink("chat", (Secret(url),))
        assert send(sink, *event(TEST, "test_failed")) == "notified 1 URL(s)"
        [got] = endpoint.received
    assert got["title"] == "tuxhook: test test failed: linaro/lkft"
    assert f"test {TEST['uid']} in linaro/lkft: test failed, result fail" in got["message"]
    assert f"https://tuxhook.example.org/outcomes/test/{TEST['uid']}" in got["message"]


def test_apprise_mails_through_an_smtp_server() -> None:
    with smtp_server() as (port, messages):
        url = f"mailto://127.0.0.1:{port}?from=tuxhook@example.org&to=ops@example.org"
        send(AppriseSink("mail", (Secret(url),)), *event(BUILD))
    [mail] = messages
    assert mail["to"] == "ops@example.org"
    assert mail["subject"] == "tuxhook: build build failed: linaro/lkft"
    assert "gcc-13-defconfig" in mail["body"]


def test_apprise_that_cannot_deliver_is_retried() -> None:
    sink = AppriseSink("chat", (Secret(f"json://127.0.0.1:{free_port()}/notify"),))
    with pytest.raises(SinkUnavailable, match="apprise could not notify"):
        send(sink, *event(BUILD))


def test_a_build_reaches_kcidb_as_a_checkout_and_a_build(kcidb: KcidbStandIn) -> None:
    assert send(kcidb_sink(kcidb.url("/submit")), *event(BUILD)) == "200: Submission received"
    [sub] = kcidb.submissions
    [checkout], [build] = sub["checkouts"], sub["builds"]
    assert sub["version"] == {"major": 5, "minor": 3}
    assert checkout["git_commit_hash"] == SHA and checkout["git_repository_branch"] == "master"
    assert build["id"] == f"tuxhook_test:{BUILD['uid']}" and build["checkout_id"] == checkout["id"]
    assert (build["status"], build["architecture"], build["compiler"]) == (
        "FAIL",
        "arm64",
        "gcc-13",
    )
    assert build["config_name"] == "defconfig+CONFIG_KASAN=y" and build["duration"] == 290.5


def test_a_test_reaches_kcidb_as_one_test_per_suite(kcidb: KcidbStandIn) -> None:
    send(kcidb_sink(kcidb.url("/submit")), *event(TEST, "test_failed"))
    [sub] = kcidb.submissions
    tests = {t["path"]: t for t in sub["tests"]}
    assert {p: t["status"] for p, t in tests.items()} == {
        "boot": "PASS",
        "ltp-syscalls": "FAIL",
        "kselftest.net": "SKIP",
        "odd_name_": "PASS",
    }
    assert {t["build_id"] for t in sub["tests"]} == {f"tuxhook_test:{BUILD['uid']}"}
    assert tests["boot"]["id"] == f"tuxhook_test:{TEST['uid']}.boot"


def test_kcidb_refuses_a_bad_token_at_once(kcidb: KcidbStandIn) -> None:
    with pytest.raises(SinkRejected, match="answered 401: JWT is required"):
        send(kcidb_sink(kcidb.url("/submit"), "wrong"), *event(BUILD))


def test_a_submission_kcidb_would_refuse_is_not_sent(kcidb: KcidbStandIn) -> None:
    odd = {**BUILD, "duration": None, "build_duration": "slow"}
    with pytest.raises(SinkRejected, match="KCIDB's schema refuses the submission"):
        send(kcidb_sink(kcidb.url("/submit")), *event(odd))
    assert kcidb.submissions == [] and kcidb.refused == []


def test_values_kcidb_cannot_hold_are_left_out() -> None:
    odd = {**BUILD, "git_sha": "abc", "git_repo": "git://x", "target_arch": "ARM64!"}
    [checkout] = submission("o", {"outcome": odd})["checkouts"]
    assert "git_commit_hash" not in checkout and "git_repository_url" not in checkout
    assert "architecture" not in submission("o", {"outcome": odd})["builds"][0]
