"""GET /v1/outcomes and /v1/outcomes/{kind}/{uid}: filters, paging, 404 and bad parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis

from shared.db.schema import outcomes
from shared.settings import Settings
from shared.timestamps import as_utc
from tests.conftest import Receiver
from tests.support.api import get_json, post_document
from tests.support.builders import callback, new_uid
from tests.support.database import engine_for
from tests.support.keys import KeyPair
from tests.support.workers import drain


@dataclass(frozen=True)
class Stored:
    """Six outcomes stored one after another, in DOCS' order, so their updated_at order is known."""

    uids: dict[str, str]  # short name -> uid
    since: str  # a time between the third and the fourth

    def named(self, *names: str) -> list[str]:
        return [self.uids[n] for n in names]


# In the order one drain() processes them: the queues in turn (build, oebuild, test, plan), each
# first in, first out.
DOCS: dict[str, tuple[str, dict[str, Any]]] = {
    "a": ("build", {"project": "p/one", "target_arch": "arm64", "result": "pass"}),
    "b": ("build", {"project": "p/two", "target_arch": "x86_64", "result": "fail"}),
    "c": ("oebuild", {"project": "p/two", "result": "pass"}),
    "d": ("test", {"project": "p/one", "device": "qemu-arm64", "result": "fail"}),
    "e": ("test", {"project": "p/one", "device": "qemu-x86_64", "state": "running"}),
    "f": ("plan", {"project": "p/one"}),
}


def updated_at(database_url: str, uids: dict[str, str]) -> list[datetime]:
    """Each stored outcome's updated_at, in DOCS' order."""
    engine = engine_for(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(outcomes.c.uid, outcomes.c.updated_at)).all()
    finally:
        engine.dispose()
    times = {row.uid: as_utc(row.updated_at) for row in rows}
    return [times[uids[name]] for name in DOCS]


@pytest.fixture
async def stored(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> Stored:
    uids = {name: new_uid() for name in DOCS}
    for name, (kind, status) in DOCS.items():
        await post_document(receiver, keys, callback(kind, uids[name], **status))
    drain(settings, redis_client)  # one worker at a time, one job at a time: DOCS' order
    times = updated_at(settings.database_url, uids)
    assert times == sorted(times) and times[2] < times[3], times
    return Stored(uids, (times[2] + (times[3] - times[2]) / 2).isoformat())


async def page_uids(receiver: Receiver, query: str) -> list[str]:
    status, body = await get_json(receiver, f"/v1/outcomes?{query}")
    assert status == 200, body
    return [o["uid"] for o in body["outcomes"]]


async def test_filters_select_and_order_newest_first(receiver: Receiver, stored: Stored) -> None:
    cases = {
        "": "fedcba",
        "kind=build": "ba",
        "project=p/one": "feda",
        "project=p/one&kind=test": "ed",
        "state=running": "e",
        "result=fail": "db",
        "result=fail&kind=test": "d",
        "device=qemu-arm64": "d",
        "target_arch=x86_64": "b",
        f"since={stored.since.replace('+', '%2B')}": "fed",
        "project=nobody": "",
    }
    for query, expected in cases.items():
        assert await page_uids(receiver, query) == stored.named(*expected), query


@pytest.mark.parametrize(("query", "size"), [("limit=2", 2), ("limit=1&project=p/one", 1)])
async def test_pages_follow_the_cursor_to_the_end(
    receiver: Receiver, stored: Stored, query: str, size: int
) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        status, body = await get_json(receiver, f"/v1/outcomes?{query}{cursor}")
        assert status == 200 and len(body["outcomes"]) <= size
        seen += [o["uid"] for o in body["outcomes"]]
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    everything = await page_uids(receiver, query.split("&", 1)[1] if "&" in query else "")
    assert seen == everything


async def test_a_page_carries_each_tests_results(receiver: Receiver, stored: Stored) -> None:
    status, body = await get_json(receiver, "/v1/outcomes?kind=test")
    assert status == 200
    assert [o["results"] for o in body["outcomes"]] == [{"boot": "pass"}] * 2
    assert all("payload" not in o for o in body["outcomes"])


async def test_one_outcome_and_its_payload(receiver: Receiver, stored: Stored) -> None:
    status, body = await get_json(receiver, f"/v1/outcomes/test/{stored.uids['d']}")
    assert status == 200
    assert (body["kind"], body["device"], body["results"]) == (
        "test",
        "qemu-arm64",
        {"boot": "pass"},
    )
    assert body["payload"]["status"]["uid"] == stored.uids["d"]


@pytest.mark.parametrize(
    "path",
    ["/v1/outcomes/build/{missing}", "/v1/outcomes/test/{a}", "/v1/outcomes/nope/{a}"],
)
async def test_an_absent_outcome_is_404(receiver: Receiver, stored: Stored, path: str) -> None:
    status, body = await get_json(receiver, path.format(missing=new_uid(), a=stored.uids["a"]))
    assert (status, body["error"]) == (404, "not_found")
    assert body["message"]
