"""Who may call which route: reads are closed unless a handler says otherwise.

Every route needs a user with the `read` role (docs/auth.md), unless TUXHOOK_READ_ACCESS=open
or its handler is marked here:

- `@public`: anyone (the health checks, and the pages' stylesheet);
- `@intake`: the handler authenticates the sender itself, before it reads a body (a
  callback's signature, or a user with the `report` role).

A route added without a mark, such as a new page or API, is therefore closed to anonymous
readers; the middleware (receiver/middleware.py) calls `check_access` before every handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from receiver.state import LOG_FIELDS, state
from shared.errors import BadCredentials

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

PUBLIC, INTAKE, READ = "public", "intake", "read"
_MARKED: dict[Handler, str] = {}


def public(handler: H) -> H:
    """Anyone may call this handler."""
    _MARKED[handler] = PUBLIC
    return handler


def intake(handler: H) -> H:
    """This handler authenticates its sender itself, before it reads the body."""
    _MARKED[handler] = INTAKE
    return handler


def access_of(handler: Handler) -> str:
    return _MARKED.get(handler, READ)


def authorization(request: web.Request) -> str | None:
    values = request.headers.getall("Authorization", [])
    if len(values) > 1:
        raise BadCredentials("the Authorization header is repeated")
    return values[0] if values else None


async def check_access(request: web.Request) -> None:
    """Refuse (401, 403) a read by anyone but a user with the read role, where reads are
    closed. No route (404, 405) is no read: aiohttp's answer stands."""
    match = request.match_info
    if match.http_exception is not None or access_of(match.handler) != READ:
        return
    st = state(request)
    if st.settings.read_access == "open":
        return
    identity = await st.authenticator.reader(authorization(request))
    request[LOG_FIELDS]["user"] = identity.user
