"""Is a database error worth a retry? Transient: the database was down, locked, restarting,
short of resources or cut off, so the same job may succeed later. Permanent: the statement
itself was refused (bad data, a limit, a missing table), so a retry would fail the same way
for the whole retry budget, as an over-long indexed value once did.

SQLAlchemy's classes follow PEP 249, which files PostgreSQL's "program limit exceeded" under
OperationalError alongside "server closed the connection"; the driver's own code tells them
apart: psycopg's SQLSTATE, sqlite3's result code.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc as sa_exc

# SQLSTATE classes (the first two characters) that a later try may not meet:
TRANSIENT_SQLSTATE_CLASSES = frozenset(
    {
        "08",  # connection exception
        "25",  # invalid transaction state: aborted by an earlier error, idle-session timeout
        "40",  # transaction rollback: serialization failure, deadlock
        "53",  # insufficient resources: disk full, out of memory, too many connections
        "55",  # object not in prerequisite state: lock not available, database not accepting
        "57",  # operator intervention: admin shutdown, query cancelled (lock or statement timeout)
        "58",  # system error: I/O error
    }
)
# sqlite3 primary result codes (sqlite_errorcode & 0xff) that a later try may not meet.
TRANSIENT_SQLITE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)
# SQLAlchemy's own errors of the pool and the connection, not of a statement.
_TRANSIENT_SQLALCHEMY = (sa_exc.TimeoutError, sa_exc.DisconnectionError)


def _by_driver(orig: BaseException) -> bool | None:
    """The driver's verdict; None when the error carries no code to judge by."""
    if isinstance(orig, psycopg.Error) and orig.sqlstate:
        return orig.sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error) and isinstance(code, int):
        return code & 0xFF in TRANSIENT_SQLITE_CODES
    return None


def is_transient_db(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_SQLALCHEMY):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        # StatementError and the rest: the statement's parameters or SQLAlchemy's use of it.
        return False
    # Raised while connecting (no statement yet), or the connection was lost under it.
    if error.connection_invalidated or error.statement is None:
        return True
    verdict = None if error.orig is None else _by_driver(error.orig)
    if verdict is not None:
        return verdict
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
