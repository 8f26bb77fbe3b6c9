"""The pages' handlers. Each page is its JSON twin rendered: it reads through the same query
functions, with the same parameters, as the API calls it links to (Datasette's model)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web
from multidict import MultiDict, MultiMapping
from sqlalchemy import Connection

from receiver import regressions
from receiver.outcomes import READER, filter_fields, page_query
from receiver.overview import read_overview
from receiver.pages import changes, present
from receiver.pages.render import render
from shared.constants import KINDS, OUTCOMES_PAGE_MAX
from shared.db.queries import Page, get_outcome, list_outcomes
from shared.db.regressions import standing_at
from shared.errors import InvalidParameter, NotFound

# The kinds whose runs are compared (worker/compare.py): the others' pages mark nothing.
COMPARED_KINDS = frozenset({"build", "test"})
# Seconds after which the home page reloads itself (a meta refresh; no script).
HOME_REFRESH_S = 60

Related = Callable[[web.Request, dict[str, Any]], Awaitable[dict[str, Any]]]


def api_href(path: str, query: Mapping[str, str] | MultiMapping[str]) -> str:
    return f"{path}?{urlencode(list(query.items()))}" if query else path


async def read_page(request: web.Request, query: MultiMapping[str]) -> Page:
    """What GET /v1/outcomes answers to `query`."""
    filters, limit, cursor = page_query(query)
    return await request.app[READER].read(lambda c: list_outcomes(c, filters, limit, cursor))


async def _listed(
    request: web.Request, title: str, query: dict[str, str], marked: bool = False
) -> dict[str, Any]:
    """A list of related outcomes, as GET /v1/outcomes gives it (its first OUTCOMES_PAGE_MAX);
    `marked`: with the regressions and fixes that end at each, read in the same transaction."""
    query = {**query, "limit": str(OUTCOMES_PAGE_MAX)}
    filters, limit, cursor = page_query(MultiDict(query))

    def read(conn: Connection) -> tuple[Page, list[dict[str, Any]]]:
        page = list_outcomes(conn, filters, limit, cursor)
        uids = [o["uid"] for o in page.outcomes] if marked else []
        return page, standing_at(conn, uids)

    page, turned = await request.app[READER].read(read)
    return {
        "title": title,
        "outcomes": page.outcomes,
        "marks": changes.by_run(turned),
        "json": api_href("/v1/outcomes", query),
        "more": api_href("/outcomes", {**query, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
    }


async def _build(request: web.Request, build: dict[str, Any]) -> dict[str, Any]:
    query = {"kind": "test", "build_uid": build["uid"]}
    listed = await _listed(request, "Tests on this build", query, marked=True)
    return {"listed": listed}


async def _plan(request: web.Request, plan: dict[str, Any]) -> dict[str, Any]:
    listed = await _listed(request, "Builds and tests of this plan", {"plan": plan["uid"]})
    return {"listed": listed, "matrix": present.matrix(listed["outcomes"])}


async def _oebuild(_: web.Request, oebuild: dict[str, Any]) -> dict[str, Any]:
    """The tests that waited for it: its `waited_by` (TEST#uid)."""
    return {"waited_by": present.references(oebuild.get("waited_by"), "test")}


async def _nothing(_: web.Request, __: dict[str, Any]) -> dict[str, Any]:
    return {}


RELATED: dict[str, Related] = {"build": _build, "plan": _plan, "oebuild": _oebuild}


async def _outcome(
    request: web.Request, kind: str, uid: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What GET /v1/outcomes/{kind}/{uid} answers, and the regressions and fixes that end at
    it, in one transaction; NotFound when there is no such outcome."""
    found: dict[str, Any] | None = None
    turned: list[dict[str, Any]] = []
    compared = [uid] if kind in COMPARED_KINDS else []  # an oebuild or a plan has no results
    if kind in KINDS:
        found, turned = await request.app[READER].read(
            lambda c: (get_outcome(c, kind, uid), standing_at(c, compared))
        )
    if found is None:
        raise NotFound(f"no {kind} outcome with uid {uid[:64]!r}")
    return found, turned


async def outcome_page(request: web.Request) -> web.Response:
    kind, uid = request.match_info["kind"], request.match_info["uid"]
    found, turned = await _outcome(request, kind, uid)
    related = await RELATED.get(kind, _nothing)(request, found)
    shown = {k: v for k, v in found.items() if k != "payload"}
    context = {
        "own": changes.by_name(changes.by_run(turned), uid),
        "o": found,
        "fields": present.shown_fields(shown),
        "suites": present.suites(found.get("results")),
        "cases": found.get("cases"),
        "links": present.log_links(found),
        "payload": orjson.dumps(found["payload"], option=orjson.OPT_INDENT_2).decode(),
        "json": [f"/v1/outcomes/{kind}/{uid}"]
        + ([related["listed"]["json"]] if "listed" in related else []),
        **related,
    }
    return render(request, "outcome.html", context)


async def home(request: web.Request) -> web.Response:
    found = await read_overview(request)
    context = {
        "overview": found,
        "json": [api_href("/v1/overview", request.query)],
        "refresh": HOME_REFRESH_S,
    }
    return render(request, "home.html", context)


def _form_query(request: web.Request) -> MultiDict[str]:
    """A form's query: a field left empty in the form is no filter."""
    return MultiDict((k, v) for k, v in request.query.items() if v != "")


def _list_context(
    fields: list[tuple[str, tuple[str, ...] | None]], twin: str, query: MultiDict[str]
) -> dict[str, Any]:
    return {
        "fields": fields,
        "query": query,
        "json": [api_href(twin, query)],
        "page": None,
        "next": None,
        "error": None,
    }


def _next_href(path: str, query: MultiDict[str], cursor: str | None) -> str | None:
    """The same list's next page, by the cursor its JSON twin gave."""
    if not cursor:
        return None
    following = [(k, v) for k, v in query.items() if k != "cursor"]
    return api_href(path, MultiDict([*following, ("cursor", cursor)]))


async def search(request: web.Request) -> web.Response:
    """GET /v1/outcomes as a form and a table."""
    query = _form_query(request)
    context = _list_context(filter_fields(), "/v1/outcomes", query)
    try:
        page = await read_page(request, query)
    except InvalidParameter as e:
        return render(request, "search.html", {**context, "error": e.message}, status=e.status)
    context["next"] = _next_href("/outcomes", query, page.next_cursor)
    return render(request, "search.html", {**context, "page": page})


async def regressions_page(request: web.Request) -> web.Response:
    """GET /v1/regressions as a form and a table: the standing ones unless `superseded` says."""
    query = _form_query(request)
    context = _list_context(regressions.filter_fields(), "/v1/regressions", query)
    try:
        page = await regressions.read_regressions(request, query)
    except InvalidParameter as e:
        return render(request, "regressions.html", {**context, "error": e.message}, e.status)
    context["next"] = _next_href("/regressions", query, page["next_cursor"])
    shown = changes.changes(page["regressions"])
    return render(request, "regressions.html", {**context, "page": shown})
