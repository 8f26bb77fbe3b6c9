"""One EVALSHA for a whole batch of jobs: RQ's own unique-enqueue script, run once per job.

RQ's script (check the job is new, save its hash, push its id) is embedded verbatim as a Lua
function. The receiver refuses to start when that script's SHA-256 is not the one pinned in
shared/rq_contract.py, which tests/test_enqueue_batches.py and tests/test_job_template.py
proved. A batch costs one command and one reply instead of one per job; each job is still
checked, saved and pushed atomically.

    KEYS: the set of queues, then job key and queue key of each job
    ARGV: for each job, the number of its arguments, then RQ's ARGV for it
    reply: for each job, 1 (queued) or 0 (a job with its id exists: a duplicate)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rq import Queue
from rq.scripts import UNIQUE_ENQUEUE_SCRIPT

from receiver.rq.resp import Bulk, command

# What the receiver embeds, and what its start-up check hashes (receiver.rq.check_rq_contract).
EMBEDDED_SCRIPT: str = UNIQUE_ENQUEUE_SCRIPT

BATCH_ENQUEUE_SCRIPT = f"""
local function enqueue(KEYS, ARGV)
{EMBEDDED_SCRIPT}
end
local replies = {{}}
local at = 1
for i = 2, #KEYS, 2 do
    local count = tonumber(ARGV[at])
    local job = {{unpack(ARGV, at + 1, at + count)}}
    replies[#replies + 1] = enqueue({{KEYS[i], KEYS[i + 1]}}, job)
    redis.call("SADD", KEYS[1], KEYS[i + 1])
    at = at + count + 1
end
return replies
"""


class JobArgs(NamedTuple):
    """One job's part of the batch: its two keys, and its ARGV (the count first), encoded."""

    job_key: bytes
    queue_key: bytes
    argv: Bulk


def batch_command(sha: bytes, jobs: Sequence[JobArgs]) -> bytes:
    keys = [Queue.redis_queues_keys.encode()]
    for job in jobs:
        keys += (job.job_key, job.queue_key)
    argv = Bulk(b"".join(job.argv.wire for job in jobs), sum(job.argv.size for job in jobs))
    return command((b"EVALSHA", sha, b"%d" % len(keys), *keys), argv)
