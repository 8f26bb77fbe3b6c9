"""`tuxhook receiver --processes N`: N receivers on one port, stopped and failed together."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import aiohttp
from redis import Redis

from tests.support.builders import signed_callback
from tests.support.cli import one_line_error, run_cli
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import Process, start_receiver
from tests.support.queues import queued_count
from tests.support.redis_server import free_port
from tests.support.sockets import (
    accepted_connections,
    alive,
    children,
    listening_sockets,
    wait_until,
)
from tests.support.uploads import EXIT_TIMEOUT_S, IN_FLIGHT_S, SlowUpload


def start_pair(env: dict[str, str], tmp_path: Path) -> tuple[Process, int, list[int]]:
    port = free_port()
    parent = start_receiver(env, port, tmp_path / "receiver.log", "--processes", "2")
    wait_until(lambda: listening_sockets(port) == 2, "two sockets listening")
    pids = children(parent.popen.pid)
    assert len(pids) == 2
    return parent, port, pids


async def test_two_processes_share_the_port(
    settings_env: dict[str, str], keys: KeyPair, redis_client: Redis, tmp_path: Path
) -> None:
    parent, port, pids = start_pair(settings_env, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/v1/callbacks/tuxsuite"
        for _ in range(20):
            # A connection each, so that the kernel spreads them over both sockets.
            async with aiohttp.ClientSession() as http:
                body, headers = signed_callback(keys)
                async with http.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 202
        parent.signal(signal.SIGTERM)
        assert parent.wait(EXIT_TIMEOUT_S) == 0, parent.output()
    finally:
        parent.stop()
    assert queued_count(redis_client) == 20
    assert not any(alive(pid) for pid in pids)


def test_sigterm_drains_every_process(
    settings_env: dict[str, str], keys: KeyPair, redis_client: Redis, tmp_path: Path
) -> None:
    parent, port, pids = start_pair(settings_env | {"TUXHOOK_LOG_LEVEL": "INFO"}, tmp_path)
    try:
        uploads = [SlowUpload(port, *signed_callback(keys)) for _ in range(6)]
        wait_until(lambda: accepted_connections(pids, port) == 6, "the uploads to be accepted")
        time.sleep(IN_FLIGHT_S)
        parent.signal(signal.SIGTERM)
        time.sleep(IN_FLIGHT_S)
        assert [u.finish() for u in uploads] == [202] * 6
        assert parent.wait(EXIT_TIMEOUT_S) == 0, parent.output()
    finally:
        parent.stop()
    assert queued_count(redis_client) == 6
    draining = [e["in_flight"] for e in log_events(parent, "receiver_draining")]
    assert len(draining) == 2 and sum(draining) == 6  # each child drained its own


def test_a_dead_process_stops_the_others(settings_env: dict[str, str], tmp_path: Path) -> None:
    parent, _, (victim, survivor) = start_pair(settings_env, tmp_path)
    try:
        os.kill(victim, signal.SIGKILL)
        assert parent.wait(EXIT_TIMEOUT_S) == 1  # so that the restart policy brings all back
        wait_until(lambda: not alive(survivor), "the other receiver to stop")
        assert "receiver_process_died" in parent.output()
    finally:
        parent.stop()


def test_processes_must_be_positive(settings_env: dict[str, str]) -> None:
    line = one_line_error(run_cli(settings_env, "receiver", "--processes", "0"))
    assert "--processes must be at least 1" in line
