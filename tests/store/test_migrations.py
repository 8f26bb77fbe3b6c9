"""Revision 0002 upgrades a populated 0001 store without loss, on SQLite and PostgreSQL, and
fills the new columns of every outcome from its stored raw payload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shared.db.migrate import current_revision, head_revision
from tests.support.builders import callback, encode, new_uid
from tests.support.database import (
    POSTGRES_SERVER_URL,
    create_database,
    drop_database,
    engine_for,
    migrate,
)

T0 = datetime(2025, 11, 1, 8, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store at revision 0001, of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        migrate(url, "0001")
        yield url
        return
    url = create_database(POSTGRES_SERVER_URL)
    try:
        migrate(url, "0001")
        yield url
    finally:
        drop_database(POSTGRES_SERVER_URL, url)


def insert_0001(conn: sa.Connection, doc: dict[str, Any], **columns: Any) -> int:
    """An outcome row as tuxhook 0001's worker wrote it: its columns, and the raw payload."""
    row = {
        "kind": doc["kind"],
        "uid": doc["status"]["uid"],
        "state": doc["status"].get("state"),
        "first_received_at": T0,
        "updated_at": T0,
        "deliveries": 2,
        "verified_by": "key:SHA256:old",
        "auth": {},
        "payload": encode(doc).decode(),
        **columns,
    }
    table = sa.Table("outcomes", sa.MetaData(), autoload_with=conn)
    conn.execute(table.insert(), row)
    found: int = conn.execute(
        sa.text("SELECT id FROM outcomes WHERE kind = :kind AND uid = :uid"), row
    ).scalar_one()
    return found


def rows(url: str) -> dict[str, dict[str, Any]]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT * FROM outcomes")).mappings().all()
            return {row["uid"]: dict(row) for row in found}
    finally:
        engine.dispose()


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_0002_keeps_every_outcome_and_fills_it_from_its_payload(store_0001: str) -> None:
    build_uid, plan_uid = new_uid(), new_uid()
    canceled = callback("build", build_uid, build_status="canceled", warnings_count="2",
                        plan=plan_uid, retry=0, status_message="canceled by user")  # fmt: skip
    sanity = callback("test", waiting_for=f"BUILD#{build_uid}", result="pass", plan=plan_uid)
    chained = callback("test", waiting_for=f"TEST#{sanity['status']['uid']}", result="unknown")
    last = callback("test", waiting_for=f"TEST#{chained['status']['uid']}", retries=10**19)
    engine = engine_for(store_0001)
    try:
        with engine.begin() as conn:
            # As 0001 stored them: canceled and "2" were null, the TEST# chains unlinked.
            ids = {
                build_uid: insert_0001(conn, canceled, build_status=None, warnings_count=None),
                sanity["status"]["uid"]: insert_0001(conn, sanity, build_uid=build_uid),
                chained["status"]["uid"]: insert_0001(conn, chained),
                last["status"]["uid"]: insert_0001(conn, last),
            }
            conn.execute(
                sa.text("INSERT INTO test_results VALUES (:id, 'boot', 'pass')"),
                {"id": ids[sanity["status"]["uid"]]},
            )
    finally:
        engine.dispose()

    migrate(store_0001)

    engine = engine_for(store_0001)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT outcome_id, name FROM test_results")).all()
    finally:
        engine.dispose()
    found = rows(store_0001)
    assert {uid: row["id"] for uid, row in found.items()} == ids
    assert kept == [(ids[sanity["status"]["uid"]], "boot")]
    for row in found.values():
        assert (row["deliveries"], row["verified_by"]) == (2, "key:SHA256:old")
    build = found[build_uid]
    assert (build["build_status"], build["warnings_count"], build["retry"]) == ("canceled", 2, 0)
    assert (build["status_message"], build["plan_uid"], build["final"]) == (
        "canceled by user",
        plan_uid,
        True,
    )
    assert build["git_short_log"] == canceled["status"]["git_short_log"]
    for doc in (sanity, chained, last):
        assert found[doc["status"]["uid"]]["build_uid"] == build_uid
    assert (
        found[chained["status"]["uid"]]["result"],
        found[chained["status"]["uid"]]["final"],
    ) == (
        "unknown",
        False,
    )
    assert as_json(found[last["status"]["uid"]]["notes"]) == {
        "field_errors": [{"field": "retries", "reason": "out of range"}],
        "repairs": None,
    }
    assert found[sanity["status"]["uid"]]["notes"] is None
