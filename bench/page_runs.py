"""The compared runs and the regressions and fixes of bench.page_store's outcomes, made in bulk as
worker/compare.py would have recorded them for runs stored in order: each run's previous, for a
name, is the latest run of its environment on another commit (worker/runs.py's environments and
keys). Comparing 100,000 outcomes one by one through the worker would take a quarter of an hour;
the pages only read the rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shared.db.schema import compared_runs, regressions
from worker.runs import Run

COMPARED = ("pass", "fail")
BUILD_ENVIRONMENT = ("project", "target_arch", "toolchain", "kconfig")
DIGEST = "b" * 64  # the delivery said to have detected each transition


@dataclass
class _Latest:
    """For one environment and name: the latest run, and the latest on an earlier commit."""

    run: Run
    before: Run | None = None


@dataclass
class Runs:
    """Runs added in order of time; what a build's tests need of it is kept by uid."""

    builds: dict[str, Run] = field(default_factory=dict)
    latest: dict[tuple[str, str], _Latest] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    # The last build with a test whose result turned, and that test: the pages bench.pages opens.
    turned: tuple[str, str] | None = None

    def add(self, row: Mapping[str, Any], results: Mapping[str, Any], at: datetime) -> None:
        """An outcome as stored (`row`: its columns), with the results its payload sent."""
        run = self._run(row, results, at)
        if run is None:
            return
        self.runs.append(run.row())
        turned = [self._compare(run, name) for name in run.results]
        if run.kind == "build":
            self.builds[run.uid] = run
        elif any(turned):
            self.turned = (str(row["build_uid"]), run.uid)

    def _run(self, row: Mapping[str, Any], results: Mapping[str, Any], at: datetime) -> Run | None:
        kept = {str(k): v for k, v in results.items() if v in COMPARED}
        if row["kind"] == "build":
            environment = {name: row[name] for name in BUILD_ENVIRONMENT}
            return Run("build", row["uid"], environment, row["git_sha"], row["git_describe"], at,
                       kept)  # fmt: skip
        build = self.builds.get(str(row.get("build_uid")))
        if row["kind"] != "test" or build is None:
            return None
        environment = {"project": row["project"], "device": row["device"], **build.environment}
        return Run("test", row["uid"], environment, build.git_sha, build.git_describe, at, kept)

    def _compare(self, run: Run, name: str) -> bool:
        key = (run.env_key, name)
        latest = self.latest.get(key)
        if latest is None:
            self.latest[key] = _Latest(run)
            return False
        same_commit = latest.run.git_sha == run.git_sha
        previous = latest.before if same_commit else latest.run
        self.latest[key] = _Latest(run, latest.before if same_commit else latest.run)
        if previous is None or previous.results[name] == run.results[name]:
            return False
        self.transitions.append(_transition(previous, run, name))
        return True

    def flush(self, conn: sa.Connection) -> None:
        if self.runs:
            conn.execute(compared_runs.insert(), self.runs)
        if self.transitions:
            conn.execute(regressions.insert(), self.transitions)
        self.runs.clear()
        self.transitions.clear()


def _side(side: str, run: Run, name: str) -> dict[str, Any]:
    return {
        f"{side}_uid": run.uid,
        f"{side}_result": run.results[name],
        f"{side}_git_sha": run.git_sha,
        f"{side}_git_describe": run.git_describe,
        f"{side}_time": run.run_time,
    }


def _transition(previous: Run, run: Run, name: str) -> dict[str, Any]:
    env = run.environment
    return {
        "type": "regression" if run.results[name] == "fail" else "fix",
        "kind": run.kind,
        "test": name,
        "env_key": run.env_key,
        **{k: env.get(k) for k in ("project", "device", "target_arch", "toolchain", "kconfig")},
        **_side("before", previous, name),
        **_side("after", run, name),
        "detected_at": run.run_time,
        "detected_by": DIGEST,
        "superseded_at": None,
        "superseded_by": None,
    }
