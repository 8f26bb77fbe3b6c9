"""Queue names, Redis keys, TTLs and limits: the one place each number lives, with its unit."""

from typing import Final

KINDS: Final = ("build", "oebuild", "test", "plan")

# The queue of the jobs that fetch a finished test's per-case results from TuxSuite's API
# (TUXHOOK_TUXSUITE_API_URL; worker/enrich.py).
ENRICH_QUEUE: Final = "enrich"

# The queue of notification deliveries (worker/notify): one job per event and sink.
NOTIFY_QUEUE: Final = "notify"

# One RQ queue per kind, named after it, then the enrich and notify queues: what `tuxhook worker`
# serves.
QUEUE_NAMES: Final = (*KINDS, ENRICH_QUEUE, NOTIFY_QUEUE)

# Jobs reference their handler by dotted path so the receiver never imports worker code.
HANDLER_PATHS: Final = {kind: f"worker.handlers.handle_{kind}" for kind in KINDS}

ENRICH_HANDLER_PATH: Final = "worker.enrich.fetch_cases"

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

# Seconds one job may run before RQ kills it (the default of TUXHOOK_JOB_TIMEOUT). A job is
# one transaction that waits at most the database lock timeout (10 s) per lock. It also sets
# how soon a job abandoned by a killed worker is retried: RQ's SimpleWorker marks a started job
# abandoned after its timeout + 60 s (docs/reliability.md).
JOB_TIMEOUT_S: Final = 30

# Seconds between a worker's registry maintenance runs (the default of
# TUXHOOK_WORKER_MAINTENANCE_INTERVAL): the run that retries abandoned jobs.
WORKER_MAINTENANCE_INTERVAL_S: Final = 15

# Seconds a job may sit in its queue's intermediate list, taken by a worker but not started,
# before maintenance takes it for stranded (its worker, or Redis, died in between) and puts it
# back at the front of its queue: the default of TUXHOOK_STRANDED_JOB_GRACE. RQ's own grace
# (IntermediateQueue.should_be_cleaned_up): a live worker starts the job it took within
# milliseconds.
STRANDED_JOB_GRACE_S: Final = 60

# Seconds a queue's maintenance lock lives: RQ holds it 899 s, so a worker (or Redis) that died
# during maintenance would hold back the recovery of that queue's abandoned and stranded jobs for
# 15 minutes. Maintenance takes milliseconds; the lock only keeps workers from doing it together.
MAINTENANCE_LOCK_TTL_S: Final = 60

# Seconds a "first seen in the intermediate list" mark lives: RQ's own value, which keeps
# tuxhook's marks and RQ's interchangeable.
STRANDED_FIRST_SEEN_TTL_S: Final = 24 * 3600

# Seconds between retries of a job that failed transiently (database locked or unreachable).
# Their sum, 548 s (9 min 8 s), is the retry budget for a database outage.
RETRY_INTERVALS_S: Final = (1, 2, 5, 10, 20, 30, 60, 60, 120, 120, 120)

# Seconds the sender is told to wait after a 503.
RETRY_AFTER_S: Final = 5

# Seconds to wait for Redis to accept a connection, and to answer a command.
REDIS_CONNECT_TIMEOUT_S: Final = 0.5
REDIS_SOCKET_TIMEOUT_S: Final = 1.0

# Seconds the keys URL may take to answer.
KEYS_FETCH_TIMEOUT_S: Final = 5.0

# Bytes of a keys document read at most: a group's keys take a few hundred.
KEYS_DOCUMENT_MAX_BYTES: Final = 64 * 1024

# Seconds one request for a test's per-case results may take, whole body included.
CASES_FETCH_TIMEOUT_S: Final = 15.0

# Bytes of a test's per-case results read at most: an LTP run's few thousand cases take a few
# hundred KiB. A longer answer is refused as soon as it passes the bound, unread beyond it.
CASES_DOCUMENT_MAX_BYTES: Final = 16 * 1024 * 1024

# Cases of one test stored at most: an answer with more is refused, and recorded, so that a
# fetch always ends well within the job timeout. Storing 50,000 took 0.9 s on SQLite and 3.5 s
# on PostgreSQL on a loaded 2-CPU machine (bench/enrich.py); LTP's largest suites have a few
# thousand.
CASES_MAX: Final = 100_000

# Seconds between the attempts of a fetch that timed out or met a 5xx, a 429 or a refused
# connection: a backoff whose sum, 6,222 s (about 1 h 44 min), rides out an API outage.
ENRICH_RETRY_INTERVALS_S: Final = (2, 10, 30, 60, 120, 300, 600, 900, 1800, 2400)

# Cases per page: in a test's outcome (`cases.results`) and of GET .../cases, by default and
# at most.
CASES_PAGE_DEFAULT: Final = 1000
CASES_PAGE_MAX: Final = 5000

# Most deliveries the receiver writes to Redis in one round trip, and most such round trips
# at a time: while one batch waits for Redis, the next is already on its way.
ENQUEUE_BATCH_MAX: Final = 64
ENQUEUE_BATCH_MAX_BYTES: Final = 1024 * 1024  # of bodies, beyond a batch's first
ENQUEUE_BATCHES_IN_FLIGHT: Final = 2

# Rows per page of GET /v1/outcomes: default and largest.
OUTCOMES_PAGE_DEFAULT: Final = 50
OUTCOMES_PAGE_MAX: Final = 500

# The home page and GET /v1/overview: projects updated within OVERVIEW_WINDOW_S seconds (unless
# `since` says otherwise), the most recently updated first, at most OVERVIEW_PROJECTS of them,
# each with its latest OVERVIEW_BUILDS builds and OVERVIEW_PLANS plans; and the latest
# OVERVIEW_REGRESSIONS regressions and fixes detected in that window.
OVERVIEW_WINDOW_S: Final = 7 * 86400
OVERVIEW_PROJECTS: Final = 20
OVERVIEW_BUILDS: Final = 5
OVERVIEW_PLANS: Final = 3
OVERVIEW_REGRESSIONS: Final = 10

# The issuer of the Travis CI addon's tokens: the one allowed when the users file names none.
DEFAULT_ISSUER: Final = "travis-ci.org"

# Seconds a token may live (exp - iat) unless its issuer says otherwise: the addon's value.
DEFAULT_TOKEN_MAX_LIFETIME_S: Final = 5400

# Seconds of clock skew tolerated on a token's iat, nbf and exp.
TOKEN_LEEWAY_S: Final = 30

# Bytes an access key needs at least: HS256's digest size (RFC 7518, section 3.2).
MIN_ACCESS_KEY_BYTES: Final = 32

# Seconds a JWKS URL may take to answer.
JWKS_FETCH_TIMEOUT_S: Final = 5.0

# The realm named in WWW-Authenticate challenges.
AUTH_REALM: Final = "tuxhook"

# Redis hash in which every worker adds up its jobs' outcomes and durations, read by the
# receivers' /metrics (see shared/job_metrics.py for the field layout). Never expires: counters.
JOB_METRICS_KEY: Final = "tuxhook:metrics:jobs"

# How a job ended, as workers report it: bounded, so each is a label value.
JOB_OUTCOMES: Final = ("succeeded", "retried", "failed")

# Upper bounds, in seconds, of the job duration histogram's buckets (the last one is the
# default job timeout; +Inf is implied).
JOB_DURATION_BUCKETS_S: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Upper bounds, in seconds, of the receiver's enqueue latency histogram's buckets.
ENQUEUE_LATENCY_BUCKETS_S: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip

# Failed jobs fetched from Redis per round trip by `tuxhook replay` and `purge-failed`.
FAILED_JOBS_BATCH: Final = 500

# Seconds a stopping receiver waits, after it stops listening, for requests whose headers had
# already arrived to reach its handlers (and so be counted as in flight).
SHUTDOWN_DISPATCH_GRACE_S: Final = 0.1

# Seconds aiohttp may take to finish writing the last answers once the receiver has drained.
SHUTDOWN_CLOSE_GRACE_S: Final = 1.0

# Threads that read outcomes for the receiver (SQLAlchemy's engine is synchronous).
OUTCOMES_READ_THREADS: Final = 4

# Seconds to wait for PostgreSQL to accept a connection.
DATABASE_CONNECT_TIMEOUT_S: Final = 5

# A job's states, in the only order an outcome may move through them.
STATES: Final = ("provisioning", "running", "finished")

# Verdicts: of an outcome (`result`), and of a build (`build_status`): TuxSuite's client uses
# these five for both.
RESULTS: Final = ("pass", "fail", "error", "canceled", "unknown")
BUILD_STATUSES: Final = RESULTS

# What an outcome column holds on both SQLite and PostgreSQL. INTEGER: 32 bits (PostgreSQL's).
STORE_INT_MIN: Final = -(2**31)
STORE_INT_MAX: Final = 2**31 - 1
# Characters of an indexed text column: PostgreSQL's btree refuses an entry over 2704 bytes,
# and 512 characters of UTF-8 are at most 2048 bytes. A longer value is null, with the reason.
INDEXED_TEXT_MAX: Final = 512
# Outcome ids (and so cursor ids): PostgreSQL's BIGINT, SQLite's INTEGER.
STORE_ID_MAX: Final = 2**63 - 1
# How far a chain of TEST# dependencies is followed: TuxSuite's are two or three links.
MAX_CHAIN_LINKS: Final = 16

# The receiver's bounds on what its clients may hold (defaults of the TUXHOOK_* settings named
# beside them). bench/exposure.py measured a connection holding the largest head a request may
# have at about 1 MiB of memory, an idle one at 5 KiB, and a 1 MiB body being read at 1.3 MiB
# (docs/operations.md quotes the run).
# Connections one receiver process serves at once (TUXHOOK_MAX_CONNECTIONS): at most about
# 500 MiB of heads, and far more than the requests in flight at 6,000 callbacks/s (about 60).
# Past it a new connection is answered 503 busy and closed.
MAX_CONNECTIONS: Final = 512
# Bytes of request bodies one receiver process reads at once, across all connections
# (TUXHOOK_MAX_BUFFERED_BYTES): 64 bodies at the default 1 MiB limit, about 85 MiB of memory.
# Past it, 503 busy.
MAX_BUFFERED_BODY_BYTES: Final = 64 * 1024 * 1024
# Seconds a connection has to send a whole request head, from its opening or from the end of
# its previous answer; an idle keep-alive connection is closed after as long
# (TUXHOOK_HEADER_TIMEOUT).
HEADER_TIMEOUT_S: Final = 10.0
# Seconds a request's body may take to arrive whole once the receiver starts reading it
# (TUXHOOK_BODY_TIMEOUT).
BODY_TIMEOUT_S: Final = 15.0
# Seconds the receiver keeps reading, and discarding undecoded, a body it answered without
# reading, so that the sender can read the answer before the connection closes.
LINGER_S: Final = 2.0
# Bytes the receiver buffers from a connection before it stops reading it, until a handler
# takes them (aiohttp's read_bufsize; its stream holds up to twice this).
READ_BUFFER_BYTES: Final = 64 * 1024
# Longest request line or header field (aiohttp's default), and most header fields, in a
# request: half aiohttp's 128, so that a connection's head holds at most 512 KiB. Larger heads
# are answered 431.
MAX_HEADER_FIELD_BYTES: Final = 8190
MAX_HEADER_FIELDS: Final = 64
# The Server header of every answer: no versions to fingerprint.
SERVER_NAME: Final = "tuxhook"

# Notifications (docs/notifications.md).
# What a rule may ask for. regression, fix and superseded come from regression tracking (issue
# 15: worker/compare.py, worker/notify/transition_events.py).
EVENT_TYPES: Final = (
    "build_failed", "build_error", "test_failed", "infra_error",
    "regression", "fix", "superseded", "plan_finished", "outcome",
)  # fmt: skip
SINK_TYPES: Final = ("webhook", "apprise", "kcidb")

# Handler of a notify job, by dotted path (the receiver never enqueues it; workers do).
NOTIFY_HANDLER_PATH: Final = "worker.notify.deliver.deliver"

# Seconds between the retries of a delivery that failed transiently (5xx, 408, 429, a timeout,
# a refused connection): doubling from 1 s, 2,047 s (34 min) in all; then the failed registry,
# and the daily re-drive.
NOTIFY_RETRY_INTERVALS_S: Final = tuple(2**n for n in range(11))

# Seconds a sink has to connect, and then to answer each read, in one delivery: the default of
# a sink's `timeout_seconds` in the notify file, and the most it may be (a delivery job must end
# well within RQ's default job timeout of 180 s).
NOTIFY_TIMEOUT_S: Final = 10.0
NOTIFY_TIMEOUT_MAX_S: Final = 60.0
# Seconds one delivery job may run in all (RQ's job timeout): bounds a sink that drips its answer.
NOTIFY_JOB_TIMEOUT_S: Final = 180

# Bytes of a sink's answer read at most (kept for the failure's reason).
NOTIFY_ANSWER_MAX_BYTES: Final = 64 * 1024

# Characters of a sink's answer kept in a failure's reason and printed by `tuxhook notify test`.
NOTIFY_REASON_MAX_CHARS: Final = 300

# Seconds an outbox event may wait un-handed before maintenance's sweep hands it over (the default
# of the notify file's [outbox] sweep_grace_seconds): the worker that stored it hands it over
# within milliseconds of its commit, unless it died in between.
NOTIFY_SWEEP_GRACE_S: Final = 30

# Redis key that keeps two workers' maintenance from sweeping the outbox at once; seconds it
# lives, should its holder die.
NOTIFY_SWEEP_LOCK_KEY: Final = "tuxhook:notify:sweep"
NOTIFY_SWEEP_LOCK_TTL_S: Final = 60

# Events the sweep, the re-drive and the purge take per round trip.
NOTIFY_BATCH: Final = 500

# Seconds between re-drives of undelivered events whose retries ran out (once a day), and the
# Redis key whose expiry spaces them across all workers.
NOTIFY_REDRIVE_INTERVAL_S: Final = 24 * 3600
NOTIFY_REDRIVE_KEY: Final = "tuxhook:notify:redrive"

# Defaults of the notify file's [outbox]: days an undelivered event is re-driven, and days a
# delivered one is kept before it is purged.
NOTIFY_REDRIVE_MAX_AGE_DAYS: Final = 7
NOTIFY_RETENTION_DAYS: Final = 30

# Redis hash of delivery counts by sink and outcome ("<sink>:<outcome>" -> count), added to by
# workers and read by /metrics. Never expires: counters.
NOTIFY_METRICS_KEY: Final = "tuxhook:metrics:notify"
# Redis hash of the outbox's backlog as maintenance last counted it ("undelivered", "oldest" as a
# Unix time, empty when none), read by /metrics. Never expires: overwritten each pass.
NOTIFY_BACKLOG_KEY: Final = "tuxhook:notify:backlog"
# Redis list of deliveries made but not yet marked in the outbox, "<row id> <Unix time>" each:
# a notify worker marks them in one UPDATE per batch (worker/notify/marks.py). Never expires:
# emptied as it is written.
NOTIFY_MARKS_KEY: Final = "tuxhook:notify:delivered"
# Marks a notify worker lets wait before it writes them (it writes them at once when its queue
# is empty): one write transaction per this many deliveries, not one each.
NOTIFY_MARK_BATCH: Final = 100
# How a delivery attempt ended: bounded, so each is a label value.
NOTIFY_OUTCOMES: Final = ("delivered", "retried", "failed")
