"""SIGTERM to a real `tuxhook receiver`: requests in flight finish and their jobs are queued."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

from redis import Redis

from receiver.draining import IN_FLIGHT
from shared.identity import body_digest, job_id
from tests.conftest import Receiver
from tests.support.builders import signed_callback
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import Process, start_receiver
from tests.support.queues import queued_jobs
from tests.support.redis_server import free_port
from tests.support.sockets import accepted_connections, wait_until
from tests.support.uploads import EXIT_TIMEOUT_S, IN_FLIGHT_S, SlowUpload


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_lets_slow_requests_finish(
    settings_env: dict[str, str], keys: KeyPair, redis_client: Redis, tmp_path: Path
) -> None:
    port = free_port()
    env = settings_env | {"TUXHOOK_SHUTDOWN_TIMEOUT": "15", "TUXHOOK_LOG_LEVEL": "INFO"}
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    try:
        callbacks = [signed_callback(keys, kind=kind) for kind in ("build", "test", "plan")]
        uploads = [SlowUpload(port, body, headers) for body, headers in callbacks]
        pids = [receiver.popen.pid]
        wait_until(lambda: accepted_connections(pids, port) == 3, "the uploads to be accepted")
        time.sleep(IN_FLIGHT_S)
        receiver.signal(signal.SIGTERM)
        time.sleep(IN_FLIGHT_S)
        assert refuses_connections(port)  # no new work once stopping...
        assert [u.finish() for u in uploads] == [202, 202, 202]  # ...but the old work finishes
        assert receiver.wait(EXIT_TIMEOUT_S) == 0, receiver.output()
    finally:
        receiver.stop()
    [draining] = log_events(receiver, "receiver_draining")
    assert draining["in_flight"] == 3  # the three were being handled when the signal came
    expected = {
        job_id(kind, body_of(body)["status"]["uid"], body_digest(body))
        for (body, _), kind in zip(callbacks, ("build", "test", "plan"), strict=True)
    }
    assert {job.id for job in queued_jobs(redis_client)} == expected


def body_of(body: bytes) -> dict[str, dict[str, str]]:
    doc: dict[str, dict[str, str]] = json.loads(body)
    return doc


def test_a_stalled_upload_cannot_hold_shutdown_forever(
    settings_env: dict[str, str], keys: KeyPair, tmp_path: Path
) -> None:
    port = free_port()
    env = settings_env | {"TUXHOOK_SHUTDOWN_TIMEOUT": "1"}
    receiver: Process = start_receiver(env, port, tmp_path / "receiver.log")
    stalled = SlowUpload(port, *signed_callback(keys))
    try:
        time.sleep(IN_FLIGHT_S)
        started = time.monotonic()
        receiver.signal(signal.SIGTERM)
        receiver.wait(EXIT_TIMEOUT_S)
        assert time.monotonic() - started < 10
    finally:
        stalled.sock.close()
        receiver.stop()


async def test_answers_while_draining_close_the_connection(receiver: Receiver) -> None:
    """So that a keep-alive sender reconnects, to a sibling receiver, instead of reusing it."""
    async with receiver.http.get(receiver.at("/healthz")) as resp:
        assert resp.headers.get("Connection") != "close"
    receiver.server.app[IN_FLIGHT].stopping = True
    async with receiver.http.get(receiver.at("/healthz")) as resp:
        assert resp.status == 200
        assert resp.headers.get("Connection") == "close"
