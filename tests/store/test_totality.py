"""Every 2xx is stored (issue 11): each reproduction of a signed callback that was answered 202
and then lost, now stored with null where the column cannot hold the value, and the reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.db.engine import database_url as parsed_url
from tests.support.builders import callback, new_uid
from tests.support.database import engine_for
from tests.support.store import Store

LONG = "x" * 3000  # over PostgreSQL's 2704-byte btree entry


@contextmanager
def server_zone(url: str, zone: str) -> Iterator[None]:
    """PostgreSQL's default TimeZone for new sessions of the database at `url` (SQLite has
    none: nothing to set)."""
    if not url.startswith("postgresql"):
        yield
        return
    name = parsed_url(url).database
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = '{zone}'")
        yield
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" RESET timezone')
        engine.dispose()


def _build_duration(value: Any) -> dict[str, Any]:
    doc = callback("build")
    doc["status"]["tuxmake_metadata"]["results"]["duration"]["build"] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "column", "reason"),
    [
        (callback("test", retries=10000000000000000000), "retries", "out of range"),
        (callback("build", warnings_count=10**30), "warnings_count", "out of range"),
        (callback("build", duration=int("9" * 401)), "duration", "out of range"),
        (_build_duration(int("9" * 401)), "build_duration", "out of range"),
        (callback("build", errors_count=2**31), "errors_count", "out of range"),
        (callback("test", retries=2**31), "retries", "out of range"),
        (callback("build", project=LONG), "project", "longer than 512 characters"),
        (callback("test", device=LONG), "device", "longer than 512 characters"),
        # Found by the soak run: PostgreSQL's JSON cannot hold \u0000, nested or not.
        (callback("oebuild", targets=["core-image\x00"]), "targets", "holds a NUL character"),
        (callback("oebuild", sources={"k\x00": "v"}), "sources", "holds a NUL character"),
        (
            callback("test", state="running", running_time="0001-01-01T00:00:00+01:00"),
            "state_time",
            "out of range",
        ),
        (
            callback("build", state="finished", finished_time="9999-12-31T23:59:59-01:00"),
            "state_time",
            "out of range",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_a_value_no_column_holds_is_stored_as_null_with_the_reason(
    store: Store, doc: dict[str, Any], column: str, reason: str
) -> None:
    kind, uid = doc["kind"], doc["status"]["uid"]
    await store.deliver(doc)
    store.assert_settled()
    found = await store.outcome(kind, uid)
    assert found[column] is None
    [error] = found["field_errors"]
    assert error["field"] == column
    assert error["reason"].startswith(reason)
    assert found["payload"] == doc


async def test_a_test_name_too_long_to_index_is_left_out_with_the_reason(store: Store) -> None:
    doc = callback("test", results={"boot": "pass", LONG: "fail"})
    await store.deliver(doc)
    store.assert_settled()
    found = await store.outcome("test", doc["status"]["uid"])
    assert found["results"] == {"boot": "pass"}
    assert found["field_errors"] == [
        {"field": "results", "reason": "longer than 512 characters, the most an index holds"}
    ]


async def test_a_finished_time_out_of_range_still_finishes_a_running_outcome(store: Store) -> None:
    uid = new_uid()
    running = callback("build", uid, state="running", running_time="2024-05-01T10:00:00")
    finished = callback("build", uid, state="finished", finished_time="9999-12-31T23:59:59-01:00")
    await store.deliver(running, finished)
    store.assert_settled()
    found = await store.outcome("build", uid)
    assert (found["state"], found["state_time"], found["deliveries"]) == ("finished", None, 2)


async def test_an_outcome_with_nothing_wrong_has_no_field_errors(store: Store) -> None:
    doc = callback("test")
    await store.deliver(doc)
    assert (await store.outcome("test", doc["status"]["uid"]))["field_errors"] is None


async def test_a_time_of_year_one_reads_back_whatever_the_servers_zone(
    store: Store, database_url: str
) -> None:
    # West of UTC, 0001-01-01T00:00:00Z is a time of year 0, which Python cannot hold: the
    # store's sessions read times in UTC whatever the database's default zone.
    doc = callback("test", state="running", running_time="0001-01-01T00:00:00+00:00")
    with server_zone(database_url, "America/New_York"):
        await store.deliver(doc)
        found = await store.outcome("test", doc["status"]["uid"])
    assert (found["state_time"], found["field_errors"]) == ("0001-01-01T00:00:00+00:00", None)
