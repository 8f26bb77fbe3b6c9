"""GET /v1/outcomes/{kind}/{uid} and GET /v1/outcomes: what the workers stored.

SQLAlchemy is synchronous, so reads run on a small thread pool and the event loop never waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

import structlog
from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.constants import (
    KINDS,
    OUTCOMES_PAGE_DEFAULT,
    OUTCOMES_PAGE_MAX,
    OUTCOMES_READ_THREADS,
    RESULTS,
    STATES,
)
from shared.db.engine import create_engine, sqlite_file
from shared.db.migrate import check_current
from shared.db.queries import Cursor, Filters, get_outcome, list_outcomes
from shared.errors import (
    DatabaseUnavailable,
    InvalidParameter,
    NotFound,
    SchemaOutdated,
    TuxhookError,
)
from shared.settings import Settings
from shared.timestamps import parse_time

T = TypeVar("T")
log = structlog.get_logger("tuxhook.outcomes")

_CHOICES = {"kind": KINDS, "state": STATES, "result": RESULTS}
_TEXTS = (
    "project", "device", "target_arch", "build_uid", "oebuild_uid", "git_sha", "git_describe",
    "toolchain", "build_name", "plan", "test",
)  # fmt: skip
PARAMETERS = frozenset({*_CHOICES, *_TEXTS, "since", "limit", "cursor"})


class OutcomeReader:
    """The receiver's read-only way into the store: an engine and the threads that use it."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine, self.url = engine, url
        self._pool = ThreadPoolExecutor(OUTCOMES_READ_THREADS, thread_name_prefix="outcomes")

    async def read(self, query: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._read, query)

    def _read(self, query: Callable[[Connection], T]) -> T:
        try:
            with self.engine.begin() as conn:
                return query(conn)
        except SQLAlchemyError as e:
            reason = str(getattr(e, "orig", e))[:200]
            fix = self._schema_fix(e)
            if fix is None:
                log.warning("outcomes_unreadable", reason=reason)
                raise DatabaseUnavailable(
                    "the outcome store cannot be read now; retry later"
                ) from e
            log.warning("outcomes_unreadable", reason=reason, fix=fix)
            raise DatabaseUnavailable(
                "the outcome store has not been migrated: run `tuxhook db upgrade`, then retry"
            ) from e

    def _schema_fix(self, e: SQLAlchemyError) -> str | None:
        """What to do when the store is there but not migrated (check_current's message); None
        otherwise. A server that could not even be reached is not asked again."""
        if getattr(e, "statement", None) is None and sqlite_file(self.url) is None:
            return None
        try:
            check_current(self.engine, self.url)
        except SchemaOutdated as outdated:
            return outdated.message
        except TuxhookError:
            return None
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.engine.dispose()


READER = web.AppKey("tuxhook_outcomes", OutcomeReader)


def _single(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise InvalidParameter(f"{name} is given more than once")
    if values and not values[0]:
        raise InvalidParameter(f"{name} is empty")
    if values and not _storable(values[0]):
        raise InvalidParameter(f"{name} holds a NUL or a character that is not Unicode")
    return values[0] if values else None


def _storable(value: str) -> bool:
    """A value the store can compare: no NUL (PostgreSQL text has none), encodable as UTF-8."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _choice(query: MultiMapping[str], name: str) -> str | None:
    value = _single(query, name)
    if value is not None and value not in _CHOICES[name]:
        raise InvalidParameter(f"{name} must be one of {', '.join(_CHOICES[name])}")
    return value


def _since(raw: str | None) -> datetime | None:
    since = None if raw is None else parse_time(raw)
    if raw is not None and since is None:
        raise InvalidParameter("since must be an ISO 8601 time, e.g. 2025-01-31T00:00:00Z")
    return since


def _limit(raw: str | None) -> int:
    if raw is None:
        return OUTCOMES_PAGE_DEFAULT
    # isascii: str.isdigit() also accepts digits such as '²', which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= OUTCOMES_PAGE_MAX:
        raise InvalidParameter(f"limit must be a whole number from 1 to {OUTCOMES_PAGE_MAX}")
    return int(raw)


def parse_filters(query: MultiMapping[str]) -> Filters:
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise InvalidParameter(f"unknown parameter {', '.join(unknown)}")
    return Filters(
        **{name: _choice(query, name) for name in _CHOICES},
        **{name: _single(query, name) for name in _TEXTS},
        since=_since(_single(query, "since")),
    )


def filter_fields() -> list[tuple[str, tuple[str, ...] | None]]:
    """The filters GET /v1/outcomes takes, in Filters' order, each with its choices (None: any
    text): what the search page's form offers."""
    return [(f.name, _CHOICES.get(f.name)) for f in fields(Filters) if f.name in PARAMETERS]


def page_query(query: MultiMapping[str]) -> tuple[Filters, int, Cursor | None]:
    """GET /v1/outcomes's parameters: its filters, page size and cursor."""
    filters = parse_filters(query)
    limit = _limit(_single(query, "limit"))
    raw_cursor = _single(query, "cursor")
    return filters, limit, Cursor.decode(raw_cursor) if raw_cursor else None


async def find_outcome(request: web.Request, kind: str, uid: str) -> dict[str, Any]:
    """The outcome GET /v1/outcomes/{kind}/{uid} answers with; NotFound when there is none."""
    found = None
    if kind in KINDS:
        found = await request.app[READER].read(lambda conn: get_outcome(conn, kind, uid))
    if found is None:
        raise NotFound(f"no {kind} outcome with uid {uid[:64]!r}")
    return found


async def outcome(request: web.Request) -> web.Response:
    kind, uid = request.match_info["kind"], request.match_info["uid"]
    return web.json_response(await find_outcome(request, kind, uid))


async def outcomes(request: web.Request) -> web.Response:
    filters, limit, cursor = page_query(request.query)
    page = await request.app[READER].read(lambda c: list_outcomes(c, filters, limit, cursor))
    return web.json_response(page.as_json())


def setup_outcomes(app: web.Application, settings: Settings) -> None:
    """Add the read API to the receiver, with an engine of its own, closed on shutdown."""
    engine = create_engine(
        settings.database_url,
        lock_timeout_s=settings.database_lock_timeout_s,
        pool_size=OUTCOMES_READ_THREADS,
        application_name="tuxhook-receiver",
    )
    app[READER] = OutcomeReader(engine, settings.database_url)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        app[READER].close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/v1/outcomes", outcomes)
    app.router.add_get("/v1/outcomes/{kind}/{uid}", outcome)
