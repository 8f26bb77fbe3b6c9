"""`tuxhook worker` runs a worker process for each queue (N with `--pool N`), each listening on
that queue alone, so that RQ takes its jobs through the intermediate list; a member that dies
is replaced by one on the same queue."""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from rq.worker import BaseWorker

from shared.constants import QUEUE_NAMES
from tests.support.logs import log_events
from tests.support.processes import Process, descendants, start_worker
from tests.support.sockets import children
from tests.support.waiting import eventually


def members(redis: Redis, parent: Process) -> list[BaseWorker]:
    """The registered workers that are live children of `parent` (a killed worker stays
    registered until its heartbeat expires)."""
    pids = set(children(parent.popen.pid))
    return [w for w in Worker.all(connection=redis) if w.pid in pids]


def queues_of(workers: list[BaseWorker]) -> Counter[str]:
    return Counter(q for w in workers for q in w.queue_names())


def kill_tree(pid: int) -> None:
    """SIGKILL a member and its scheduler at once, as the OOM killer might."""
    for victim in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


@pytest.mark.parametrize("pool", [1, 2])
async def test_a_worker_process_per_queue_and_a_dead_one_replaced_on_its_queue(
    settings_env: dict[str, str], sqlite_store: str, redis_client: Redis, tmp_path: Path, pool: int
) -> None:
    env = settings_env | {"TUXHOOK_DATABASE_URL": sqlite_store}
    wanted = Counter(dict.fromkeys(QUEUE_NAMES, pool))
    worker = start_worker(env, tmp_path / "worker.log", "--pool", str(pool))
    try:
        await eventually(lambda: queues_of(members(redis_client, worker)) == wanted, "started")
        before = members(redis_client, worker)
        assert all(len(w.queue_names()) == 1 for w in before)
        [victim, *_] = [w for w in before if w.queue_names() == ["test"]]
        assert victim.pid is not None
        kill_tree(victim.pid)
        await eventually(lambda: victim.pid not in children(worker.popen.pid), "reaped")
        await eventually(lambda: queues_of(members(redis_client, worker)) == wanted, "replaced")
        after = members(redis_client, worker)
    finally:
        worker.stop()
    assert worker.popen.returncode == 0, worker.output()
    [replacement] = [w for w in after if w.pid not in {b.pid for b in before}]
    assert replacement.queue_names() == ["test"]
    assert all(len(w.queue_names()) == 1 for w in after)
    assert log_events(worker, "worker_exited"), worker.output()
