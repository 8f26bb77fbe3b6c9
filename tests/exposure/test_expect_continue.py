"""`Expect: 100-continue` is answered with the refusal, never an invitation, when a cheap check
fails; a request that passes them all is invited, and accepted once its body has come."""

from __future__ import annotations

import pytest

from shared.constants import SIGNATURE_HEADER
from tests.exposure.conftest import Exposed
from tests.support.builders import signed_callback
from tests.support.http import CONTINUE
from tests.support.keys import KeyPair
from tests.support.raw import connected, request_head
from tests.support.refusals import CALLBACK, check_error

EXPECT = {"Expect": "100-continue", "Content-Type": "application/json"}
SIGNED = "signed"  # stands for a well-formed signature, made in the test


def headers_of(given: dict[str, str], keys: KeyPair) -> dict[str, str]:
    signature = keys.sign(b"anything")
    return {k: signature if v == SIGNED else v for k, v in (EXPECT | given).items()}


REFUSED = [
    pytest.param(
        CALLBACK,
        {"Content-Length": "999999999", SIGNATURE_HEADER: SIGNED},
        413,
        "payload_too_large",
        id="declared-too-large",
    ),
    pytest.param(CALLBACK, {"Content-Length": "100"}, 401, "missing_signature", id="no-signature"),
    pytest.param(
        CALLBACK,
        {"Content-Length": "100", SIGNATURE_HEADER: "garbage"},
        401,
        "bad_signature",
        id="garbage-signature",
    ),
    pytest.param(
        CALLBACK,
        {"Content-Length": "100", SIGNATURE_HEADER: SIGNED, "Content-Type": "text/plain"},
        415,
        "unsupported_media_type",
        id="wrong-media-type",
    ),
    pytest.param(
        CALLBACK,
        {"Content-Length": "100", SIGNATURE_HEADER: SIGNED, "Content-Encoding": "br"},
        415,
        "unsupported_media_type",
        id="unsupported-encoding",
    ),
    pytest.param("/v1/events", {"Content-Length": "100"}, 401, "missing_credentials", id="events"),
    pytest.param("/nope", {"Content-Length": "100"}, 404, "not_found", id="no-such-route"),
]


@pytest.mark.parametrize(("path", "given", "status", "code"), REFUSED)
async def test_a_request_that_fails_a_cheap_check_is_refused_uninvited(
    exposed: Exposed, keys: KeyPair, path: str, given: dict[str, str], status: int, code: str
) -> None:
    async with connected(exposed.port) as conn:
        await conn.send(request_head("POST", path, headers_of(given, keys)))
        answer = await conn.answer()
    assert not answer.invited
    assert answer.status == status, answer
    check_error(answer.json(), code)


async def test_a_request_that_passes_is_invited_then_accepted(
    exposed: Exposed, keys: KeyPair
) -> None:
    body, headers = signed_callback(keys)
    head = request_head("POST", CALLBACK, EXPECT | headers | {"Content-Length": str(len(body))})
    async with connected(exposed.port) as conn:
        await conn.send(head)
        assert await conn.reader.readexactly(len(CONTINUE)) == CONTINUE
        await conn.send(body)
        head_and_body = await conn.answer()
    assert head_and_body.status == 202, head_and_body
