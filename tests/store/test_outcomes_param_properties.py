"""GET /v1/outcomes never answers 5xx for a parameter, on SQLite and PostgreSQL: a time, limit,
cursor or filter outside what the database holds is `400 invalid_parameter`."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from receiver.outcomes import PARAMETERS
from tests.conftest import Receiver
from tests.support import strategies as hs
from tests.support.api import get_json
from tests.support.properties import examples

# Examples per database (docs/reliability.md).
PARAM_EXAMPLES = 150

QUERIES = settings(
    max_examples=examples(PARAM_EXAMPLES),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

EDGE_TIMES = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999",
    "2024-02-30T00:00:00",
]
TIMES = st.sampled_from(EDGE_TIMES) | st.datetimes().map(lambda t: t.isoformat())
EDGE_IDS = st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30])


def cursor(stamp: Any, row_id: Any) -> str:
    raw = json.dumps([stamp, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSORS = st.builds(
    cursor, TIMES | hs.FINITE_JSON, EDGE_IDS | st.integers() | hs.FINITE_JSON
) | st.text(max_size=40)
TEXTS = st.text(max_size=30) | st.sampled_from(["\x00", "a\x00b", "x" * 1500])
RAW = st.sampled_from(["%ED%A0%80", "%FF", "%00", "%C0%80"])
VALUES = {
    "since": TIMES | TEXTS,
    "limit": st.integers(-(2**70), 2**70).map(str) | TEXTS,
    "cursor": CURSORS,
    "result": st.sampled_from(["pass", "fail", "error", "canceled", "unknown"]) | TEXTS,
}


@st.composite
def queries(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(PARAMETERS)), max_size=3))
    if draw(st.integers(0, 9)) == 0:
        names.append(draw(st.text(max_size=6)))
    parts = []
    for name in names:
        value = draw(VALUES.get(name, TEXTS))
        encoded = draw(RAW) if draw(st.integers(0, 9)) == 0 else quote(value, safe="")
        parts.append(f"{quote(name, safe='')}={encoded}")
    return "&".join(parts)


@QUERIES
@given(query=queries())
async def test_no_parameter_gives_a_5xx(receiver: Receiver, database_url: str, query: str) -> None:
    status, body = await get_json(receiver, f"/v1/outcomes?{query}")
    event(f"{status}")
    assert status in (200, 400), body  # the longest query stays under the line limit
    if status == 400:
        assert body["error"] == "invalid_parameter", body


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00:00%2B01:00",
        "since=9999-12-31T23:59:59-01:00",
        f"cursor={cursor('2024-05-01T10:00:00+00:00', 2**63)}",
        f"cursor={cursor('2024-05-01T10:00:00+00:00', -(2**63) - 1)}",
        f"cursor={cursor('0001-01-01T00:00:00+01:00', 1)}",
        "project=a%00b",
    ],
)
async def test_what_the_database_cannot_hold_is_400(
    receiver: Receiver, database_url: str, query: str
) -> None:
    status, body = await get_json(receiver, f"/v1/outcomes?{query}")
    assert (status, body["error"]) == (400, "invalid_parameter"), body
