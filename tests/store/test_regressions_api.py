"""GET /v1/regressions and `tuxhook regressions`: what workers detected, filtered and paged,
newest first, behind the outcomes' read access."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Receiver
from tests.support.api import get_json, post_document, wait_outcome
from tests.support.cli import one_line_error, run_cli, run_cli_async
from tests.support.keys import KeyPair
from tests.support.processes import start_worker
from tests.support.series import a_test, build, series, uid
from tests.support.store import Store


@dataclass(frozen=True)
class Detected:
    """Three transitions, detected in this order: a regression and a fix of ltp-smoke on
    qemu-arm64 in lkft/mainline, then a build regression in p/two."""

    builds: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    other: list[dict[str, Any]]


@pytest.fixture
async def detected(store: Store) -> Detected:
    builds = [build(c, "arm64", "gcc-13") for c in range(3)]
    runs = [
        a_test(b, c, 10, {"boot": "pass", "ltp-smoke": r})
        for c, (b, r) in enumerate(zip(builds, ("pass", "fail", "pass"), strict=True))
    ]
    other = [build(c, "x86_64", "clang-17", s) for c, s in enumerate(("pass", "fail"))]
    for doc in other:
        doc["status"]["project"] = "p/two"
    for doc in (builds[0], runs[0], builds[1], runs[1], builds[2], runs[2], *other):
        await store.deliver(doc)
    return Detected(builds, runs, other)


async def page(receiver: Receiver, query: str = "") -> dict[str, Any]:
    status, body = await get_json(receiver, f"/v1/regressions?{query}")
    assert status == 200, body
    found: dict[str, Any] = body
    return found


def pairs(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(t["type"], t["before"]["uid"], t["after"]["uid"]) for t in found["regressions"]]


async def test_the_regressions_newest_first_in_the_documented_shape(
    receiver: Receiver, detected: Detected
) -> None:
    d = detected
    found = await page(receiver)
    assert pairs(found) == [
        ("regression", uid(d.other[0]), uid(d.other[1])),
        ("fix", uid(d.runs[1]), uid(d.runs[2])),
        ("regression", uid(d.runs[0]), uid(d.runs[1])),
    ]
    assert found["next_cursor"] is None
    fix = found["regressions"][1]
    assert set(fix) == {
        "id", "type", "kind", "test", "environment", "before", "after", "detected_at",
        "superseded_at",
    }  # fmt: skip
    assert (fix["kind"], fix["test"], fix["superseded_at"]) == ("test", "ltp-smoke", None)
    assert fix["environment"] == {
        "project": "lkft/mainline", "device": "qemu-arm64", "target_arch": "arm64",
        "toolchain": "gcc-13", "kconfig": d.builds[0]["status"]["kconfig"],
    }  # fmt: skip
    assert fix["before"] == {
        "uid": uid(d.runs[1]), "result": "fail", "git_describe": "v6.1",
        "git_sha": d.builds[1]["status"]["git_sha"], "time": "2025-03-01T01:10:00+00:00",
    }  # fmt: skip
    assert fix["after"]["git_describe"] == "v6.2"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=fix", [1]),
        ("type=regression", [0, 2]),
        ("project=p/two", [0]),
        ("kind=build", [0]),
        ("device=qemu-arm64", [1, 2]),
        ("target_arch=arm64&toolchain=gcc-13", [1, 2]),
        ("test=ltp-smoke&type=regression", [2]),
        ("since=2999-01-01T00:00:00Z", []),
        ("since=2000-01-01T00:00:00Z", [0, 1, 2]),
        ("superseded=true", []),
    ],
)
async def test_filters(
    receiver: Receiver, detected: Detected, query: str, expected: list[int]
) -> None:
    everything = pairs(await page(receiver))
    assert pairs(await page(receiver, query)) == [everything[i] for i in expected]


async def test_pages_follow_the_cursor(receiver: Receiver, detected: Detected) -> None:
    everything = pairs(await page(receiver))
    seen: list[tuple[str, str, str]] = []
    query = "limit=1"
    while True:
        found = await page(receiver, query)
        seen += pairs(found)
        if found["next_cursor"] is None:
            break
        query = f"limit=1&cursor={found['next_cursor']}"
    assert seen == everything


@pytest.mark.parametrize(
    "query", ["type=flaky", "limit=0", "cursor=nonsense", "since=yesterday", "colour=red"]
)
async def test_bad_parameters_are_refused(receiver: Receiver, query: str) -> None:
    status, body = await get_json(receiver, f"/v1/regressions?{query}")
    assert (status, body["error"]) == (400, "invalid_parameter")


async def test_reads_need_the_read_role(receiver: Receiver) -> None:
    async with receiver.http.get(receiver.at("/v1/regressions")) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "missing_credentials"


async def test_the_command_prints_the_same(
    receiver: Receiver, detected: Detected, settings_env: dict[str, str]
) -> None:
    api = await page(receiver, "type=regression")
    args = ("regressions", "--type", "regression", "--since", "7d", "--json")
    printed = await run_cli_async(settings_env, *args)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == api
    table = await run_cli_async(settings_env, "regressions", "--project", "lkft/mainline")
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "DETECTED", "(UTC)", "TYPE", "PROJECT", "ENVIRONMENT", "TEST", "BEFORE", "AFTER",
    ]  # fmt: skip
    assert [line.split()[2] for line in lines[1:]] == ["fix", "regression"]
    assert lines[1].endswith("qemu-arm64 arm64 gcc-13 defconfig+https://example.org/lkft.config"
                             "  ltp-smoke  fail v6.1  pass v6.2")  # fmt: skip


def test_a_bad_since_is_one_line(settings_env: dict[str, str]) -> None:
    done = run_cli(settings_env, "regressions", "--since", "soon")
    assert done.returncode != 0
    assert one_line_error(done) == (
        "tuxhook: error: --since 'soon' is neither an ISO 8601 time nor 30s, 15m, 12h, 7d"
    )


async def test_worker_processes_store_a_shuffled_series_and_find_its_transitions(
    receiver: Receiver, keys: KeyPair, settings_env: dict[str, str], tmp_path: Path
) -> None:
    """Two `tuxhook worker` processes on each queue, all at once: runs of one environment are
    compared by workers at the same time, and each test's build may come before or after it."""
    s = series()
    docs = list(s.docs)
    random.Random(7).shuffle(docs)
    worker = start_worker(settings_env, tmp_path / "worker.log", "--pool", "2")
    try:
        for doc in docs:
            await post_document(receiver, keys, doc)
        for doc in docs:
            await wait_outcome(receiver, doc["kind"], uid(doc))
    finally:
        # A warm shutdown: each process finishes its job, whose comparison may still run after
        # its outcome is visible (PostgreSQL compares in a transaction after the delivery's).
        worker.stop()
    found = await page(receiver, "limit=500")
    standing = {
        (t["type"], t["test"], t["before"]["uid"], t["after"]["uid"]) for t in found["regressions"]
    }
    assert standing == s.expected


def test_an_empty_store_says_so_and_a_bad_limit_is_one_line(settings_env: dict[str, str]) -> None:
    done = run_cli(settings_env, "regressions")
    assert (done.returncode, done.stdout) == (0, "no regression or fix\n")
    refused = run_cli(settings_env, "regressions", "--limit", "0")
    assert (refused.returncode, refused.stderr) == (
        2,
        "tuxhook regressions: error: argument --limit: a whole number from 1 to 500\n",
    )
