"""`tuxhook dev` (behind `make run`): what it starts, what it says, and how it stops.

A terminal's Ctrl-C is SIGINT to its whole foreground process group: these tests send exactly
that, to a `tuxhook dev` leading a group of its own, and check that it stops its children in
order, says so in one line, and leaves nothing running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker

from shared.cli.dev import DEMO, open_reads_on_loopback
from shared.cli.signing import load_private_key, sign
from shared.constants import QUEUE_NAMES, SIGNATURE_HEADER
from shared.db.migrate import head_revision
from tests.support.builders import callback, encode
from tests.support.processes import (
    Process,
    child_env,
    descendants,
    kill_processes_in,
    processes_in,
    tuxhook_command,
)
from tests.support.queues import scheduler_locked
from tests.support.redis_server import RedisServer, free_port
from tests.support.sockets import alive, children, wait_until

HEAD = head_revision()  # the schema revision `tuxhook db upgrade` migrates to

WAIT_S = 30.0  # seconds for the demo to store a callback, or to stop
STOPPED = "tuxhook dev: stopped the receiver, the workers and redis-server"
STARTS = (
    "tuxhook dev: running the receiver on http://127.0.0.1:{port}, a worker process per queue"
    " (build, oebuild, test, plan, enrich, notify), each with RQ's scheduler, under one parent;"
    " Ctrl-C stops them all"
)


def get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def post_signed(url: str, key_path: Path, body: bytes) -> int:
    headers = {"Content-Type": "application/json"}
    headers[SIGNATURE_HEADER] = sign(load_private_key(key_path), body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as resp:
        return int(resp.status)


def errors_in(output: list[str]) -> list[str]:
    """Tracebacks, and log lines at error level or above."""
    bad = []
    for line in output:
        level = json.loads(line).get("level") if line.startswith("{") else None
        if "Traceback" in line or level in ("error", "critical"):
            bad.append(line)
    return bad


def lines(dev: Process) -> list[str]:
    """What `tuxhook dev` itself said (its children's log lines are JSON)."""
    return [ln for ln in dev.output().splitlines() if not ln.startswith("{")]


def start_dev(tmp_path: Path, env: dict[str, str]) -> Process:
    return Process(
        tuxhook_command("dev"), child_env(env), tmp_path / "dev.log", tmp_path, new_group=True
    )


def wait_announced(dev: Process) -> None:
    """Until tuxhook dev says what it runs, which it does once the receiver answers."""
    wait_until(
        lambda: "tuxhook dev: running the receiver" in dev.output(), "the announcement", WAIT_S
    )


def wait_workers(redis: Redis) -> None:
    def ready() -> bool:
        queues = sorted(q for w in Worker.all(connection=redis) for q in w.queue_names())
        return queues == sorted(QUEUE_NAMES) and scheduler_locked(redis)

    wait_until(ready, "a worker and a scheduler on every queue", WAIT_S)


@pytest.fixture
def dev_env() -> dict[str, str]:
    """`make run` on a machine with no Redis answering: tuxhook dev starts its own."""
    return {
        "TUXHOOK_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "TUXHOOK_PORT": str(free_port()),
    }


@pytest.fixture
def everything_stopped(tmp_path: Path) -> Iterator[list[Process]]:
    """Kills what a failed test left running: the dev processes it lists, their trees, and
    any process of theirs that lost its parent (each works in the test's folder)."""
    started: list[Process] = []
    yield started
    for dev in started:
        if dev.popen.poll() is None:
            dev.kill_tree()
        dev.stop()
    kill_processes_in(tmp_path)


def test_ctrl_c_stops_the_receiver_the_workers_then_redis_and_leaves_nothing(
    tmp_path: Path, dev_env: dict[str, str], everything_stopped: list[Process]
) -> None:
    port = int(dev_env["TUXHOOK_PORT"])
    dev = start_dev(tmp_path, dev_env)
    everything_stopped.append(dev)
    wait_announced(dev)
    redis = Redis.from_url(dev_env["TUXHOOK_REDIS_URL"])
    wait_workers(redis)
    children = descendants(dev.popen.pid)
    # The receiver, redis-server, the pool's parent, and a worker and a scheduler per queue.
    assert len(children) == 3 + 2 * len(QUEUE_NAMES), children
    before = len(dev.output().splitlines())

    os.killpg(dev.popen.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it

    assert dev.wait(timeout=WAIT_S) == 128 + signal.SIGINT
    assert lines(dev)[-1] == STOPPED
    assert errors_in(dev.output().splitlines()[before:]) == []
    assert [pid for pid in children if alive(pid)] == []
    assert processes_in(tmp_path) == []
    assert STARTS.format(port=port) in lines(dev)


def test_the_demo_stores_a_callback_signed_with_the_published_key(
    redis_server: RedisServer,
    redis_client: Redis,
    tmp_path: Path,
    everything_stopped: list[Process],
) -> None:
    """With a Redis that answers, tuxhook dev uses it, and starts and stops no other."""
    port = free_port()
    dev = start_dev(tmp_path, {"TUXHOOK_REDIS_URL": redis_server.url, "TUXHOOK_PORT": str(port)})
    everything_stopped.append(dev)
    base = f"http://127.0.0.1:{port}"
    wait_announced(dev)
    doc = callback("build")
    assert post_signed(f"{base}/v1/callbacks/tuxsuite", DEMO / "demo-key.pem", encode(doc)) == 202
    url = f"{base}/v1/outcomes/build/{doc['status']['uid']}"
    wait_until(lambda: get(url)[0] == 200, f"an outcome at {url}", WAIT_S)
    wait_workers(redis_client)
    workers = Worker.all(connection=redis_client)

    dev.signal(signal.SIGTERM)

    assert dev.wait(timeout=WAIT_S) == 128 + signal.SIGTERM
    said = lines(dev)
    assert said[0] == (
        "tuxhook dev: no keys or users file configured: verifying with the demo key and user in"
        f" {DEMO}, which are published (anyone can sign with them)"
    )
    # On loopback, reads are open: the outcome above was read without credentials.
    assert (
        said[1] == "tuxhook dev: reads need no credentials on 127.0.0.1 (TUXHOOK_READ_ACCESS=open)"
    )
    store = tmp_path / "var" / "tuxhook.sqlite3"
    assert f"tuxhook: the store {store} is at schema revision {HEAD}" in said  # db upgrade's
    assert said[-1] == "tuxhook dev: stopped the receiver and the workers"
    assert redis_client.ping()  # not ours to stop
    assert [w.pid for w in workers if w.pid is not None and alive(w.pid)] == []
    assert processes_in(tmp_path) == []
    starting = [json.loads(ln) for ln in dev.output().splitlines() if "_starting" in ln]
    assert sorted("settings" in e for e in starting) == [False, True]  # the receiver's, once


def test_a_child_that_dies_stops_the_others_and_says_which(
    tmp_path: Path, dev_env: dict[str, str], everything_stopped: list[Process]
) -> None:
    with socket.create_server(("127.0.0.1", int(dev_env["TUXHOOK_PORT"]))):  # the port is taken
        dev = start_dev(tmp_path, dev_env)
        everything_stopped.append(dev)
        assert dev.wait(timeout=WAIT_S) == 1
    said = lines(dev)
    assert said[-2:] == [
        "tuxhook dev: the receiver exited with status 1",
        "tuxhook dev: stopped the workers and redis-server",
    ]
    assert errors_in(dev.output().splitlines()) == []
    assert processes_in(tmp_path) == []


def test_the_published_demo_key_is_for_loopback_only(
    tmp_path: Path, dev_env: dict[str, str], everything_stopped: list[Process]
) -> None:
    dev = start_dev(tmp_path, dev_env | {"TUXHOOK_HOST": "0.0.0.0"})
    everything_stopped.append(dev)
    assert dev.wait(timeout=WAIT_S) == 1
    assert dev.output().splitlines() == [
        "tuxhook: error: no keys configured, and tuxhook dev's demo key is published: on 0.0.0.0,"
        " set TUXHOOK_TUXSUITE_KEYS_FILE, TUXHOOK_TUXSUITE_KEYS_URL or TUXHOOK_USERS_FILE"
    ]
    assert list(tmp_path.iterdir()) == [tmp_path / "dev.log"]  # nothing started, nothing made


def group_leaders(pid: int) -> list[int]:
    """The children of `pid` that lead a process group of their own."""
    leaders = []
    for child in children(pid):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(child) == child:
                leaders.append(child)
    return leaders


def test_interrupted_while_starting_it_still_stops_what_it_started(
    tmp_path: Path, dev_env: dict[str, str], everything_stopped: list[Process]
) -> None:
    dev = start_dev(tmp_path, dev_env)
    everything_stopped.append(dev)
    # redis-server, the workers and the receiver started, and the last two not ready yet. Each
    # counted once it leads its own process group: a child just forked is still in dev's, where
    # the terminal's Ctrl-C would reach it directly, before dev knows of it.
    wait_until(lambda: len(group_leaders(dev.popen.pid)) == 3, "three children", WAIT_S)
    assert "running the receiver" not in dev.output()
    os.killpg(dev.popen.pid, signal.SIGINT)
    assert dev.wait(timeout=WAIT_S) == 128 + signal.SIGINT
    assert lines(dev)[-1] == STOPPED
    assert processes_in(tmp_path) == []


@pytest.mark.parametrize(
    ("host", "given", "read_access"),
    [
        ("127.0.0.1", {}, "open"),
        ("::1", {}, "open"),
        ("localhost", {}, "open"),
        ("127.0.0.1", {"TUXHOOK_READ_ACCESS": "users"}, "users"),
        ("0.0.0.0", {}, None),
        ("192.0.2.10", {}, None),
        ("tuxhook.example.org", {}, None),
    ],
)
def test_dev_opens_reads_on_loopback_only(
    host: str, given: dict[str, str], read_access: str | None
) -> None:
    env = dict(given)
    assert open_reads_on_loopback(env, host) == (read_access == "open" and not given)
    assert env.get("TUXHOOK_READ_ACCESS") == read_access
