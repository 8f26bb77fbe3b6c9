"""`tuxhook db upgrade` and `tuxhook worker` on each backend, run as operators run them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shared.constants import KINDS
from shared.db.migrate import head_revision
from shared.db.schema import metadata
from tests.conftest import Receiver
from tests.support.api import get_json, post_document
from tests.support.builders import callback
from tests.support.database import engine_for
from tests.support.keys import KeyPair
from tests.support.processes import run_tuxhook


def test_the_migrations_build_exactly_the_schema_the_code_uses(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_db_upgrade_is_idempotent(settings_env: dict[str, str]) -> None:
    for _ in range(2):
        done = run_tuxhook(settings_env, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        assert f"is at schema revision {head_revision()}" in done.stdout


async def test_a_pool_in_burst_mode_drains_every_queue_and_exits(
    receiver: Receiver, keys: KeyPair, settings_env: dict[str, str]
) -> None:
    docs = [callback(kind) for kind in KINDS for _ in range(5)]
    for doc in docs:
        await post_document(receiver, keys, doc)
    # Eight processes write one SQLite file: on a busy machine a write can wait longer than the
    # storage tests' half second, and its job's retry would come after the burst had ended.
    env = settings_env | {"TUXHOOK_DATABASE_LOCK_TIMEOUT": "10"}
    done = run_tuxhook(env, "worker", "--burst", "--pool", "2")
    assert done.returncode == 0, done.stderr
    status, page = await get_json(receiver, "/v1/outcomes?limit=100")
    assert status == 200
    stored = sorted(o["uid"] for o in page["outcomes"])
    assert stored == sorted(d["status"]["uid"] for d in docs), done.stdout + done.stderr
