"""Hypothesis strategies: random bodies, signature choices and headers for the callback route."""

from __future__ import annotations

import base64
import enum
import string
from typing import Any

from hypothesis import strategies as st

from shared.constants import KINDS, MAX_UID_LENGTH, SIGNATURE_HEADER
from tests.support.builders import callback, encode

ASCII_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
HEADER_VALUES = st.text(ASCII_PRINTABLE, max_size=40)

# JSON scalars, including the NaN and infinities json.dumps writes as non-JSON literals.
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text(max_size=16)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=16,
)
FINITE_JSON = st.recursive(
    SCALARS.filter(lambda v: not isinstance(v, float) or (v == v and abs(v) != float("inf"))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=16,
)
UIDS = st.text(string.ascii_letters + string.digits, min_size=1, max_size=MAX_UID_LENGTH)
MAYBE_UIDS = UIDS | JSON_VALUES


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """Objects shaped roughly like a callback, each field sometimes right, sometimes not."""
    status = draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3))
    if draw(st.booleans()):
        status["uid"] = draw(MAYBE_UIDS)
    doc: dict[str, Any] = {"status": status if draw(st.booleans()) else draw(JSON_VALUES)}
    if draw(st.booleans()):
        doc["kind"] = draw(st.sampled_from(KINDS) | JSON_VALUES)
    return encode(doc)


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """A valid callback with one span of bytes replaced by random bytes."""
    body = encode(callback(draw(st.sampled_from(KINDS)), uid=draw(UIDS)))
    start = draw(st.integers(0, len(body)))
    end = draw(st.integers(start, min(len(body), start + 16)))
    return body[:start] + draw(st.binary(max_size=8)) + body[end:]


VALID_CALLBACKS = st.builds(
    lambda kind, uid: encode(callback(kind, uid=uid)), st.sampled_from(KINDS), UIDS
)
BODIES = (
    st.binary(max_size=512)
    | JSON_VALUES.map(encode)
    | documents()
    | VALID_CALLBACKS
    | mutations()
    | mutations().map(lambda b: encode(b.decode("utf-8", "replace")))  # legacy double encoding
)


class Signature(enum.Enum):
    """Which signature header a request carries, resolved when the keys are at hand."""

    NONE = "none"
    GOOD = "the good key's signature of the body"
    OTHER_BODY = "the good key's signature of another body"
    TWICE = "the good signature, twice"


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> Any:
    """`usual` about four times in five: the rest of the request then gets a fair test."""
    return st.integers(0, 4).flatmap(lambda n: other if n == 0 else usual)


# Mostly the good signature, so that most bodies get as far as the parser.
SIGNATURES: st.SearchStrategy[Signature | str] = mostly(
    st.just(Signature.GOOD),
    st.sampled_from(Signature)
    | HEADER_VALUES
    | st.binary(max_size=80).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)
ACCEPTED = (None, "application/json", "application/json; charset=utf-8", "application/ld+json")
ACCEPTED_CONTENT_TYPES = st.sampled_from(ACCEPTED)
# Mostly acceptable types, for the same reason.
CONTENT_TYPES = mostly(
    ACCEPTED_CONTENT_TYPES,
    st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "", "json"])
    | st.text(ASCII_PRINTABLE, max_size=30),
)
# Content-Length and Transfer-Encoding stay out: a lie there is a hang, not bad input.
EXTRA_HEADER = st.tuples(
    st.sampled_from(
        ["X-Request-ID", "Accept", "Authorization", "X-Extra", "Content-Type", SIGNATURE_HEADER]
    ),
    HEADER_VALUES,
) | st.tuples(st.just("Content-Encoding"), st.sampled_from(["gzip", "deflate", "identity", "x"]))
EXTRA_HEADERS = mostly(st.just([]), st.lists(EXTRA_HEADER, min_size=1, max_size=3))
HARMLESS_HEADERS = st.lists(
    st.tuples(st.sampled_from(["X-Request-ID", "Accept", "X-Extra"]), HEADER_VALUES),
    max_size=3,
)
