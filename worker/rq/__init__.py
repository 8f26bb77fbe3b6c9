"""Everything of the workers' that reaches into RQ's internals, so that an RQ upgrade is a
review of this folder (and receiver/rq/): the worker class and how it is built, the pool,
stranded-job recovery, which failures are retried. The rest of the worker imports only this
public face."""

from worker.rq.pool import Pool
from worker.rq.workers import WORKER_CLASS, build_worker, run_worker

__all__ = ["WORKER_CLASS", "Pool", "build_worker", "run_worker"]
