"""Every row of the `final` table (shared/outcome_rules.py, README, docs/workers.md)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.field_values import FieldErrors
from shared.outcome_fields import columns
from shared.outcome_rules import Facts, is_final
from tests.support.builders import MISSING, callback, tuxsuite_doc


def final_of(kind: str, **status: Any) -> bool:
    doc = tuxsuite_doc(kind) if kind != "oebuild" else callback(kind)
    for name, value in status.items():
        if value is MISSING:
            doc["status"].pop(name, None)
        else:
            doc["status"][name] = value
    errors: FieldErrors = []
    final: bool = columns(kind, doc["status"], errors)["final"]
    return final


@pytest.mark.parametrize("kind", ["build", "test", "oebuild", "plan"])
@pytest.mark.parametrize("state", ["provisioning", "running"])
def test_nothing_unfinished_is_final(kind: str, state: str) -> None:
    assert not is_final(Facts(kind=kind, state=state, result="pass", build_status="pass"))


@pytest.mark.parametrize(
    ("status", "final"),
    [
        ({"build_status": "error", "retry": 0}, False),
        ({"build_status": "error", "retry": 1}, False),
        ({"build_status": "error", "retry": MISSING}, False),
        ({"build_status": "error", "retry": "1"}, False),
        ({"build_status": "error", "retry": 2}, True),
        ({"build_status": "error", "retry": 3}, True),
        ({"build_status": "error", "retry": 0, "auto_retry": False}, True),
        ({"build_status": "error", "retry": 0, "auto_retry": MISSING}, False),
        ({"build_status": "fail", "retry": 0}, True),
        ({"build_status": "pass", "retry": 0}, True),
        ({"build_status": "canceled", "retry": 0}, True),
        ({"build_status": "unknown", "retry": 0}, True),
    ],
)
def test_a_build_error_is_final_only_once_tuxsuite_stops_retrying(
    status: dict[str, Any], final: bool
) -> None:
    assert final_of("build", **status) is final


@pytest.mark.parametrize(
    ("result", "boot", "final"),
    [
        ("pass", "pass", True),
        ("fail", "pass", True),
        ("canceled", "pass", True),
        ("error", "unknown", True),
        ("error", "pass", True),
        ("unknown", "pass", False),
        ("unknown", "unknown", False),
        ("pass", "unknown", False),
        ("fail", "unknown", False),
        ("canceled", "unknown", False),
    ],
)
def test_a_test_is_final_unless_its_verdict_or_boot_is_unknown(
    result: str, boot: str, final: bool
) -> None:
    assert final_of("test", result=result, results={"boot": boot}) is final


def test_a_test_without_results_is_final_by_its_result() -> None:
    assert final_of("test", result="pass", results=MISSING)


@pytest.mark.parametrize("kind", ["oebuild", "plan"])
def test_other_kinds_are_final_when_finished(kind: str) -> None:
    assert final_of(kind, state="finished", result="error")
