"""A small plan as TuxSuite reports it: what the pages' tests store and then look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.builders import callback, new_uid

PROJECT = "pages/demo"


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
