"""Queue names, Redis keys, TTLs and limits: the one place each number lives, with its unit."""

from typing import Final

KINDS: Final = ("build", "oebuild", "test", "plan")

# One RQ queue per kind, named after it.
QUEUE_NAMES: Final = KINDS

# Jobs reference their handler by dotted path so the receiver never imports worker code.
HANDLER_PATHS: Final = {kind: f"worker.handlers.handle_{kind}" for kind in KINDS}

SIGNATURE_HEADER: Final = "x-tux-payload-signature"

# Longest accepted job uid, in characters (TuxSuite's KSUIDs are 27).
MAX_UID_LENGTH: Final = 64

# Deepest accepted JSON nesting, in levels.
MAX_JSON_DEPTH: Final = 64

# Seconds a finished job (and so its id) stays in Redis: the window in which an identical
# redelivery is answered "duplicate" without reaching a worker. The store dedupes after that.
JOB_RESULT_TTL_S: Final = 7 * 24 * 3600

# Seconds a failed job stays in the failed registry for `tuxhook replay`.
JOB_FAILURE_TTL_S: Final = 90 * 24 * 3600

# Seconds one job may run before RQ kills it.
JOB_TIMEOUT_S: Final = 60

# Seconds between retries of a job that failed transiently (database locked or unreachable).
# The sum (~9.5 min) is the retry budget for a database outage.
RETRY_INTERVALS_S: Final = (1, 2, 5, 10, 20, 30, 60, 60, 120, 120, 120)

# Seconds the sender is told to wait after a 503.
RETRY_AFTER_S: Final = 5

# Seconds to wait for Redis to accept a connection, and to answer a command.
REDIS_CONNECT_TIMEOUT_S: Final = 0.5
REDIS_SOCKET_TIMEOUT_S: Final = 1.0

# Seconds between two fetches of the keys URL triggered by failed signatures.
KEYS_REFETCH_MIN_INTERVAL_S: Final = 30.0

# Seconds the keys URL may take to answer.
KEYS_FETCH_TIMEOUT_S: Final = 5.0

# Bytes read from the request body at a time.
BODY_CHUNK_BYTES: Final = 64 * 1024

# Threads that talk to Redis for the receiver (RQ's client is synchronous).
ENQUEUE_THREADS: Final = 4

# Rows per page of GET /v1/outcomes: default and largest.
OUTCOMES_PAGE_DEFAULT: Final = 50
OUTCOMES_PAGE_MAX: Final = 500

# Threads that read outcomes for the receiver (SQLAlchemy's engine is synchronous).
OUTCOMES_READ_THREADS: Final = 4

# Seconds to wait for PostgreSQL to accept a connection.
DATABASE_CONNECT_TIMEOUT_S: Final = 5

# A job's states, in the only order an outcome may move through them.
STATES: Final = ("provisioning", "running", "finished")

# Final verdicts: of an outcome (`result`), and of a build (`build_status`).
RESULTS: Final = ("pass", "fail", "error", "canceled")
BUILD_STATUSES: Final = ("pass", "fail", "error")
