"""The pages' handlers. Each page is its JSON twin rendered: it reads through the same query
functions, with the same parameters, as the API calls it links to (Datasette's model)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web
from multidict import MultiDict, MultiMapping

from receiver.outcomes import READER, filter_fields, find_outcome, page_query
from receiver.overview import read_overview
from receiver.pages import present
from receiver.pages.render import render
from shared.constants import OUTCOMES_PAGE_MAX
from shared.db.queries import Page, list_outcomes
from shared.errors import InvalidParameter

# Seconds after which the home page reloads itself (a meta refresh; no script).
HOME_REFRESH_S = 60

Related = Callable[[web.Request, dict[str, Any]], Awaitable[dict[str, Any]]]


def api_href(path: str, query: Mapping[str, str] | MultiMapping[str]) -> str:
    return f"{path}?{urlencode(list(query.items()))}" if query else path


async def read_page(request: web.Request, query: MultiMapping[str]) -> Page:
    """What GET /v1/outcomes answers to `query`."""
    filters, limit, cursor = page_query(query)
    return await request.app[READER].read(lambda c: list_outcomes(c, filters, limit, cursor))


async def _listed(request: web.Request, title: str, query: dict[str, str]) -> dict[str, Any]:
    """A list of related outcomes, as GET /v1/outcomes gives it (its first OUTCOMES_PAGE_MAX)."""
    query = {**query, "limit": str(OUTCOMES_PAGE_MAX)}
    page = await read_page(request, MultiDict(query))
    return {
        "title": title,
        "outcomes": page.outcomes,
        "json": api_href("/v1/outcomes", query),
        "more": api_href("/outcomes", {**query, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
    }


async def _build(request: web.Request, build: dict[str, Any]) -> dict[str, Any]:
    listed = await _listed(
        request, "Tests on this build", {"kind": "test", "build_uid": build["uid"]}
    )
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


async def outcome_page(request: web.Request) -> web.Response:
    kind, uid = request.match_info["kind"], request.match_info["uid"]
    found = await find_outcome(request, kind, uid)
    related = await RELATED.get(kind, _nothing)(request, found)
    shown = {k: v for k, v in found.items() if k != "payload"}
    context = {
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


def _search_context(query: MultiDict[str]) -> dict[str, Any]:
    return {
        "fields": filter_fields(),
        "query": query,
        "json": [api_href("/v1/outcomes", query)],
        "page": None,
        "next": None,
        "error": None,
    }


async def search(request: web.Request) -> web.Response:
    """GET /v1/outcomes as a form and a table. A field left empty in the form is no filter."""
    query = MultiDict((k, v) for k, v in request.query.items() if v != "")
    context = _search_context(query)
    try:
        page = await read_page(request, query)
    except InvalidParameter as e:
        return render(request, "search.html", {**context, "error": e.message}, status=e.status)
    if page.next_cursor:
        following = [(k, v) for k, v in query.items() if k != "cursor"]
        context["next"] = api_href(
            "/outcomes", MultiDict([*following, ("cursor", page.next_cursor)])
        )
    return render(request, "search.html", {**context, "page": page})
