"""TuxSuite's sender quirks: a `\\'` in a commit subject (not JSON) and the legacy double-encoded
body are read once the signature is verified over the raw bytes, and the outcome says so."""

from __future__ import annotations

from typing import Any

from redis import Redis

from shared.constants import SIGNATURE_HEADER
from tests.support.builders import callback, double_encoded, encode, signed_raw
from tests.support.refusals import assert_refused, post_callback
from tests.support.store import Store
from tests.support.workers import drain

SUBJECT = "Merge tag 'net-6.7-rc5'"


def quoted_body(doc: dict[str, Any]) -> bytes:
    """`doc` as TuxSuite sends a commit subject with apostrophes: each one escaped as \\'."""
    return encode(doc).replace(b"'", b"\\'")


async def stored_from(store: Store, body: bytes) -> tuple[int, Any]:
    status, answer = await post_callback(store.receiver, body, signed_raw(store.keys, body)[1])
    drain(store.settings, store.redis)
    return status, answer


async def test_a_backslash_quote_is_read_as_a_quote_and_recorded(store: Store) -> None:
    doc = callback("build", git_short_log=f'8f6f76a6a29f ("{SUBJECT}")')
    body = quoted_body(doc)
    assert b"\\'" in body
    status, _ = await stored_from(store, body)
    assert status == 202
    found = await store.outcome("build", doc["status"]["uid"])
    assert (found["git_short_log"], found["repairs"]) == (
        doc["status"]["git_short_log"],
        ["backslash_quote"],
    )
    assert found["payload"] == doc
    store.assert_settled()


async def test_an_escaped_backslash_before_a_quote_is_left_as_it_is(store: Store) -> None:
    # `\\'` is a backslash then a quote: JSON already, nothing to repair.
    doc = callback("build", git_short_log="a\\'b")
    status, _ = await stored_from(store, encode(doc))
    assert status == 202
    found = await store.outcome("build", doc["status"]["uid"])
    assert (found["git_short_log"], found["repairs"]) == ("a\\'b", None)


async def test_a_double_encoded_body_is_recorded(store: Store) -> None:
    doc = callback("test")
    status, _ = await stored_from(store, double_encoded(encode(doc)))
    assert status == 202
    found = await store.outcome("test", doc["status"]["uid"])
    assert (found["repairs"], found["payload"]) == (["double_encoded"], doc)


async def test_a_backslash_quote_body_with_a_wrong_signature_is_refused(
    store: Store, redis_client: Redis
) -> None:
    body = quoted_body(callback("build", git_short_log=SUBJECT))
    other = store.keys.sign(body + b" ")
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: other}
    await assert_refused(store.receiver, redis_client, (body, headers), 401, "bad_signature")


async def test_nothing_else_is_relaxed_with_a_backslash_quote(
    store: Store, redis_client: Redis
) -> None:
    subject = encode(SUBJECT).replace(b"'", b"\\'")
    for body in (
        b'{"kind":"build","kind":"build","status":{"uid":"abc","git_short_log":' + subject + b"}}",
        b'{"kind":"build","status":{"uid":"abc","duration":NaN,"git_short_log":' + subject + b"}}",
        b'{"kind":"build","status":{"uid":"abc","note":"\\x","git_short_log":' + subject + b"}}",
    ):
        request = signed_raw(store.keys, body)
        await assert_refused(store.receiver, redis_client, request, 400, "invalid_json")
