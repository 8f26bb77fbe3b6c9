"""Everything of the receiver's that knows RQ's internals: the job hash, the enqueue script."""
