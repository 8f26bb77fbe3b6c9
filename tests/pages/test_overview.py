"""The home page's overview over a store with several projects: the most recently updated
first, each with its latest builds and plans, as many as asked, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis

from shared.db.overview import Sizes, overview
from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import post_document
from tests.support.builders import callback, new_uid
from tests.support.database import engine_for
from tests.support.keys import KeyPair
from tests.support.workers import drain


async def test_each_project_has_its_latest_builds_and_plans(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> None:
    # One at a time, so that each is updated after the one before (drain keeps queue order).
    order = [
        ("build", "p/old"), ("plan", "p/new"), ("build", "p/new"), ("build", "p/new"),
        ("plan", "p/new"), ("build", "p/new"), ("test", "p/old"),
    ]  # fmt: skip
    uids = []
    for kind, project in order:
        uids.append(new_uid())
        await post_document(receiver, keys, callback(kind, uids[-1], project=project))
        drain(settings, redis_client)
    engine = engine_for(settings.database_url)
    since = datetime.now(UTC) - timedelta(hours=1)
    try:
        with engine.connect() as conn:
            found = overview(conn, since, Sizes(projects=5, builds=2, plans=1))
            one = overview(conn, since, Sizes(projects=1, builds=2, plans=1))
            later = overview(conn, datetime.now(UTC) + timedelta(hours=1))
    finally:
        engine.dispose()
    assert [p["project"] for p in found["projects"]] == ["p/old", "p/new"]
    old, new = found["projects"]
    assert [b["uid"] for b in old["builds"]] == [uids[0]] and old["plans"] == []
    assert [b["uid"] for b in new["builds"]] == [uids[5], uids[3]]
    assert [p["uid"] for p in new["plans"]] == [uids[4]]
    assert [p["project"] for p in one["projects"]] == ["p/old"]
    assert later["projects"] == []
