"""A small plan as TuxSuite reports it: what the pages' tests store and then look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.builders import callback, new_uid

PROJECT = "pages/demo"
# The commit before the demo build's (shared/demo/build.json).
EARLIER_SHA = "1" * 40


@dataclass(frozen=True)
class Scenario:
    """A plan; a build with two tests on it, one passed and one failed; an oebuild and the
    test that waited for it. Each callback is a sample with fresh uids."""

    plan: str = field(default_factory=new_uid)
    build: str = field(default_factory=new_uid)
    passed: str = field(default_factory=new_uid)
    failed: str = field(default_factory=new_uid)
    oebuild: str = field(default_factory=new_uid)
    on_oebuild: str = field(default_factory=new_uid)

    def documents(self) -> list[dict[str, Any]]:
        common = {"project": PROJECT, "plan": self.plan}
        on_build = {**common, "waiting_for": f"BUILD#{self.build}"}
        return [
            callback("plan", self.plan, project=PROJECT),
            callback("build", self.build, **common, waited_by=[f"TEST#{self.passed}"]),
            callback("test", self.passed, **on_build, device="qemu-arm64"),
            callback(
                "test",
                self.failed,
                **on_build,
                device="qemu-x86_64",
                result="fail",
                results={"boot": "pass", "ltp-syscalls": "fail"},
                tests=["boot", "ltp-syscalls"],
            ),
            callback("oebuild", self.oebuild, **common, waited_by=[f"TEST#{self.on_oebuild}"]),
            callback(
                "test-oebuild",
                self.on_oebuild,
                **common,
                waiting_for=f"OEBUILD#{self.oebuild}",
                result="pass",
                results={"boot": "pass"},
            ),
        ]


@dataclass(frozen=True)
class Earlier:
    """The scenario's environment on the commit before, a day earlier: a build, and a test of
    the failed test's device whose suites turn the other way: its ltp-syscalls passed (the
    scenario's fails: a regression), its boot failed (the scenario's passes: a fix)."""

    build: str = field(default_factory=new_uid)
    test: str = field(default_factory=new_uid)

    def documents(self) -> list[dict[str, Any]]:
        return [
            callback(
                "build", self.build, project=PROJECT, git_sha=EARLIER_SHA,
                git_describe="v6.6-rc6", finished_time="2023-11-01T09:21:55.104212",
                waited_by=[f"TEST#{self.test}"],
            ),
            callback(
                "test", self.test, project=PROJECT, waiting_for=f"BUILD#{self.build}",
                device="qemu-x86_64", result="fail",
                results={"boot": "fail", "ltp-syscalls": "pass"}, tests=["boot", "ltp-syscalls"],
                finished_time="2023-11-01T09:24:58.104212",
            ),
        ]  # fmt: skip
