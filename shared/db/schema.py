"""The outcome store's tables. Alembic migrations create them; this module describes them.

One wide `outcomes` table holds every kind (the `kind` column says which): listing, filtering and
paging across kinds is then one indexed query without joins, and a worker writes one row per
event. Columns that belong to another kind stay null, as do fields a payload did not carry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# Constraint names that Alembic can refer to in later migrations, the same on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
_ID = BigInteger().with_variant(Integer(), "sqlite")
# JSON `null` and SQL NULL are the same thing here: a missing field.
_JSON = JSON(none_as_null=True)
_TIME = DateTime(timezone=True)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("project", Text),
    Column("state", String(16)),
    # The payload's own time of its state (provisioning_time, running_time or finished_time).
    Column("state_time", _TIME),
    Column("result", String(16)),
    Column("first_received_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
    Column("deliveries", Integer, nullable=False),
    # Verifier and auth claims of the delivery whose payload the row shows.
    Column("verified_by", Text, nullable=False),
    Column("auth", _JSON, nullable=False),
    Column("payload", Text, nullable=False),
    # By shared/outcome_rules.py's table: finished, and TuxSuite will not run it again.
    Column("final", Boolean, nullable=False, server_default=false()),
    # The plan a build, oebuild or test belongs to (its payload's `plan`).
    Column("plan_uid", String(64)),
    # What the API shows as `field_errors` ([{"field", "reason"}] for each value a column could
    # not hold, stored null instead) and `repairs` (sender quirks repaired to read the body),
    # as {"field_errors": [...], "repairs": [...]}, null when neither has any: one column, so
    # that PostgreSQL's statement (worker/chain.py) stays within psycopg's query cache.
    Column("notes", _JSON),
    # build
    Column("build_name", Text),
    Column("build_status", String(16)),
    Column("toolchain", Text),
    Column("target_arch", Text),
    Column("kconfig", _JSON),
    Column("git_repo", Text),
    Column("git_ref", Text),
    Column("git_sha", Text),
    Column("git_describe", Text),
    Column("git_short_log", Text),
    Column("kernel_version", Text),
    Column("warnings_count", Integer),
    Column("errors_count", Integer),
    Column("build_duration", Float),
    Column("retry", Integer),
    Column("status_message", Text),
    # test
    Column("device", Text),
    Column("tests", _JSON),
    Column("waiting_for", Text),
    Column("build_uid", String(64)),
    Column("oebuild_uid", String(64)),
    # The test a `TEST#uid` waiting_for names; its build_uid is copied here as the chain arrives.
    Column("waiting_for_test", String(64)),
    Column("retries", Integer),
    Column("retries_messages", _JSON),
    # How many rows test_results holds for this test; null when its payload had no `results`.
    Column("results_count", Integer),
    # oebuild
    Column("machine", Text),
    Column("distro", Text),
    Column("targets", _JSON),
    Column("sources", _JSON),
    # build and oebuild: the tests that wait for it, as sent (`TEST#uid`, ...)
    Column("waited_by", _JSON),
    # plan
    Column("name", Text),
    Column("description", Text),
    # build, test and oebuild
    Column("duration", Float),
    Column("download_url", Text),
    UniqueConstraint("kind", "uid"),
    # Pages are ordered by (updated_at, id), most recent first.
    Index("ix_outcomes_updated_at_id", "updated_at", "id"),
    Index("ix_outcomes_project_updated_at", "project", "updated_at"),
    Index("ix_outcomes_device_updated_at", "device", "updated_at"),
    Index("ix_outcomes_build_uid", "build_uid"),
    Index("ix_outcomes_plan_uid", "plan_uid"),
    Index("ix_outcomes_waiting_for_test", "waiting_for_test"),
)


def _of_an_outcome(name: str, *columns: Column[Any]) -> Table:
    """A table of rows that belong to one outcome (keyed by it first), deleted with it."""
    outcome_id = Column(
        "outcome_id", _ID, ForeignKey("outcomes.id", ondelete="CASCADE"), primary_key=True
    )
    return Table(name, metadata, outcome_id, *columns)


# One row per test name of a test outcome, as its payload's `results` maps it.
test_results = _of_an_outcome(
    "test_results", Column("name", Text, primary_key=True), Column("result", Text)
)

# Every delivery a worker stored, so that processing one twice changes nothing the second time.
deliveries = Table(
    "deliveries",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("uid", String(64), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("received_at", _TIME, nullable=False),
    Column("processed_at", _TIME, nullable=False),
    Column("verified_by", Text, nullable=False),
    # False when a more advanced delivery of the same outcome had been stored already.
    Column("applied", Boolean, nullable=False),
)

# A test's per-case results as TuxSuite's API gave them (worker/enrich.py): one row per case,
# named `suite/test`, replaced whole by each fetch.
test_cases = _of_an_outcome(
    "test_cases", Column("name", Text, primary_key=True), Column("result", Text)
)

# The last fetch of a test's per-case results: how many cases it stored, or why it stored none
# (a 404, an answer that is not results). No row: never fetched.
case_fetches = _of_an_outcome(
    "case_fetches", Column("cases", Integer, nullable=False), Column("error", Text)
)

# The notification outbox (docs/notifications.md): one row per event and sink, written in the
# transaction that stores the outcome, handed to the notify queue after its commit, marked when
# the sink took it, and purged after the notify file's retention.
outbox = Table(
    "outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    # The event's stable id: every sink, and every retry, sees the same.
    Column("event_id", String(64), nullable=False),
    Column("sink", String(40), nullable=False),
    Column("type", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("project", Text),
    # The event as JSON text, as every delivery of it sends it.
    Column("event", Text, nullable=False),
    Column("created_at", _TIME, nullable=False),
    # When a worker handed it to the notify queue; null until then.
    Column("handed_at", _TIME),
    # When its sink took it; null until then.
    Column("delivered_at", _TIME),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    UniqueConstraint("event_id", "sink"),
    Index("ix_outbox_kind_uid", "kind", "uid"),
    Index("ix_outbox_delivered_at_created_at", "delivered_at", "created_at"),
    Index("ix_outbox_handed_at_created_at", "handed_at", "created_at"),
)

# The comparable runs (shared/regressions docs: docs/workers.md), one per final build or test
# whose results can be compared: its environment (as a key, and as shown), commit, time, and
# the results that are pass or fail. Regressions are computed over this table, not outcomes, so
# that the neighbours of a run are one indexed range of its environment.
compared_runs = Table(
    "compared_runs",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("uid", String(64), primary_key=True),
    # SHA-256 (hex) of the environment's canonical JSON.
    Column("env_key", String(64), nullable=False),
    Column("environment", _JSON, nullable=False),
    Column("git_sha", Text),
    Column("git_describe", Text),
    # The payload's own time of the run's end: what orders runs.
    Column("run_time", _TIME, nullable=False),
    # {name: "pass" | "fail"}: a build's build_status as "build", a test's suites.
    Column("results", _JSON, nullable=False),
    Index("ix_compared_runs_env_key_run_time_uid", "env_key", "run_time", "uid"),
)

# Regressions (pass -> fail) and fixes (fail -> pass), each between a run and the previous run
# of its environment on another commit. A late run that splits a transition supersedes it: the
# row stays, with superseded_at and the delivery that superseded it.
regressions = Table(
    "regressions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("type", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("test", Text, nullable=False),
    Column("env_key", String(64), nullable=False),
    Column("project", Text),
    Column("device", Text),
    Column("target_arch", Text),
    Column("toolchain", Text),
    Column("kconfig", _JSON),
    Column("before_uid", String(64), nullable=False),
    Column("before_result", String(16), nullable=False),
    Column("before_git_sha", Text),
    Column("before_git_describe", Text),
    Column("before_time", _TIME, nullable=False),
    Column("after_uid", String(64), nullable=False),
    Column("after_result", String(16), nullable=False),
    Column("after_git_sha", Text),
    Column("after_git_describe", Text),
    Column("after_time", _TIME, nullable=False),
    Column("detected_at", _TIME, nullable=False),
    # The digest of the delivery whose storing detected it, and of the one that superseded it.
    Column("detected_by", String(64), nullable=False),
    Column("superseded_at", _TIME),
    Column("superseded_by", String(64)),
    Index("ix_regressions_detected_at_id", "detected_at", "id"),
    Index("ix_regressions_project_detected_at", "project", "detected_at"),
    Index("ix_regressions_env_key_test_after_uid", "env_key", "test", "after_uid"),
    Index("ix_regressions_detected_by", "detected_by"),
    Index("ix_regressions_superseded_by", "superseded_by"),
)
