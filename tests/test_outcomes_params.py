"""GET /v1/outcomes refuses what it does not understand, before it reads the store."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from shared.constants import OUTCOMES_PAGE_MAX
from shared.db.queries import Cursor
from tests.conftest import Receiver
from tests.support.api import get_json


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        f"limit={OUTCOMES_PAGE_MAX + 1}",
        "limit=ten",
        "limit=-1",
        "limit=%C2%B2",
        "limit=5_0",
        "kind=nope",
        "state=done",
        "result=maybe",
        "project=",
        "kind=build&kind=test",
        "since=last-week",
        "cursor=%%%",
        "cursor=bm90IGpzb24",
        f"cursor={base64.urlsafe_b64encode(b'[' * 5000).decode()}",
        # A fixed time: pytest-xdist's workers must collect the same test ids.
        f"cursor={Cursor(datetime(2024, 5, 1, 10, tzinfo=UTC), 1).encode()[:-3]}",
        "stat=running",
    ],
)
async def test_bad_parameters_are_400(receiver: Receiver, query: str) -> None:
    status, body = await get_json(receiver, f"/v1/outcomes?{query}")
    assert (status, body["error"]) == (400, "invalid_parameter"), query
    assert body["message"]
