"""GET /v1/overview: the projects updated lately, with their latest builds and plans, and the
latest regressions and fixes; the home page's JSON twin (shared/db/overview.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from receiver.outcomes import READER, parse_filters
from shared.constants import OVERVIEW_WINDOW_S
from shared.db.overview import overview
from shared.errors import InvalidParameter

PARAMETERS = frozenset({"since"})


def overview_since(query: MultiMapping[str]) -> datetime:
    """`since`, checked as GET /v1/outcomes checks it; by default OVERVIEW_WINDOW_S ago."""
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise InvalidParameter(f"unknown parameter {', '.join(unknown)}")
    since = parse_filters(query).since
    return since or datetime.now(UTC) - timedelta(seconds=OVERVIEW_WINDOW_S)


async def read_overview(request: web.Request) -> dict[str, Any]:
    since = overview_since(request.query)
    return await request.app[READER].read(lambda conn: overview(conn, since))


async def overview_json(request: web.Request) -> web.Response:
    return web.json_response(await read_overview(request))
