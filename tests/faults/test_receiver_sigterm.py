"""SIGTERM to a real `tuxhook receiver` in the middle of a burst: the requests in flight finish
with a 2xx and their jobs are in Redis, new connections are refused, and it exits 0.

A sender sees one of three things: a 2xx (its job is queued), a refused or closed connection
(nothing promised; it retries elsewhere or later), never a 5xx.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from redis import Redis

from tests.support.builders import signed_callback
from tests.support.burst import Attempt, Sender, Sent, callbacks
from tests.support.keys import KeyPair
from tests.support.logs import log_events
from tests.support.processes import Process, start_receiver
from tests.support.queues import queued_jobs
from tests.support.sockets import accepted_connections
from tests.support.uploads import EXIT_TIMEOUT_S, IN_FLIGHT_S, SlowUpload
from tests.support.waiting import eventually

BURST = 2000  # most callbacks the burst may send; it stops soon after the signal
SIGNAL_AFTER = 100  # 2xx answers before SIGTERM
REFUSED_AFTER_SIGNAL = 20  # attempts refused after the signal before the burst stops
SLOW = 3  # uploads half sent when the signal comes
# Seconds a burst request may take. A connection accepted in the very instant the listener
# closes is neither served nor closed until the receiver exits (CPython issue 109564): its
# sender times out, with no answer and no job, which is all the test asks of it.
REQUEST_TIMEOUT_S = 3.0


class Stopper:
    """Sends SIGTERM once the burst has had SIGNAL_AFTER answers, then lets the burst run into
    the closed port for a while."""

    def __init__(self, receiver: Process) -> None:
        self.receiver = receiver
        self.accepted = 0
        self.refused_after = 0
        self.signalled_at: float | None = None
        self.time_to_signal = asyncio.Event()
        self.stop_burst = asyncio.Event()

    def count(self, _: Sent, attempt: Attempt) -> None:
        if attempt.status is not None and 200 <= attempt.status < 300:
            self.accepted += 1
        if self.accepted >= SIGNAL_AFTER:
            self.time_to_signal.set()
        if self.signalled_at is not None and attempt.status is None:
            self.refused_after += 1
            if self.refused_after >= REFUSED_AFTER_SIGNAL:
                self.stop_burst.set()

    async def run(self) -> None:
        await self.time_to_signal.wait()
        self.receiver.signal(signal.SIGTERM)
        self.signalled_at = time.monotonic()


def answers(sent: list[Sent]) -> set[int | None]:
    return {a.status for s in sent for a in s.attempts}


async def test_sigterm_during_a_burst_finishes_what_is_in_flight(
    settings_env: dict[str, str], keys: KeyPair, redis_client: Redis, port: int, tmp_path: Path
) -> None:
    env = settings_env | {"TUXHOOK_SHUTDOWN_TIMEOUT": "15", "TUXHOOK_LOG_LEVEL": "INFO"}
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    stopper = Stopper(receiver)
    sent = callbacks(keys, BURST)
    slow_callbacks = [signed_callback(keys, kind="test") for _ in range(SLOW)]
    try:
        uploads = [SlowUpload(port, body, headers) for body, headers in slow_callbacks]
        pid = receiver.popen.pid
        await eventually(lambda: accepted_connections([pid], port) >= SLOW, "slow uploads")
        await asyncio.sleep(IN_FLIGHT_S)
        sender = Sender(
            f"http://127.0.0.1:{port}",
            request_timeout_s=REQUEST_TIMEOUT_S,
            on_answer=stopper.count,
            stop=stopper.stop_burst,
        )
        await asyncio.gather(sender.send_all(sent), stopper.run())
        # The slow uploads send the rest of their bodies only once the receiver is draining.
        await eventually(lambda: bool(log_events(receiver, "receiver_draining")), "draining")
        assert receiver.popen.poll() is None
        slow_answers = await asyncio.to_thread(lambda: [u.finish() for u in uploads])
        code = await asyncio.to_thread(receiver.wait, EXIT_TIMEOUT_S)
    finally:
        receiver.stop()
    assert code == 0, receiver.output()
    assert slow_answers == [202] * SLOW
    assert answers(sent) <= {202, None}, answers(sent)
    assert stopper.refused_after >= REFUSED_AFTER_SIGNAL  # new connections were refused
    [draining] = log_events(receiver, "receiver_draining")
    assert draining["in_flight"] >= SLOW

    queued = {job.id for job in queued_jobs(redis_client)}
    accepted = {s.job_id for s in sent if s.accepted}
    assert len(accepted) >= SIGNAL_AFTER
    # Every 2xx has its job, and every job queued was answered: none was cut off mid-way.
    assert queued == accepted | slow_job_ids(slow_callbacks)


def slow_job_ids(slow: list[tuple[bytes, dict[str, str]]]) -> set[str]:
    return {Sent(body, headers).job_id for body, headers in slow}
