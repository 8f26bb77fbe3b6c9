"""Everything of the receiver's that knows RQ's internals, so that an RQ upgrade is a review of
this folder (and worker/rq/): the job hash RQ would write (job_template.py), RQ's own
unique-enqueue script run once per job of a batch (enqueue_script.py), and the Redis protocol's
encoding of that one command (resp.py). The rest of the receiver imports only this public
face, and hands it `Delivery` objects."""

from receiver.rq import enqueue_script
from receiver.rq.enqueue_script import BATCH_ENQUEUE_SCRIPT, JobArgs, batch_command
from receiver.rq.job_template import JobTemplate, made_at
from shared.rq_contract import check_enqueue_script, check_rq_version

__all__ = [
    "BATCH_ENQUEUE_SCRIPT",
    "JobArgs",
    "JobTemplate",
    "batch_command",
    "check_rq_contract",
    "made_at",
]


def check_rq_contract() -> None:
    """Refuse (ConfigError) to start under an RQ other than the one this folder is proven
    against: its version, and the script embedded in BATCH_ENQUEUE_SCRIPT."""
    check_rq_version()
    check_enqueue_script(enqueue_script.EMBEDDED_SCRIPT)
