"""The README's quick start, run as pasted: every shell block marked `<!-- runnable -->`, top to
bottom, in a fresh copy of the checkout and a fresh environment, against the `tuxhook dev` that
`make run` starts there (with its own redis-server).

One change is made to what is pasted: the receiver's port, 8080 in the README, is a free port
here, so that the test never meets another receiver on this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.support.builders import sample
from tests.support.processes import Process, kill_processes_in, processes_in
from tests.support.queues import queued_count, started_job_ids
from tests.support.redis_server import free_port
from tests.support.sockets import wait_until

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = re.compile(r"^<!-- runnable -->\n```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCK_TIMEOUT_S = 60.0  # seconds one block may take
WAIT_S = 30.0  # seconds for tuxhook dev to start, and for its workers to store what was sent


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def fresh_environment(home: Path) -> dict[str, str]:
    """A new shell's: no TUXHOOK_* setting, nothing of this test run's."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}


def fresh_checkout(into: Path) -> Path:
    """The files a clone has (tracked, and new ones not ignored), and the venv `make run`
    would have made."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    (into / ".venv").symlink_to(Path(sys.prefix))
    return into


def settled(redis_url: str) -> bool:
    """Nothing queued and nothing running: what a person pasting the next block waits for
    without knowing it, being slower than the workers."""
    redis = Redis.from_url(redis_url)
    try:
        return queued_count(redis) == 0 and not started_job_ids(redis)
    finally:
        redis.close()


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[Path, int, str]]:
    """`make run` in a fresh checkout: (its folder, the receiver's port, its Redis's URL)."""
    checkout = fresh_checkout(tmp_path / "checkout")
    port, redis_url = free_port(), f"redis://127.0.0.1:{free_port()}/0"
    env = fresh_environment(tmp_path) | {
        "TUXHOOK_PORT": str(port),
        "TUXHOOK_REDIS_URL": redis_url,
    }
    # `.venv/bin/tuxhook dev`, as `make run` runs it, on the copy's code.
    dev = Process(
        [str(checkout / ".venv" / "bin" / "python"), "-m", "shared.cli", "dev"],
        env,
        tmp_path / "dev.log",
        checkout,
        new_group=True,
    )
    try:
        wait_until(lambda: "running the receiver" in dev.output(), "tuxhook dev", WAIT_S)
        yield checkout, port, redis_url
        os.killpg(dev.popen.pid, signal.SIGINT)
        assert dev.wait(timeout=WAIT_S) == 128 + signal.SIGINT, dev.output()
        assert processes_in(checkout) == []
    finally:
        if dev.popen.poll() is None:
            dev.kill_tree()
        dev.stop()
        kill_processes_in(checkout)


def test_the_readme_marks_its_quick_start_and_token_blocks_runnable() -> None:
    blocks = runnable_blocks()
    assert len(blocks) >= 3
    assert any("tuxhook send" in b for b in blocks)
    assert any("tuxhook token" in b and "/v1/events" in b for b in blocks)


def test_the_runnable_blocks_run_as_pasted(make_run: tuple[Path, int, str], tmp_path: Path) -> None:
    checkout, port, redis_url = make_run
    outputs = []
    for block in runnable_blocks():
        script = block.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        done = subprocess.run(
            ["bash", "-e", "-u", "-o", "pipefail", "-c", script],
            cwd=checkout,
            env=fresh_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, ""), f"{block}\n{done.stdout}"
        outputs.append(done.stdout)
        wait_until(lambda: settled(redis_url), "the workers to store what was sent", WAIT_S)
    sent, read, shown, token = outputs
    answers = [line.split(" ", 1) for line in sent.splitlines()]
    assert [status for status, _ in answers] == ["202"] * 5
    build, on_build, failed = (json.loads(line) for line in read.splitlines())
    assert (build["uid"], build["state"], build["result"]) == (
        sample("build")["status"]["uid"],
        "finished",
        "pass",
    )
    assert [o["uid"] for o in on_build["outcomes"]] == [sample("test")["status"]["uid"]]
    assert [o["uid"] for o in failed["outcomes"]] == [sample("test-oebuild")["status"]["uid"]]
    tables, heading = shown.rsplit("\n<h1>", 1)
    for kind in ("test", "test-oebuild"):
        assert sample(kind)["status"]["uid"] in tables
    assert "gcc-13-lkftconfig" in tables  # `tuxhook show build`: the build's fields
    assert heading.startswith(f'build <span class="uid">{build["uid"]}</span>')
    event = json.loads(token)
    assert (event["queue"], event["duplicate"]) == ("test", True)
