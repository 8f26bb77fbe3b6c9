"""GET /v1/outcomes/test/{uid}/cases: a test's per-case results, a page at a time.

A test's outcome carries the first page as `cases`; its `next_cursor` is this route's `cursor`.
"""

from __future__ import annotations

from aiohttp import web

from receiver.outcomes import READER, _single
from shared.constants import CASES_PAGE_DEFAULT, CASES_PAGE_MAX
from shared.db.cases import cases_page, decode_cursor
from shared.errors import InvalidParameter, NotFound

PARAMETERS = frozenset({"limit", "cursor"})


def _limit(raw: str | None) -> int:
    if raw is None:
        return CASES_PAGE_DEFAULT
    # isascii: str.isdigit() also accepts digits such as '²', which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= CASES_PAGE_MAX:
        raise InvalidParameter(f"limit must be a whole number from 1 to {CASES_PAGE_MAX}")
    return int(raw)


async def cases_endpoint(request: web.Request) -> web.Response:
    uid = request.match_info["uid"]
    unknown = sorted(set(request.query) - PARAMETERS)
    if unknown:
        raise InvalidParameter(f"unknown parameter {', '.join(unknown)}")
    limit = _limit(_single(request.query, "limit"))
    raw_cursor = _single(request.query, "cursor")
    after = decode_cursor(raw_cursor) if raw_cursor else None
    found = await request.app[READER].read(lambda conn: cases_page(conn, uid, limit, after))
    if found is None:
        raise NotFound(f"no per-case results of a test with uid {uid[:64]!r}")
    return web.json_response(found)


def setup_cases(app: web.Application) -> None:
    """Add the route; setup_outcomes must have run (this reads through its READER)."""
    app.router.add_get("/v1/outcomes/test/{uid}/cases", cases_endpoint)
