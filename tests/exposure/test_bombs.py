"""A gzip bomb sent where no handler reads a body is never inflated; where a handler reads it,
it is inflated no further than TUXHOOK_MAX_BODY_BYTES. The receiver's own counters say so."""

from __future__ import annotations

import pytest

from shared.constants import SIGNATURE_HEADER
from shared.settings import Settings
from tests.exposure.conftest import Exposed
from tests.support.http import fetch
from tests.support.keys import KeyPair
from tests.support.metrics import Samples, value
from tests.support.raw import gzip_bomb
from tests.support.refusals import CALLBACK, check_error

INFLATED = 64 << 20  # bytes of zeros in the bomb: 64 times the body limit, in about 64 KiB
LIMIT = Settings().max_body_bytes

UNREAD = [
    pytest.param("POST", "/nope", {}, 404, "not_found", id="no-such-route"),
    pytest.param("PUT", CALLBACK, {}, 405, "method_not_allowed", id="wrong-method"),
    pytest.param("GET", "/v1/outcomes", {}, 401, "missing_credentials", id="closed-read"),
    pytest.param("POST", "/v1/events", {}, 401, "missing_credentials", id="no-credentials"),
    pytest.param("POST", CALLBACK, {}, 401, "missing_signature", id="no-signature"),
    pytest.param(
        "POST", CALLBACK, {SIGNATURE_HEADER: "garbage"}, 401, "bad_signature", id="garbage"
    ),
    pytest.param(
        "POST",
        CALLBACK,
        {"Content-Type": "text/plain", SIGNATURE_HEADER: "garbage"},
        415,
        "unsupported_media_type",
        id="wrong-media-type",
    ),
    pytest.param("POST", "/healthz", {}, 405, "method_not_allowed", id="health-check"),
]


def body_counters(samples: Samples) -> tuple[float, float]:
    """(bytes read, bytes decoded) by the receiver's handlers so far."""
    return (
        value(samples, "tuxhook_body_bytes_read_total"),
        value(samples, "tuxhook_body_bytes_decoded_total"),
    )


async def send_bomb(url: str, method: str, headers: dict[str, str]) -> tuple[int, object]:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", **headers}
    answer = await fetch(method, url, headers=headers, data=gzip_bomb(INFLATED))
    return answer.status, answer.json()


@pytest.mark.parametrize(("method", "path", "headers", "status", "code"), UNREAD)
async def test_a_bomb_where_no_body_is_read_inflates_nothing(
    exposed: Exposed, method: str, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    before = body_counters(await exposed.metrics())
    got, answer = await send_bomb(exposed.url + path, method, headers)
    assert got == status, answer
    check_error(answer, code)
    assert body_counters(await exposed.metrics()) == before  # not a byte read, nor inflated


async def test_a_bomb_a_handler_reads_is_inflated_no_further_than_the_limit(
    exposed: Exposed, keys: KeyPair
) -> None:
    """A well-formed signature gets the body read: it is refused 413 as it passes the limit."""
    before_read, before_decoded = body_counters(await exposed.metrics())
    signature = keys.sign(b"whatever")
    got, answer = await send_bomb(exposed.url + CALLBACK, "POST", {SIGNATURE_HEADER: signature})
    assert got == 413, answer
    check_error(answer, "payload_too_large")
    read, decoded = body_counters(await exposed.metrics())
    assert 0 < decoded - before_decoded <= LIMIT + 1
    assert 0 < read - before_read <= len(gzip_bomb(INFLATED))
