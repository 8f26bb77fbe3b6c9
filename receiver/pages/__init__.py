"""Pages of outcomes for browsers: server-rendered, autoescaped, no script, one stylesheet.

Every page is behind the same read access as the API (receiver/access.py); each renders the
JSON of an API route it links to. Page paths mirror the API's without `/v1`:

| page | JSON twin |
|---|---|
| `/` | `/v1/overview` |
| `/outcomes?filters` (search) | `/v1/outcomes?filters` |
| `/outcomes/{kind}/{uid}` | `/v1/outcomes/{kind}/{uid}` (and the list of related outcomes) |
| `/regressions?filters` | `/v1/regressions?filters` |
"""

from __future__ import annotations

from aiohttp import web

from receiver.access import public
from receiver.overview import overview_json
from receiver.pages.render import STYLESHEET_PATH, setup_templates, stylesheet
from receiver.pages.views import home, outcome_page, regressions_page, search


def setup_pages(app: web.Application) -> None:
    """Add the pages, and GET /v1/overview, to the receiver (after setup_outcomes)."""
    setup_templates(app)
    app.router.add_get("/v1/overview", overview_json)
    app.router.add_get("/", home)
    app.router.add_get("/outcomes", search)
    app.router.add_get("/outcomes/{kind}/{uid}", outcome_page)
    app.router.add_get("/regressions", regressions_page)
    # The package's own stylesheet holds nothing secret; a browser asks for it without the
    # credentials it sent for the page (a Basic protection space is per folder).
    app.router.add_get(STYLESHEET_PATH, public(stylesheet))
