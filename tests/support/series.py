"""A series of builds and tests over several commits and environments, with the regressions
and fixes it holds, and a way to store callbacks straight through the workers' store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shared.db.schema import regressions
from shared.identity import body_digest
from shared.jobs import Delivery
from tests.support.builders import callback, encode, new_uid
from worker.outcome import update_from_job
from worker.store import Stored, save

BASE = datetime(2025, 3, 1, tzinfo=UTC)
# (type, test, before uid, after uid): what a transition is, for comparing sets of them.
Transition = tuple[str, str, str, str]


def at(commit: int, minutes: int) -> str:
    return (BASE + timedelta(hours=commit, minutes=minutes)).isoformat()


def build(commit: int, arch: str, toolchain: str, status: str = "pass") -> dict[str, Any]:
    return callback(
        "build", new_uid(), state="finished", build_status=status, result=status,
        target_arch=arch, toolchain=toolchain, project="lkft/mainline",
        git_sha=f"{commit:040x}", git_describe=f"v6.{commit}", finished_time=at(commit, 0),
        waited_by=[],
    )  # fmt: skip


def a_test(
    built: dict[str, Any] | None, commit: int, minutes: int, results: dict[str, str], **status: Any
) -> dict[str, Any]:
    """A finished test of `built` (None: one with no build link) `minutes` after its commit."""
    waiting_for = f"BUILD#{built['status']['uid']}" if built else None
    fields = {
        "state": "finished", "result": "fail" if "fail" in results.values() else "pass",
        "results": results, "tests": sorted(results), "project": "lkft/mainline",
        "device": "qemu-arm64", "waiting_for": waiting_for, "finished_time": at(commit, minutes),
    }  # fmt: skip
    return callback("test", new_uid(), **(fields | status))


def uid(doc: dict[str, Any]) -> str:
    return str(doc["status"]["uid"])


@dataclass
class Series:
    docs: list[dict[str, Any]] = field(default_factory=list)
    expected: set[Transition] = field(default_factory=set)

    def add(self, *docs: dict[str, Any]) -> None:
        self.docs.extend(docs)

    def expect(self, kind: str, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.expected.add((kind, name, uid(before), uid(after)))


def _arm64(s: Series) -> None:
    """ltp: pass, fail (run twice), fail, pass, pass; a TEST# chain's kselftest breaks at 2."""
    ltp = ["pass", "fail", "fail", "pass", "pass"]
    builds, runs, chained = {}, {}, {}
    for commit, result in enumerate(ltp):
        b = builds[commit] = build(commit, "arm64", "gcc-13")
        runs[commit] = a_test(b, commit, 10, {"boot": "pass", "ltp-smoke": result})
        s.add(b, runs[commit])
        if commit in (1, 2):
            sanity = a_test(b, commit, 5, {"boot": "pass"})
            chained[commit] = a_test(None, commit, 15, {"kselftest": ltp[commit - 1]})
            chained[commit]["status"]["waiting_for"] = f"TEST#{uid(sanity)}"
            s.add(sanity, chained[commit])
    rerun = a_test(builds[1], 1, 20, {"ltp-smoke": "fail"})
    s.add(rerun)
    # boot unknown: TuxSuite runs it again, so it is not final
    s.add(a_test(builds[4], 4, 40, {"boot": "unknown", "ltp-smoke": "fail"}, result="fail"))
    s.expect("regression", "ltp-smoke", runs[0], runs[1])
    s.expect("regression", "ltp-smoke", runs[0], rerun)
    s.expect("regression", "kselftest", chained[1], chained[2])
    s.expect("fix", "ltp-smoke", runs[2], runs[3])


def _x86(s: Series) -> None:
    """ltp: pass, pass, fail (then an infrastructure error), -, pass; the build fails at 3."""
    builds = [build(c, "x86_64", "clang-17", "fail" if c == 3 else "pass") for c in range(5)]
    s.add(*builds)
    tests = {
        c: a_test(builds[c], c, 10, {"boot": "pass", "ltp-smoke": r}, device="qemu-x86_64")
        for c, r in ((0, "pass"), (1, "pass"), (2, "fail"), (4, "pass"))
    }
    s.add(*tests.values())
    error = {"boot": "unknown", "ltp-smoke": "pass"}
    s.add(a_test(builds[2], 2, 30, error, result="error", device="qemu-x86_64"))
    s.expect("regression", "ltp-smoke", tests[1], tests[2])
    s.expect("fix", "ltp-smoke", tests[2], tests[4])
    s.expect("regression", "build", builds[2], builds[3])
    s.expect("fix", "build", builds[3], builds[4])


def _unlinked(s: Series) -> None:
    """Tests with no build link, compared by time alone within their project and device."""
    runs = [a_test(None, c, 50, {"ltp-smoke": r}, device="fvp") for c, r in enumerate("ppf")]
    for run, result in zip(runs, ("pass", "pass", "fail"), strict=True):
        run["status"]["results"] = {"ltp-smoke": result}
    s.add(*runs)
    s.expect("regression", "ltp-smoke", runs[1], runs[2])


def series() -> Series:
    s = Series()
    for part in (_arm64, _x86, _unlinked):
        part(s)
    return s


def store_doc(engine: sa.Engine, doc: dict[str, Any]) -> tuple[str, Stored]:
    """Store one callback as a worker's job would; returns its digest and what the store did."""
    delivery = delivery_of(doc)
    return delivery.digest, save(engine, update_from_job(doc["kind"], delivery.to_job()))


def delivery_of(doc: dict[str, Any]) -> Delivery:
    """The delivery of `doc` as the receiver queues it."""
    body = encode(doc)
    return Delivery(
        doc["kind"], uid(doc), body_digest(body), body.decode(), BASE.isoformat(), "key:series"
    )


def standing(engine: sa.Engine) -> set[Transition]:
    """The transitions that stand (not superseded)."""
    g = regressions.c
    query = sa.select(g.type, g.test, g.before_uid, g.after_uid).where(g.superseded_at.is_(None))
    with engine.connect() as conn:
        return {(r.type, r.test, r.before_uid, r.after_uid) for r in conn.execute(query)}
