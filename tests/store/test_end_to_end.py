"""Signed callback -> receiver -> `tuxhook worker` process -> GET /v1/outcomes, for every kind."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from shared.constants import KINDS
from tests.conftest import Receiver
from tests.support.api import get_json, post_document, wait_outcome
from tests.support.builders import callback, new_uid
from tests.support.keys import KeyPair
from tests.support.processes import start_worker

# The outcome fields of the contract (DESIGN.md), each equal to the payload's field of that name.
FIELDS = {
    "build": (
        "build_name", "build_status", "toolchain", "target_arch", "kconfig", "git_repo",
        "git_ref", "git_sha", "git_describe", "git_short_log", "kernel_version",
        "warnings_count", "errors_count", "duration", "retry", "status_message", "waited_by",
        "download_url",
    ),
    "test": (
        "device", "tests", "results", "waiting_for", "retries", "retries_messages", "duration",
        "download_url",
    ),
    "oebuild": ("machine", "distro", "targets", "sources", "waited_by", "download_url"),
    "plan": ("name", "description"),
}  # fmt: skip
COMMON = ("kind", "uid", "project", "state", "result")


def check_stored(found: dict[str, Any], doc: dict[str, Any]) -> None:
    status = {"kind": doc["kind"], **doc["status"]}
    for name in COMMON + FIELDS[doc["kind"]]:
        assert found[name] == status.get(name), (doc["kind"], name)
    assert found["deliveries"] == 1
    assert found["verified_by"].startswith("key:SHA256:")
    assert datetime.fromisoformat(found["first_received_at"]) <= datetime.fromisoformat(
        found["updated_at"]
    )
    assert found["payload"] == doc


async def test_every_kind_is_stored_and_served(
    receiver: Receiver, keys: KeyPair, settings_env: dict[str, str], tmp_path: Path
) -> None:
    build_uid = new_uid()
    docs = {kind: callback(kind) for kind in KINDS}
    docs["build"] = callback("build", build_uid)
    docs["test"] = callback("test", waiting_for=f"BUILD#{build_uid}")
    worker = start_worker(settings_env, tmp_path / "worker.log")
    try:
        for doc in docs.values():
            await post_document(receiver, keys, doc)
        stored = {
            kind: await wait_outcome(receiver, kind, docs[kind]["status"]["uid"]) for kind in KINDS
        }
    finally:
        assert worker.stop() == 0, worker.output()
    for kind, doc in docs.items():
        check_stored(stored[kind], doc)
    assert stored["test"]["build_uid"] == build_uid
    status, page = await get_json(receiver, "/v1/outcomes")
    assert status == 200
    listed = {o["kind"]: o for o in page["outcomes"]}
    assert stored["plan"].pop("summary") == {"build": {}, "oebuild": {}, "test": {}}
    assert {kind: {**stored[kind]} for kind in KINDS} == {
        kind: {**listed[kind], "payload": docs[kind]} for kind in KINDS
    }
