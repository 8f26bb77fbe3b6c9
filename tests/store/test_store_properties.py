"""The worker is total over what the receiver accepts (issue 11), on SQLite and PostgreSQL.

Documents with arbitrary values in every field the worker maps go through a real receiver and
real Redis to RQ's worker (one in-process pass of `tuxhook worker`'s worker class, so that each
example ends when its job has run): each is refused with a 4xx JSON error and nothing queued, or
answered 2xx and stored, with no job failed, scheduled or left started.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.constants import KINDS, STATES
from shared.outcome_fields import BY_KIND, COMMON
from tests.support import strategies as hs
from tests.support.builders import callback, encode, new_uid, signed_headers
from tests.support.properties import examples
from tests.support.queues import queued_count
from tests.support.refusals import post_callback
from tests.support.store import Store
from tests.support.workers import drain

# Examples per database (docs/reliability.md): each is a callback stored end to end, about
# 0.15 s on the development machine; the soak run tries ten times as many, hence its timeout.
STORE_EXAMPLES = 60
SOAK_TIMEOUT_S = 600

END_TO_END = settings(
    max_examples=examples(STORE_EXAMPLES),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Payload names the worker reads, beyond the columns named after them.
_READ = ("plan", "results", "waiting_for", "auto_retry", "tuxmake_metadata", "retries_messages")
_TIMES = tuple(f"{state}_time" for state in STATES)
FIELDS = {
    kind: sorted({*COMMON, *BY_KIND[kind], *_READ, *_TIMES} - {"state_time", "plan_uid"})
    for kind in KINDS
}

EDGE_NUMBERS = st.sampled_from(
    [2**31 - 1, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, int("9" * 401), 5e-324, 1e308]
)
_DAY = timedelta(hours=23, minutes=59)
ZONES = st.builds(timezone, st.timedeltas(min_value=-_DAY, max_value=_DAY))
TIMES = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    ZONES,
) | st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-13-01"])
LONG_TEXT = st.builds(
    lambda c, n: c * n, st.characters(exclude_categories=["Cs"]), st.integers(400, 3000)
)
DIGITS = st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{1,5})?", fullmatch=True)
WILD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    EDGE_NUMBERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    LONG_TEXT,
    DIGITS,
    TIMES,
    st.sampled_from(["pass", "fail", "error", "canceled", "unknown", *STATES]),
    st.sampled_from([f"{p}#2QpE0aJbVn6S1rKx9WmT3yZcH4u" for p in ("BUILD", "OEBUILD", "TEST", "")]),
    hs.FINITE_JSON,
)
RESULTS = st.dictionaries(st.text(max_size=8) | LONG_TEXT, WILD, max_size=3)


@st.composite
def wild_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A callback of a random kind whose mapped fields are replaced by arbitrary values."""
    kind = draw(st.sampled_from(KINDS))
    doc = callback(kind, new_uid())
    names = draw(st.lists(st.sampled_from(FIELDS[kind]), unique=True, max_size=8))
    for name in names:
        doc["status"][name] = draw(RESULTS if name == "results" else WILD)
    if draw(st.booleans()):
        duration = draw(WILD)
        doc["status"]["tuxmake_metadata"] = {"results": {"duration": {"build": duration}}}
    return doc


@pytest.mark.timeout(SOAK_TIMEOUT_S)
@END_TO_END
@given(doc=wild_documents())
async def test_whatever_the_receiver_accepts_is_stored(store: Store, doc: dict[str, Any]) -> None:
    store.redis.flushall()
    body = encode(doc)
    status, answer = await post_callback(store.receiver, body, signed_headers(store.keys, body))
    event(f"answered {status}")
    assert status < 500, answer
    if status >= 400:
        assert set(answer) == {"error", "message"}, answer
        assert queued_count(store.redis) == 0
        return
    drain(store.settings, store.redis)
    store.assert_settled()
    found = await store.outcome(doc["kind"], doc["status"]["uid"])
    assert found["payload"] == doc
    event(f"field errors: {bool(found['field_errors'])}")
