"""From payload to columns, and which delivery wins: pure functions, no store needed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.constants import STATES
from tests.support.builders import callback
from worker.fields import build_uid, columns, per_test_results
from worker.outcome import Progress, parse_time, supersedes


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


BASE = datetime(2024, 5, 1, tzinfo=UTC)
progresses = st.builds(
    Progress,
    st.sampled_from([*STATES, None]),
    st.one_of(st.none(), st.integers(0, 50).map(lambda s: BASE + timedelta(seconds=s))),
)


def _key(p: Progress) -> tuple[int, datetime]:
    return (p.rank, p.time or datetime.min.replace(tzinfo=UTC))


@given(st.lists(progresses, min_size=1, max_size=8, unique_by=_key), st.randoms())
def test_any_arrival_order_ends_on_the_most_advanced(
    deliveries: list[Progress], rng: random.Random
) -> None:
    rng.shuffle(deliveries)
    current = deliveries[0]
    for new in deliveries[1:]:
        current = new if supersedes(new, current) else current
    assert current == max(deliveries, key=_key)


def test_a_late_running_never_supersedes_finished() -> None:
    finished = Progress("finished", BASE)
    assert not supersedes(Progress("running", BASE + timedelta(hours=1)), finished)
    assert supersedes(Progress("finished", BASE + timedelta(hours=1)), finished)
    assert supersedes(Progress("finished", BASE), finished)
    assert not supersedes(Progress("finished", None), finished)
