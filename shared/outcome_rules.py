"""When an outcome is final: the one table (README, docs/workers.md), as SQUAD reads TuxSuite.

An outcome is final when its state is `finished` and none of these holds:

| kind  | not final while                                                 | because     |
|-------|-----------------------------------------------------------------|-------------|
| build | `build_status` `error`, `retry` < 2 (missing: 0), `auto_retry` not false | built again |
| test  | `result` is `unknown`                                           | no verdict  |
| test  | boot is `unknown` and `result` is not `error`                   | run again   |

A test `error` (an infrastructure error), `canceled`, and a build with `retry` of 2 or more are
final. Other kinds are final when finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# TuxSuite builds an errored build again until it has been retried this many times.
BUILD_RETRIES: int = 2


@dataclass(frozen=True)
class Facts:
    """What the rule reads of an outcome: its columns, and two fields of its payload."""

    kind: str
    state: str | None
    result: str | None = None
    build_status: str | None = None
    retry: int | None = None
    # The payload's `auto_retry`; only a literal false stops TuxSuite's retries.
    auto_retry: Any = None
    # The payload's `results.boot` of a test.
    boot: Any = None


def is_final(facts: Facts) -> bool:
    if facts.state != "finished":
        return False
    if facts.kind == "build":
        return not _build_retried(facts)
    if facts.kind == "test":
        return not _test_rerun(facts)
    return True


def _build_retried(facts: Facts) -> bool:
    retries = facts.retry or 0
    return (
        facts.build_status == "error" and retries < BUILD_RETRIES and facts.auto_retry is not False
    )


def _test_rerun(facts: Facts) -> bool:
    if facts.result == "unknown":
        return True
    return facts.boot == "unknown" and facts.result != "error"
