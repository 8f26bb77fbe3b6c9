"""The notify file: parsed whole at start-up, every mistake one line, its secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.notify_config import AppriseSink, KcidbSink, WebhookSink, load_notify_file
from tests.support.cli import one_line_error
from tests.support.notify_files import (
    KCIDB_TOKEN,
    OLD_SECRET,
    SECRET,
    apprise_sink,
    kcidb_sink,
    rule,
    webhook_sink,
    write_notify_file,
)
from tests.support.processes import run_tuxhook

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
HOOK = webhook_sink("hook", "https://hooks.example.org/x?token=query-secret", (SECRET, OLD_SECRET))
CHAT = apprise_sink(
    "chat",
    "json://127.0.0.1:9/notify",
    "mailto://user:mail-pass@127.0.0.1:9?from=tuxhook@example.org&to=ops@example.org",
)
KCIDB = kcidb_sink("kernelci", "https://kcidb.example.org/submit")


def test_a_whole_file_is_read(tmp_path: Path) -> None:
    config = load_notify_file(
        write_notify_file(
            tmp_path,
            HOOK,
            CHAT,
            KCIDB,
            rule(["build_failed", "test_failed"], ["hook", "chat"], ["linaro/*"]),
            rule(["outcome", "regression"], ["kernelci", "hook"]),
            "[outbox]\nredrive_max_age_days = 3\nretention_days = 9\n",
        )
    )
    assert isinstance(config.sinks["hook"], WebhookSink)
    assert isinstance(config.sinks["chat"], AppriseSink)
    kcidb = config.sinks["kernelci"]
    assert isinstance(kcidb, KcidbSink) and kcidb.token.reveal() == KCIDB_TOKEN
    assert config.sinks_for("build_failed", "linaro/lkft") == ("hook", "chat")
    assert config.sinks_for("build_failed", "other/x") == ()
    assert config.sinks_for("outcome", None) == ("kernelci", "hook")
    assert (config.redrive_max_age_days, config.retention_days) == (3, 9)
    shown = repr(config) + " ".join(s.target() for s in config.sinks.values())
    for secret in (SECRET, OLD_SECRET, "query-secret", "mail-pass", KCIDB_TOKEN):
        assert secret not in shown


def test_the_kcidb_token_may_ride_in_the_url_as_kcidb_rest_says(tmp_path: Path) -> None:
    text = (
        '[sinks.k]\ntype = "kcidb"\nurl = "https://tok123@kcidb.example.org/submit"\norigin = "o"\n'
    )
    sink = load_notify_file(write_notify_file(tmp_path, text)).sinks["k"]
    assert isinstance(sink, KcidbSink)
    assert (sink.url, sink.token.reveal()) == ("https://kcidb.example.org/submit", "tok123")
    assert "tok123" not in sink.target()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((HOOK, rule(["build_broke"], ["hook"])), "rules[0].events: build_broke is not an event"),
        ((HOOK, rule(["outcome"], ["nowhere"])), "rules[0].sinks names nowhere, not a sink"),
        (('[sinks.x]\ntype = "pager"\n',), "sinks.x.type must be one of webhook, apprise, kcidb"),
        ((apprise_sink("chat", "nonsense://what"),), "sinks.chat.urls[0] (nonsense://...) is not"),
        (
            (webhook_sink("h", "https://h.example", ["whsec_c2hvcnQgc2hvcnQgc2hvcnQ="]),),
            "a secret must hold 24 to",
        ),
        ((webhook_sink("h", "ftp://h.example"),), "sinks.h.url must be an http(s) URL"),
        (
            ('[sinks.k]\ntype = "kcidb"\nurl = "https://k.example/submit"\norigin = "o"\n',),
            "sinks.k.token is required",
        ),
        ((HOOK, "[outbox]\nretention = 3\n"), "unknown key outbox.retention"),
        (
            (webhook_sink("h", "https://h.example", timeout_s=0),),
            "sinks.h.timeout_seconds must be a number of seconds above 0, at most 60",
        ),
        (
            (apprise_sink("a", "json://127.0.0.1:9/x", timeout_s=61),),
            "sinks.a.timeout_seconds must be a number of seconds above 0, at most 60",
        ),
        (("rules = 3\n",), "rules must be an array of tables"),
    ],
)
def test_a_mistake_is_one_line_at_start_up(
    settings_env: dict[str, str], tmp_path: Path, parts: tuple[str, ...], message: str
) -> None:
    path = write_notify_file(tmp_path, *parts)
    with pytest.raises(ConfigError) as raised:
        load_notify_file(path)
    assert message in raised.value.message
    done = run_tuxhook({**settings_env, "TUXHOOK_NOTIFY_FILE": str(path)}, "worker", "--burst")
    line = one_line_error(done)
    assert f"{path}: " in line and message in line


def test_a_missing_file_is_one_line(settings_env: dict[str, str], tmp_path: Path) -> None:
    env = {**settings_env, "TUXHOOK_NOTIFY_FILE": str(tmp_path / "absent.toml")}
    assert "cannot read notify file" in one_line_error(run_tuxhook(env, "worker", "--burst"))


def test_secrets_are_not_in_the_workers_start_up_line(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    path = write_notify_file(tmp_path, HOOK, CHAT, KCIDB, rule(["outcome"], ["hook"]))
    env = {**settings_env, "TUXHOOK_NOTIFY_FILE": str(path), "TUXHOOK_LOG_LEVEL": "INFO"}
    assert run_tuxhook(env, "db", "upgrade").returncode == 0
    done = run_tuxhook(env, "worker", "--burst", "notify")
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "worker_starting" in said and "hooks.example.org" in said
    for secret in (SECRET, OLD_SECRET, "query-secret", "mail-pass", KCIDB_TOKEN):
        assert secret not in said


def test_the_docs_example_is_a_notify_file_tuxhook_reads(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_notify_file(write_notify_file(tmp_path, text))
    assert set(config.sinks) == {"ops-hook", "chat", "kernelci"}
    assert config.sinks["ops-hook"].timeout_s == 10.0
    assert config.sinks_for("test_failed", "linaro/lkft") == ("ops-hook", "chat")
