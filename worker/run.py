"""`tuxhook worker [QUEUE ...] [--burst] [--pool N]`: RQ workers that store outcomes.

Every worker process listens on exactly one queue (worker/rq/workers.py says why), so
`tuxhook worker` runs N processes for each queue asked for; one queue and N=1 runs in this
process. Every worker is built by `build_worker` from the same Settings.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import structlog
from redis.exceptions import RedisError

from shared.constants import QUEUE_NAMES
from shared.db.engine import create_engine, store_location
from shared.db.migrate import check_current
from shared.errors import ConfigError, QueueUnavailable
from shared.logs import configure_logging
from shared.notify_config import load_notify_file
from shared.redis_conn import connect
from shared.rq_contract import check_rq_version
from shared.settings import Settings, mask_url
from worker.rq import Pool, run_worker


def queue_names(requested: Sequence[str]) -> list[str]:
    unknown = sorted(set(requested) - set(QUEUE_NAMES))
    if unknown:
        raise ConfigError(f"unknown queue {', '.join(unknown)}; queues: {', '.join(QUEUE_NAMES)}")
    return list(dict.fromkeys(requested)) or list(QUEUE_NAMES)


def check_redis(settings: Settings) -> None:
    """One clear error now, rather than a traceback from each worker (a pool would respawn)."""
    connection = connect(settings.redis_url)
    try:
        connection.ping()
    except RedisError as e:
        raise QueueUnavailable(f"cannot reach Redis at {mask_url(settings.redis_url)}: {e}") from e
    finally:
        connection.close()


def check_schema(settings: Settings) -> None:
    engine = create_engine(settings.database_url, lock_timeout_s=settings.database_lock_timeout_s)
    try:
        check_current(engine, settings.database_url)
    finally:
        engine.dispose()


def command(args: argparse.Namespace, settings: Settings) -> int:
    check_rq_version()
    configure_logging(settings.log_level)
    queues = queue_names(args.queues)
    if args.pool < 1:
        raise ConfigError("--pool must be at least 1")
    notify = load_notify_file(settings.notify_file)  # checked whole, before any worker starts
    check_redis(settings)
    check_schema(settings)
    # Beside a receiver that logs the same settings (`tuxhook dev`), once is enough.
    shown = {} if args.settings_logged else {"settings": repr(settings)}
    structlog.get_logger("tuxhook.worker").info(
        "worker_starting",
        queues=queues,
        pool=args.pool,
        burst=args.burst,
        store=store_location(settings.database_url),
        sinks={name: f"{sink.type} {sink.target()}" for name, sink in notify.sinks.items()},
        **shown,
    )
    if len(queues) == 1 and args.pool == 1:
        run_worker(settings, queues[0], burst=args.burst)
    else:
        Pool(settings, queues, args.pool).start(burst=args.burst, logging_level=settings.log_level)
    return 0
