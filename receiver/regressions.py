"""GET /v1/regressions: regressions and fixes, newest first, behind the outcomes' read access."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping

from receiver.outcomes import READER, _limit, _since, _single
from shared.db.queries import Cursor
from shared.db.regressions import SUPERSEDED, TYPES, RegressionFilters, list_regressions
from shared.errors import InvalidParameter

_CHOICES = {"type": TYPES, "kind": ("build", "test"), "superseded": SUPERSEDED}
_TEXTS = ("project", "test", "device", "target_arch", "toolchain")
PARAMETERS = frozenset({*_CHOICES, *_TEXTS, "since", "limit", "cursor"})


def _choice(query: MultiMapping[str], name: str) -> str | None:
    value = _single(query, name)
    if value is not None and value not in _CHOICES[name]:
        raise InvalidParameter(f"{name} must be one of {', '.join(_CHOICES[name])}")
    return value


def filter_fields() -> list[tuple[str, tuple[str, ...] | None]]:
    """The filters GET /v1/regressions takes, each with its choices (None: any text), in the
    order the regressions page's form offers them; `superseded`'s default, false, is no choice."""
    order = ("project", "type", "kind", "test", "device", "target_arch", "toolchain", "since")
    shown = [(name, _CHOICES.get(name)) for name in order]
    return [*shown, ("superseded", tuple(c for c in SUPERSEDED if c != "false"))]


def parse_filters(query: MultiMapping[str]) -> RegressionFilters:
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise InvalidParameter(f"unknown parameter {', '.join(unknown)}")
    return RegressionFilters(
        type=_choice(query, "type"),
        kind=_choice(query, "kind"),
        superseded=_choice(query, "superseded") or "false",
        **{name: _single(query, name) for name in _TEXTS},
        since=_since(_single(query, "since")),
    )


async def read_regressions(request: web.Request, query: MultiMapping[str]) -> dict[str, Any]:
    """What GET /v1/regressions answers to `query` (the regressions page renders it)."""
    filters = parse_filters(query)
    limit = _limit(_single(query, "limit"))
    raw_cursor = _single(query, "cursor")
    cursor = Cursor.decode(raw_cursor) if raw_cursor else None
    page: dict[str, Any] = await request.app[READER].read(
        lambda c: list_regressions(c, filters, limit, cursor)
    )
    return page


async def list_handler(request: web.Request) -> web.Response:
    return web.json_response(await read_regressions(request, request.query))


def setup_regressions(app: web.Application) -> None:
    """After setup_outcomes: the same reader, the same read access."""
    app.router.add_get("/v1/regressions", list_handler)
