"""`tuxhook dev` (behind `make run`): migrates, runs a receiver and a worker, stops them all."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from rq.worker import BaseWorker

from shared.cli.signing import load_private_key, sign
from shared.constants import QUEUE_NAMES, SIGNATURE_HEADER
from tests.support.builders import callback, encode
from tests.support.processes import Process, child_env, tuxhook_command, wait_http_ok
from tests.support.redis_server import RedisServer, free_port

WAIT_S = 30.0  # seconds for the demo to store a callback


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


def wait_stored(url: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while get(url)[0] != 200:
        assert time.monotonic() < deadline, f"nothing stored at {url}"
        time.sleep(0.1)


def wait_workers(redis: Redis, count: int) -> list[BaseWorker]:
    deadline = time.monotonic() + WAIT_S
    while len(workers := Worker.all(connection=redis)) < count:
        assert time.monotonic() < deadline, f"{len(workers)} workers registered, not {count}"
        time.sleep(0.1)
    return workers


def test_dev_stores_a_demo_callback_and_stops_its_children(
    redis_server: RedisServer, redis_client: Redis, tmp_path: Path
) -> None:
    port = free_port()
    env = child_env({"TUXHOOK_REDIS_URL": redis_server.url, "TUXHOOK_PORT": str(port)})
    dev = Process(tuxhook_command("dev"), env, tmp_path / "dev.log", cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{base}/healthz", dev)
        doc = callback("build")
        body = encode(doc)
        assert post_signed(f"{base}/v1/callbacks/tuxsuite", tmp_path / "var/demo-key.pem", body)
        wait_stored(f"{base}/v1/outcomes/build/{doc['status']['uid']}")
        workers = wait_workers(redis_client, len(QUEUE_NAMES))
        dev.signal(signal.SIGTERM)
        assert dev.wait(timeout=WAIT_S) == 130, dev.output()
    finally:
        dev.stop()
    assert (tmp_path / "var/tuxhook.sqlite3").is_file()
    assert sorted(q for w in workers for q in w.queue_names()) == sorted(QUEUE_NAMES)
    for worker in workers:  # a worker process per queue; none outlived `tuxhook dev`
        assert worker.pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(worker.pid, 0)
