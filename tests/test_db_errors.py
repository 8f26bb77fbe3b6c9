"""Permanent or transient (worker/db_errors.py): real errors from real databases, and each class
of SQLAlchemy's, psycopg's SQLSTATEs and sqlite3's result codes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from shared.db.engine import create_engine
from tests.support.redis_server import free_port
from worker.db_errors import is_transient_db
from worker.rq.failures import is_transient


def raised(run: Callable[[], object]) -> BaseException:
    try:
        run()
    except Exception as e:  # the point: whatever the database raised
        return e
    raise AssertionError("nothing was raised")


@contextmanager
def engine(url: str, lock_timeout_s: float = 5.0) -> Iterator[sa.Engine]:
    built = create_engine(url, lock_timeout_s=lock_timeout_s, write=True)
    try:
        yield built
    finally:
        built.dispose()


def execute(url: str, *statements: str, lock_timeout_s: float = 5.0) -> BaseException:
    with engine(url, lock_timeout_s) as e:

        def run() -> None:
            with e.begin() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)

        return raised(run)


UNIQUE = (
    "CREATE TEMP TABLE u (v INTEGER PRIMARY KEY)",
    "INSERT INTO u VALUES (1)",
    "INSERT INTO u VALUES (1)",
)
PERMANENT = {
    "postgres": {
        "division_by_zero": ("SELECT 1/0",),
        "numeric_value_out_of_range": ("SELECT 2147483648::int",),
        "undefined_table": ("SELECT * FROM nowhere",),
        "unique_violation": UNIQUE,
        "program_limit_exceeded": (
            "CREATE TEMP TABLE t (v text)",
            "CREATE INDEX ON t (v)",
            "INSERT INTO t SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i",
        ),
        "invalid_text": ("SELECT 'x'::timestamptz",),
    },
    "sqlite": {
        "no_such_table": ("SELECT * FROM nowhere",),
        "unique_violation": UNIQUE,
        "syntax": ("SELEKT 1",),
    },
}


@pytest.mark.parametrize(
    ("backend", "statements"),
    [
        pytest.param(backend, statements, id=f"{backend}-{name}",
                     marks=[pytest.mark.postgres] if backend == "postgres" else [])
        for backend, cases in PERMANENT.items()
        for name, statements in cases.items()
    ],
)  # fmt: skip
def test_a_statement_the_database_refuses_is_permanent(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, statements: tuple[str, ...]
) -> None:
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_database")
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    error = execute(url, *statements)
    assert isinstance(error, sa_exc.DBAPIError), error
    assert not is_transient(error), error


def test_a_value_sqlite3_cannot_bind_is_permanent(tmp_path: Path) -> None:
    with engine(f"sqlite:///{tmp_path / 'x.sqlite3'}") as e, e.begin() as conn:
        overflow = raised(lambda: conn.execute(sa.text("SELECT :v"), {"v": 2**70}))
    assert not is_transient(overflow), overflow


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statements",
    [
        ("SET LOCAL statement_timeout = 1", "SELECT pg_sleep(1)"),
        ("SELECT pg_terminate_backend(pg_backend_pid())",),
    ],
    ids=["query_canceled", "admin_shutdown"],
)
def test_a_timeout_or_a_shutdown_is_transient(
    postgres_database: str, statements: tuple[str]
) -> None:
    error = execute(postgres_database, *statements)
    assert isinstance(error, sa_exc.DBAPIError), error
    assert is_transient(error), error


@pytest.mark.postgres
def test_a_lock_not_available_is_transient(postgres_database: str) -> None:
    with engine(postgres_database) as holder, holder.begin() as conn:
        conn.exec_driver_sql("LOCK TABLE outcomes IN ACCESS EXCLUSIVE MODE")
        error = execute(postgres_database, "SELECT 1 FROM outcomes", lock_timeout_s=0.05)
    assert getattr(getattr(error, "orig", None), "sqlstate", None) == "55P03", error
    assert is_transient(error)


def test_a_locked_sqlite_store_is_transient(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    with engine(url) as holder, holder.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
        error = execute(url, "INSERT INTO t VALUES (1)", lock_timeout_s=0)
    assert isinstance(getattr(error, "orig", None), sqlite3.OperationalError), error
    assert is_transient(error)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://root@127.0.0.1:{port}/test",
        "sqlite:////nonexistent-folder/store.sqlite3",
    ],
)
def test_a_database_that_cannot_be_reached_is_transient(url: str) -> None:
    error = execute(url.format(port=free_port()), "SELECT 1")
    assert isinstance(error, sa_exc.DBAPIError), error
    assert is_transient(error)


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("08006", True), ("08001", True), ("40001", True), ("40P01", True), ("53100", True),
        ("53200", True), ("53300", True), ("55P03", True), ("55006", True), ("55000", True),
        ("57014", True), ("57P01", True), ("57P03", True), ("58030", True),
        ("22003", False), ("22001", False), ("22021", False), ("22P02", False), ("22008", False),
        ("23505", False), ("23502", False), ("42P01", False), ("42703", False),
        ("54000", False), ("54001", False), ("0A000", False), ("25P02", True), ("25P03", True),
        ("XX000", False), ("XX001", False),
    ],
)  # fmt: skip
def test_each_sqlstate_class_is_classified(sqlstate: str, transient: bool) -> None:
    orig = psycopg.errors.lookup(sqlstate)("from the server")
    error = sa_exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)
    assert is_transient_db(error) is transient


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        (sqlite3.SQLITE_BUSY, True), (sqlite3.SQLITE_LOCKED, True), (sqlite3.SQLITE_NOMEM, True),
        (sqlite3.SQLITE_IOERR, True), (sqlite3.SQLITE_IOERR_SHORT_READ, True),
        (sqlite3.SQLITE_FULL, True), (sqlite3.SQLITE_CANTOPEN, True),
        (sqlite3.SQLITE_PROTOCOL, True), (sqlite3.SQLITE_ERROR, False),
        (sqlite3.SQLITE_TOOBIG, False), (sqlite3.SQLITE_CONSTRAINT, False),
        (sqlite3.SQLITE_MISMATCH, False), (sqlite3.SQLITE_RANGE, False),
        (sqlite3.SQLITE_CORRUPT, False),
    ],
)  # fmt: skip
def test_each_sqlite_result_code_is_classified(code: int, transient: bool) -> None:
    orig = sqlite3.OperationalError("from sqlite")
    orig.sqlite_errorcode = code
    error = sa_exc.DBAPIError.instance("SELECT 1", {}, orig, sqlite3.Error)
    assert is_transient_db(error) is transient


@pytest.mark.parametrize(
    ("cls", "transient"),
    [
        (sa_exc.OperationalError, True),
        (sa_exc.InterfaceError, True),
        (sa_exc.DatabaseError, False),
        (sa_exc.DataError, False),
        (sa_exc.IntegrityError, False),
        (sa_exc.InternalError, False),
        (sa_exc.ProgrammingError, False),
        (sa_exc.NotSupportedError, False),
    ],
)
def test_each_sqlalchemy_class_without_a_code_is_classified(
    cls: type[sa_exc.DBAPIError], transient: bool
) -> None:
    assert is_transient_db(cls("SELECT 1", {}, Exception("no code"))) is transient
    # Raised while connecting, before any statement: always worth a retry.
    assert is_transient_db(cls(None, None, Exception("no code")))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sa_exc.TimeoutError("the pool is exhausted"), True),
        (sa_exc.DisconnectionError("gone"), True),
        (sa_exc.StatementError("bad parameter", "SELECT 1", {}, OverflowError("big")), False),
        (sa_exc.ResourceClosedError("closed"), False),
        (OverflowError("int too big"), False),
        (ValueError("no"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_sqlalchemys_own_errors_are_classified(error: BaseException, transient: bool) -> None:
    assert is_transient_db(error) is transient
