"""PostgreSQL: a delivery stored in one statement, a chain of data-modifying CTEs.

Each piece of the chain is a CTE named for what it does, built from the pieces before it:

- `known`: the delivery, if the ledger holds it already. Then `incoming` is empty and nothing
  below writes anything: the job is a duplicate.
- `incoming`: the outcome's row as this delivery would insert it, read from one JSON parameter
  (`json_populate_record` on the `outcomes` row type). Any column in the row dict flows
  through, and the statement keeps few parameters.
- `seen`: the outcome's `deliveries` as this statement's snapshot shows it (see below).
- `applied`: the upsert of worker/forward.py, `INSERT .. ON CONFLICT DO UPDATE .. WHERE
  <moves forward>`; returns (id, deliveries) when it inserted or replaced the outcome.
- `stale`: otherwise, the delivery counted on the outcome, whose content stays.
- `ledger`: the delivery added to the ledger, marked applied or not.
- `dropped`, `results`: an applied test's per-test results: those of its names replaced when
  they changed, the names it no longer has deleted. Other kinds pass none, and have none.
- `events`: the notification outbox (worker/notify/outbox.py): an applied delivery's events,
  read from one JSON parameter (`json_populate_recordset` on the `outbox` row type), each
  (event, sink) once. Only in the statement of a delivery that announces events (a finished
  outcome a rule matches), which is longer than psycopg caches (below): the others keep theirs.

The statement ends with one row, `Report`: whether the delivery was a duplicate, and whether it
replaced the outcome's content. It runs as a transaction of its own (autocommit: no BEGIN, no
COMMIT), so a delivery costs one round trip; or, when what it stored is to be compared
(worker/compare.py), in one transaction with the comparison that follows it (`then`). Either
way a RACED statement is run again on a new snapshot, the comparison with it.

Adding a piece: a function from the `Chain` built so far to a statement (RETURNING what later
pieces need), added to PIECES under its name and described above. It runs in the same
transaction, and only when its inputs have rows: read `incoming` to act on every stored
delivery, `applied` for one that changed the outcome's content.

Concurrency. All the pieces see one snapshot, taken when the statement began, and none sees
what another wrote except through its RETURNING. In READ COMMITTED, `applied` and `stale` act
on the newest committed version of the outcome (waiting for its row lock), which another worker
may have written after that snapshot was taken; plain reads (`known`, `seen`, the DELETE of
`dropped`) see only the snapshot. Every stored delivery adds one to the outcome's `deliveries`
while it holds that row lock, until its commit. So the snapshot was current for this outcome
when the count written is `seen` + 1 and the ledger took the delivery. When it was not, another
delivery of the same outcome (or this same one) committed in between: the statement fails with
RACED, which undoes all it wrote, and `save` runs it again on a new snapshot. Every piece may
therefore rely on the snapshot for this outcome's rows. Locks are taken in one order, the
outcome's row first, so two workers on one outcome wait for each other rather than deadlock.
That guarantee covers this outcome only: a piece that reads other outcomes' rows (a test
looking for the build it waited for, a build for its tests) sees them as of the snapshot, and
two such deliveries stored at once can each miss the other; such a piece needs a guard of its
own, and a test with two workers like tests/store/test_concurrency.py. A test's links to the
build it ran on (worker/links.py) are therefore not a piece: they are resolved by a statement
of their own once this one has committed, on a snapshot that sees what it wrote.

Statements are built once per kind and set of columns, and compiled once for the connection's
dialect: a job runs the SQL text with its values (`exec_driver_sql`), sparing it SQLAlchemy's
compiled-cache look-up, whose key (the whole statement's structure) is hashed anew at every
execution, and the execution context of a compiled statement: 0.1 ms of the worker's CPU per
job of 0.45 (measured under load). psycopg parses a query of more than 4096 bytes or 50
parameters again at every execution (tests/test_store_statements.py keeps this one within
both): 0.03 ms at 5 KB and 8 parameters, 0.6 ms with 45 parameters (measured under load).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    CTE,
    JSON,
    Connection,
    Engine,
    Integer,
    Select,
    Text,
    all_,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError

from shared.db.schema import deliveries, outbox, outcomes, test_results
from shared.errors import TransientError
from worker.forward import earliest, upsert
from worker.outcome import Stored

_o, _d, _t = outcomes.c, deliveries.c, test_results.c
_TEXTS = postgresql.ARRAY(Text)

# Runs of the statement before a job fails transiently and RQ retries it: a run that finds the
# outcome changed under it is followed by one that sees the change.
ATTEMPTS = 3


@dataclass(frozen=True)
class Chain:
    """The pieces built so far, by name; the kind, and the outcome columns its row fills."""

    kind: str
    columns: tuple[str, ...]
    pieces: dict[str, CTE]
    # Whether the delivery announces events (the outbox's `events` piece takes part).
    announces: bool = False

    def __getitem__(self, name: str) -> CTE:
        return self.pieces[name]


def known(_: Chain) -> Select[Any]:
    return select(_d.digest).where(
        _d.kind == bindparam("of_kind"),
        _d.uid == bindparam("of_uid"),
        _d.digest == bindparam("digest"),
    )


def incoming(chain: Chain) -> Select[Any]:
    record = func.json_populate_record(
        literal_column("NULL::outcomes"), cast(bindparam("row", type_=Text), JSON)
    )
    # Bare names, in the row's order: `applied` inserts them as `SELECT *`.
    names = (outcomes.c[name] for name in chain.columns)  # KeyError for a name not a column
    row: Select[Any] = select(*(literal_column(c.name, c.type) for c in names))
    return row.select_from(record).where(~exists(chain["known"].select()))


def seen(_: Chain) -> Select[Any]:
    return select(_o.deliveries).where(
        _o.kind == bindparam("of_kind"), _o.uid == bindparam("of_uid")
    )


def applied(chain: Chain) -> Any:
    row: Select[Any] = select(literal_column("*")).select_from(chain["incoming"])
    insert = postgresql.insert(outcomes).from_select(chain.columns, row)
    return upsert(insert, chain.columns).returning(_o.id, _o.deliveries)


def stale(chain: Chain) -> Any:
    row, changed = chain["incoming"].c, chain["applied"]
    return (
        update(outcomes)
        .where(_o.kind == row.kind, _o.uid == row.uid, ~exists(select(changed.c.id)))
        .values(
            deliveries=_o.deliveries + literal_column("1"),
            updated_at=row.updated_at,
            first_received_at=earliest(row.first_received_at, _o.first_received_at),
        )
        .returning(_o.deliveries)
    )


def ledger(chain: Chain) -> Any:
    row, changed = chain["incoming"].c, chain["applied"]
    entry = select(
        row.kind,
        row.uid,
        bindparam("digest", type_=_d.digest.type),
        row.first_received_at,
        row.updated_at,
        row.verified_by,
        exists(select(changed.c.id)),
    )
    names = ["kind", "uid", "digest", "received_at", "processed_at", "verified_by", "applied"]
    insert = postgresql.insert(deliveries).from_select(names, entry)
    return insert.on_conflict_do_nothing().returning(_d.digest)


def dropped(chain: Chain) -> Any:
    if chain.kind != "test":
        return None
    return delete(test_results).where(
        _t.outcome_id.in_(select(chain["applied"].c.id)),
        _t.name != all_(bindparam("names", type_=_TEXTS)),
    )


def results(chain: Chain) -> Any:
    if chain.kind != "test":
        return None
    given = (
        func.unnest(bindparam("names", type_=_TEXTS), bindparam("results", type_=_TEXTS))
        .table_valued(column("name", Text), column("result", Text))
        .render_derived("given")
    )
    changed = chain["applied"]
    row = select(changed.c.id, given.c.name, given.c.result)
    row = row.select_from(changed.join(given, true()))
    insert = postgresql.insert(test_results).from_select(["outcome_id", "name", "result"], row)
    return insert.on_conflict_do_update(
        index_elements=["outcome_id", "name"],
        set_={"result": insert.excluded.result},
        where=_t.result.is_distinct_from(insert.excluded.result),
    )


# The outbox's columns an event's row fills (worker/notify/outbox.py's outbox_rows).
_EVENT_COLUMNS = (
    "event_id", "sink", "type", "kind", "uid", "project", "event", "created_at", "attempts",
)  # fmt: skip


def events(chain: Chain) -> Any:
    if not chain.announces:
        return None
    records = func.json_populate_recordset(
        literal_column("NULL::outbox"), cast(bindparam("events", type_=Text), JSON)
    )
    names: list[Any] = [literal_column(name) for name in _EVENT_COLUMNS]
    row: Select[Any] = select(*names)
    row = row.select_from(records).where(exists(select(chain["applied"].c.id)))
    insert = postgresql.insert(outbox).from_select(_EVENT_COLUMNS, row)
    return insert.on_conflict_do_nothing()


# Each builds its statement, or None to take no part in the chain of this kind.
PIECES: dict[str, Callable[[Chain], Any]] = {
    "known": known,
    "incoming": incoming,
    "seen": seen,
    "applied": applied,
    "stale": stale,
    "ledger": ledger,
    "dropped": dropped,
    "results": results,
    "events": events,
}


# The statement fails with this text when its snapshot was not current for the outcome (see
# above): a text cast to integer is how plain SQL raises an error of its own, and an error
# undoes all that the statement wrote.
RACED = "tuxhook: the outcome changed meanwhile; run again"


class Report(NamedTuple):
    duplicate: bool  # the ledger held the delivery already
    applied: int | None  # the outcome's deliveries once this one replaced or inserted it
    raced: None  # always null: the statement fails instead (RACED)


@cache
def statement(kind: str, columns: tuple[str, ...], announces: bool = False) -> Select[Any]:
    """The chain for a row of `kind` with these columns, and its report."""
    chain = Chain(kind, columns, {}, announces)
    for name, piece in PIECES.items():
        if (built := piece(chain)) is not None:
            chain.pieces[name] = built.cte(name)
    return _report(chain).add_cte(*chain.pieces.values())


def _report(chain: Chain) -> Select[Any]:
    """One row, a Report; the statement fails (RACED) when its snapshot was not current."""

    def count(name: str) -> Any:
        return select(chain[name].c.deliveries).scalar_subquery().label(name)

    def found(name: str) -> Any:
        return exists(select(literal_column("1")).select_from(chain[name])).label(name)

    what = select(found("known"), count("seen"), count("applied"), count("stale"), found("ledger"))
    r = what.subquery("report").c
    # Every stored delivery adds one to the outcome's count while it holds its row lock.
    written = func.coalesce(r.applied, r.stale)
    current = and_(
        r.ledger, written == func.coalesce(r.seen, literal_column("0")) + literal_column("1")
    )
    raced = case((or_(r.known, current), null()), else_=literal_column(f"'{RACED}'"))
    report: Select[Any] = select(r.known, r.applied, cast(raced, Integer))
    return report


def verdict(report: Report) -> Stored:
    if report.duplicate:
        return "duplicate"
    return "applied" if report.applied is not None else "stale"


def _json(value: Any) -> str:
    """orjson (0.07 ms less per job than json for a build's row); json for what orjson refuses
    and json holds, an integer beyond 64 bits."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, default=_json_value, ensure_ascii=False, separators=(",", ":"))


def parameters(
    values: Mapping[str, Any],
    digest: str,
    per_test: Mapping[str, str | None] | None,
    events: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    params = {
        # Not `kind` and `uid`: SQLAlchemy would add a parameter named for a column to the SET
        # of the UPDATE in `stale`.
        "of_kind": values["kind"],
        "of_uid": values["uid"],
        "digest": digest,
        "row": _json(values),
    }
    if events:
        params["events"] = _json(list(events))
    if values["kind"] == "test":
        # Never NULL: `name <> ALL(NULL)` would keep every result of a test that has none now.
        params["names"] = list(per_test or ())
        params["results"] = list((per_test or {}).values())
    return params


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"an outcome column holds a {type(value).__name__}")


def attempt(
    conn: Connection,
    values: Mapping[str, Any],
    digest: str,
    per_test: Mapping[str, str | None] | None,
    events: Sequence[Mapping[str, Any]] = (),
) -> Stored:
    """Run the statement once: what it did. It fails with RACED when it must run again."""
    sql = compiled(conn, values["kind"], tuple(values), bool(events))
    params = parameters(values, digest, per_test, events)
    return verdict(Report(*conn.exec_driver_sql(sql, params).one()))


# The statements' SQL, by dialect and statement (see above).
_COMPILED: dict[Hashable, str] = {}


def compiled(conn: Connection, kind: str, columns: tuple[str, ...], announces: bool) -> str:
    key = (conn.dialect.name, conn.dialect.driver, kind, columns, announces)
    if (sql := _COMPILED.get(key)) is None:
        sql = _COMPILED[key] = str(statement(kind, columns, announces).compile(conn))
    return sql


# What runs after the statement in its transaction, given what the statement did.
Then = Callable[[Connection, Stored], None]


def save(
    engine: Engine,
    values: Mapping[str, Any],
    digest: str,
    per_test: Mapping[str, str | None] | None,
    events: Sequence[Mapping[str, Any]] = (),
    then: Then | None = None,
) -> Stored:
    """Store one delivery, `values` being the outcome's row as it would insert it: one round
    trip, the statement being a transaction of its own (no BEGIN, no COMMIT). With `then`, the
    statement and `then` are one transaction (BEGIN, the statement, `then`'s, COMMIT)."""
    for _ in range(ATTEMPTS):
        try:
            if then is None:
                with engine.connect() as conn:
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    return attempt(conn, values, digest, per_test, events)
            with engine.begin() as conn:
                done = attempt(conn, values, digest, per_test, events)
                then(conn, done)
                return done
        except DataError as e:
            if RACED not in str(e.orig):
                raise
    raise TransientError(
        f"{values['kind']} {values['uid']}: the outcome changed under each of {ATTEMPTS} runs"
    )
