"""Everything of the receiver's that knows RQ's internals, so that an RQ upgrade is a review of
this folder (and worker/rq/): the job hash RQ would write (job_template.py), RQ's own
unique-enqueue script run once per job of a batch (enqueue_script.py), and the Redis protocol's
encoding of that one command (resp.py). The rest of the receiver imports only this public
face, and hands it `Delivery` objects."""

from receiver.rq.enqueue_script import BATCH_ENQUEUE_SCRIPT, JobArgs, batch_command
from receiver.rq.job_template import JobTemplate, made_at

__all__ = ["BATCH_ENQUEUE_SCRIPT", "JobArgs", "JobTemplate", "batch_command", "made_at"]
