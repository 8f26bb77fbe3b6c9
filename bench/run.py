"""`make bench`: every benchmark in turn, each printing its figures and its baseline ratio."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

BENCHMARKS = (
    "bench.intake",  # receiver vs a bare verify+LPUSH handler (target ratio >= 0.8)
    "bench.worker_throughput",  # one worker vs RQ's SimpleWorker on no-op jobs (>= 0.7)
    "bench.tokens",  # token verification vs PyJWT's bare jwt.decode
    "bench.receivers",  # 1 receiver process vs 2 (reuse_port) vs gunicorn
    "bench.redis_fsync",  # the receiver with Redis appendfsync always vs everysec
    "bench.redis_stall",  # time to a 503 with Redis stalled (SIGSTOP) vs down
    "bench.exposure",  # what an anonymous client costs a receiver, before issue 12 and after
    "bench.enrich",  # test jobs queueing per-case fetches vs not; a fetch's time; the size bound
    "bench.notify_burst",  # a burst stored with notifications vs without (target ratio >= 0.9)
    "bench.pages",  # each page against the API calls behind it, 100,000 outcomes (<= 1.5)
)


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if importlib.util.find_spec(name) is None:
            failed.append(f"{name} (missing)")
            continue
        print(f"\n=== {name}", flush=True)
        if subprocess.call([sys.executable, "-m", name]) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
