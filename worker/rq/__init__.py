"""Everything of the workers' that reaches into RQ's internals."""
