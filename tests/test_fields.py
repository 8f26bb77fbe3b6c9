"""From payload to columns: each field typed, or null. Pure functions, no store needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.timestamps import parse_time
from tests.support.builders import callback
from worker.fields import build_uid, columns, per_test_results


@pytest.mark.parametrize(
    ("waiting_for", "expected"),
    [
        ("BUILD#2QpE0aJbVn6S1rKx9WmT3yZcH4u", "2QpE0aJbVn6S1rKx9WmT3yZcH4u"),
        ("build#abc123", "abc123"),
        ("2QpE0aJbVn6S1rKx9WmT3yZcH4u", "2QpE0aJbVn6S1rKx9WmT3yZcH4u"),
        ("TEST#2QpE3uN8dA1bK5cX7vR0mS2jL6w", None),
        ("BUILD#../etc", None),
        ("BUILD#", None),
        ("", None),
        (None, None),
        (["BUILD#abc"], None),
    ],
)
def test_a_tests_build_is_parsed_from_waiting_for(waiting_for: Any, expected: str | None) -> None:
    assert build_uid({"waiting_for": waiting_for}) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("warnings_count", "2"),
        ("warnings_count", True),
        ("warnings_count", 2.5),
        ("toolchain", 13),
        ("toolchain", {"name": "gcc"}),
        ("toolchain", "gcc\x00-13"),
        ("build_status", "building"),
        ("result", "unknown"),
        ("duration", "412"),
        ("kconfig", 7),
    ],
)
def test_a_field_of_the_wrong_type_or_value_is_null(field: str, value: Any) -> None:
    status = callback("build", **{field: value})["status"]
    assert columns("build", status)[field] is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"state": "running", "running_time": "2024-05-01T10:00:00"}, ("running", True)),
        ({"state": "running", "finished_time": "2024-05-01T10:00:00"}, ("running", False)),
        ({"state": "waiting", "waiting_time": "2024-05-01T10:00:00"}, (None, False)),
        ({}, (None, False)),
    ],
)
def test_the_state_time_is_the_payloads_own_time_of_its_state(
    status: dict[str, str], expected: tuple[str | None, bool]
) -> None:
    stored = columns("plan", status)
    assert (stored["state"], stored["state_time"] is not None) == expected


def test_fields_of_the_right_type_are_kept() -> None:
    status = callback("build")["status"]
    stored = columns("build", status)
    assert stored["kconfig"] == status["kconfig"]
    assert (stored["duration"], stored["build_duration"]) == (412.0, 352.7)
    assert columns("build", {**status, "kconfig": "tinyconfig"})["kconfig"] == "tinyconfig"


@pytest.mark.parametrize(
    ("results", "result"),
    [({"boot": "unknown"}, None), ({"boot": "pass", "ltp": "unknown"}, "fail"), ({}, "fail")],
)
def test_only_a_boot_unknown_leaves_a_tests_result_open(
    results: dict[str, str], result: str | None
) -> None:
    status = callback("test", result="fail", results=results)["status"]
    assert columns("test", status)["result"] == result


def test_per_test_results_keep_names_and_drop_what_cannot_be_stored() -> None:
    payload = {"boot": "pass", "ltp": None, "": "pass", "nul\x00": "fail", "kunit": ["x"]}
    assert per_test_results({"results": payload}) == {"boot": "pass", "ltp": None, "kunit": None}
    assert per_test_results({}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-02T09:21:55.104212", datetime(2023, 11, 2, 9, 21, 55, 104212, UTC)),
        ("2023-11-02T11:21:55+02:00", datetime(2023, 11, 2, 9, 21, 55, tzinfo=UTC)),
        ("yesterday", None),
        (1699000000, None),
    ],
)
def test_payload_times_are_read_as_utc(text: Any, expected: datetime | None) -> None:
    assert parse_time(text) == expected
