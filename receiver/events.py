"""POST /v1/events: a CI job reports an event itself, with an access key or a token."""

from __future__ import annotations

from aiohttp import web

from receiver.access import authorization, intake
from receiver.body import check_media_type, read_body
from receiver.state import LOG_FIELDS, state


@intake
async def post_event(request: web.Request) -> web.Response:
    st = state(request)
    # Credentials first: a stranger learns nothing about what the body should have been.
    identity = await st.authenticator.authenticate(authorization(request))
    request[LOG_FIELDS]["user"] = identity.user
    check_media_type(request)
    raw = await read_body(request)
    result = await st.intake.accept(raw, identity.verified_by, identity.claims, request[LOG_FIELDS])
    return web.json_response(result.as_json(), status=200 if result.duplicate else 202)
