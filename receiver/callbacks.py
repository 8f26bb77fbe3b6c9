"""POST /v1/callbacks/tuxsuite: a TuxSuite callback, signed with the group's key."""

from __future__ import annotations

from aiohttp import web

from receiver.access import intake
from receiver.body import check_media_type, read_body
from receiver.quirks import DOUBLE_ENCODED
from receiver.state import LOG_FIELDS, state
from receiver.verify import decode_signature
from shared.constants import SIGNATURE_HEADER
from shared.errors import BadSignature, MissingSignature


def signature_header(request: web.Request) -> str:
    values = request.headers.getall(SIGNATURE_HEADER, [])
    if not values:
        raise MissingSignature(f"the {SIGNATURE_HEADER} header is missing")
    if len(values) > 1:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is repeated")
    return values[0]


@intake
async def tuxsuite_callback(request: web.Request) -> web.Response:
    st = state(request)
    check_media_type(request)
    # The header's form is checked before a byte of the body is read: garbage is refused cheaply.
    signature = decode_signature(signature_header(request))
    raw = await read_body(request)
    verified = await st.verifier.verify(raw, signature)
    # The group may also require a user's credentials in a header of its choosing.
    auth = await st.authenticator.callback_claims(request.headers)
    by = f"key:{verified.key_fingerprint}"
    repairs = (DOUBLE_ENCODED,) if verified.legacy else ()
    result = await st.intake.accept(
        verified.document, by, auth, request[LOG_FIELDS], repairs=repairs
    )
    return web.json_response(result.as_json(), status=200 if result.duplicate else 202)
