"""`tuxhook status`, `failed`, `replay` and `purge-failed`: the queues, for operators."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from shared.cli import failed_jobs
from shared.cli.failures import (
    FailedJob,
    all_failed_jobs,
    latest_failure,
    render_failed,
    when,
)
from shared.cli.notify_status import notify_status, render_notify
from shared.errors import QueueUnavailable, UsageError
from shared.queue_status import Status, status
from shared.redis_conn import connect
from shared.settings import Settings, mask_url

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """30s, 15m, 12h or 7d."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{text!r} is not a duration like 30s, 15m, 12h or 7d")
    return timedelta(seconds=int(match[1]) * _UNIT_S[match[2]])


@contextmanager
def redis_for(settings: Settings) -> Iterator[Redis]:
    """A Redis client whose failures become one line naming the (masked) URL."""
    connection = connect(settings.redis_url)
    try:
        yield connection
    except RedisError as e:
        url = mask_url(settings.redis_url)
        raise QueueUnavailable(f"Redis at {url} did not answer: {e}") from e
    finally:
        connection.close()


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f}s"


def render_status(st: Status, last: dict[str, FailedJob | None]) -> str:
    lines = [f"{'QUEUE':<10}{'QUEUED':>8}{'STARTED':>9}{'FAILED':>8}{'SCHEDULED':>11}  OLDEST"]
    for q in st.queues:
        lines.append(
            f"{q.name:<10}{q.queued:>8}{q.started:>9}{q.failed:>8}{q.scheduled:>11}"
            f"  {_age(q.oldest_queued_age_s)}"
        )
    failures = [(queue, f) for queue, f in last.items() if f is not None]
    if failures:
        lines += ["", "last failure (UTC):"]
        lines += [f"  {queue:<10}{when(f)}  {f.uid or '-'}  {f.reason}" for queue, f in failures]
    lines.append("")
    lines.append(f"workers: {len(st.workers)}")
    for w in st.workers:
        job = w.current_job or "-"
        lines.append(f"  {w.name}  {w.state}  queues={','.join(w.queues)}  job={job}")
    return "\n".join(lines)


def status_json(st: Status, last: dict[str, FailedJob | None]) -> dict[str, Any]:
    doc = st.as_json()
    for q in doc["queues"]:
        failure = last.get(q["name"])
        q["last_failure"] = failure.as_json() if failure else None
    return doc


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    notify = notify_status(settings)
    with redis_for(settings) as connection:
        st = status(connection)
        last = {q.name: latest_failure(connection, q.name) if q.failed else None for q in st.queues}
    if args.json:
        print(
            json.dumps(
                {**status_json(st, last), **({"notify": notify} if notify else {})}, indent=2
            )
        )
    else:
        print("\n".join([render_status(st, last), *(render_notify(notify) if notify else [])]))
    return 0


def failed_command(args: argparse.Namespace, settings: Settings) -> int:
    """The failed jobs, the most recent failure first, each with why it failed."""
    queues = failed_jobs.select_queues(args.queue)
    with redis_for(settings) as connection:
        found = all_failed_jobs(connection, queues)
    print(json.dumps([f.as_json() for f in found], indent=2) if args.json else render_failed(found))
    return 0


def _replay_targets(args: argparse.Namespace, connection: Redis) -> dict[str, str]:
    if args.all and args.job_ids:
        raise UsageError("replay takes either --all or JOB_IDs, not both")
    if not args.all and not args.job_ids:
        raise UsageError("replay needs JOB_IDs or --all")
    queues = failed_jobs.select_queues(args.queue)
    if args.all:
        return failed_jobs.all_failed(connection, queues)
    return failed_jobs.locate(connection, args.job_ids, queues)


def replay_command(args: argparse.Namespace, settings: Settings) -> int:
    """Requeue failed jobs. Every id given must be in a failed registry, or nothing is requeued."""
    with redis_for(settings) as connection:
        replayed = failed_jobs.requeue(connection, _replay_targets(args, connection))
    for failed in replayed.requeued:
        why = f"it had failed at {when(failed)}: {failed.reason}"
        print(f"requeued {failed.job_id} on {failed.queue}; {why}")
    for job_id in replayed.gone:
        print(f"skipped {job_id}: no longer in the failed registry")
    print(f"requeued {len(replayed.requeued)} failed job(s)")
    return 0


def purge_command(args: argparse.Namespace, settings: Settings) -> int:
    older_than = parse_duration(args.older_than)
    queues = failed_jobs.select_queues(args.queue)
    with redis_for(settings) as connection:
        purged = failed_jobs.purge(connection, queues, older_than, datetime.now(UTC))
    print(f"purged {purged} failed job(s) older than {args.older_than}")
    return 0
