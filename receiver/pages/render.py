"""The pages' templates (Jinja2, autoescaped) and the headers every page is sent with."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from receiver.pages import changes, present

# Nothing from another host, no script, no inline style: a value that slipped past escaping
# could still run nothing. Forms post only here; no page may be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Links lead to TuxSuite's storage: they need not learn this receiver's address.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-cache",
}
STYLESHEET = files("receiver.pages").joinpath("static/style.css").read_bytes()
STYLESHEET_PATH = "/static/style.css"
# The header's links, to every list page.
NAV = (("home", "/"), ("search", "/outcomes"), ("regressions", "/regressions"))


def when(value: Any) -> str:
    """An ISO time from the API as `YYYY-MM-DD HH:MM:SS` (UTC); anything else as it is."""
    if not isinstance(value, str) or len(value) < 19:
        return "" if value is None else str(value)
    return value[:19].replace("T", " ")


def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("receiver.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
        # The templates are the package's: read once, never checked for changes on disk.
        auto_reload=False,
        filters={"when": when},
    )
    env.globals.update(
        outcome_href=present.outcome_href,
        search_href=present.search_href,
        verdict_of=present.verdict_of,
        column_verdict=present.column_verdict,
        outcome_verdict=present.outcome_verdict,
        parts=present.parts,
        rows=present.rows,
        row=present.row,
        changes=changes.changes,
        stylesheet=STYLESHEET_PATH,
        nav=NAV,
    )


def render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


async def stylesheet(_: web.Request) -> web.Response:
    return web.Response(
        body=STYLESHEET,
        content_type="text/css",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
