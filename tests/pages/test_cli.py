"""`tuxhook outcomes` and `tuxhook show`: the stored outcomes as tables in a terminal, read from
the store directly, and as the API's JSON with --json."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.cli.outcomes import parse_since, text
from shared.cli.parser import OUTCOME_FILTERS
from shared.db.queries import Filters
from tests.conftest import Receiver
from tests.support.api import get_json, outcome
from tests.support.cli import one_line_error, run_cli
from tests.support.scenario import PROJECT, Scenario


def test_the_options_are_the_apis_filters() -> None:
    assert list(OUTCOME_FILTERS) == [f.name for f in fields(Filters)]


def table_rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:]]


async def test_outcomes_prints_the_apis_page_as_a_table(
    receiver: Receiver, scenario: Scenario, settings_env: dict[str, str]
) -> None:
    args = ("outcomes", "--project", PROJECT, "--kind", "test", "--since", "1d")
    result = run_cli(settings_env, *args)
    assert result.returncode == 0, result.stderr
    status, twin = await get_json(receiver, f"/v1/outcomes?project={PROJECT}&kind=test")
    assert status == 200
    rows = table_rows(result.stdout)
    assert [row[3] for row in rows] == [o["uid"] for o in twin["outcomes"]]
    by_uid = {row[3]: row for row in rows}
    assert by_uid[scenario.failed][4:8] == [PROJECT, "finished", "fail", "qemu-x86_64"]
    as_json = run_cli(settings_env, *args, "--json")
    assert json.loads(as_json.stdout) == twin
    first = run_cli(settings_env, *args, "--json", "--limit", "1")
    assert json.loads(first.stdout)["next_cursor"] and "more:" not in first.stdout


async def test_outcomes_pages_with_the_cursor_it_prints(
    receiver: Receiver, scenario: Scenario, settings_env: dict[str, str]
) -> None:
    first = run_cli(settings_env, "outcomes", "--limit", "4")
    *table, more = first.stdout.splitlines()
    cursor = more.rsplit(" ", 1)[1]
    second = run_cli(settings_env, "outcomes", "--limit", "4", "--cursor", cursor)
    uids = [row[3] for row in table_rows("\n".join(table))] + [
        row[3] for row in table_rows(second.stdout)
    ]
    assert sorted(uids) == sorted(vars(scenario).values())


async def test_show_prints_every_field_and_a_tests_results(
    receiver: Receiver, scenario: Scenario, settings_env: dict[str, str]
) -> None:
    result = run_cli(settings_env, "show", "test", scenario.failed)
    assert result.returncode == 0, result.stderr
    lines = [line.split(None, 1) for line in result.stdout.splitlines() if line]
    assert ["waiting_for", f"BUILD#{scenario.build}"] in lines
    assert ["ltp-syscalls", "fail"] in lines and ["boot", "pass"] in lines
    as_json = run_cli(settings_env, "show", "test", scenario.failed, "--json")
    assert json.loads(as_json.stdout) == await outcome(receiver, "test", scenario.failed)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("show", "build", "nothere"), "no build outcome with uid 'nothere'"),
        (("outcomes", "--since", "yesterday"), "--since 'yesterday' is neither"),
        (("outcomes", "--cursor", "bm9wZQ"), "cursor is not one this server gave"),
    ],
)
def test_errors_are_one_line(
    settings_env: dict[str, str], database_url: str, args: tuple[str, ...], says: str
) -> None:
    assert says in one_line_error(run_cli(settings_env, *args))


def test_a_store_that_is_not_there_is_one_line(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}"}
    assert "run `tuxhook db upgrade`" in one_line_error(run_cli(env, "outcomes"))


def test_a_store_it_cannot_read_is_one_line(
    settings_env: dict[str, str], sqlite_template: Path, tmp_path: Path
) -> None:
    store = tmp_path / "broken.sqlite3"
    shutil.copyfile(sqlite_template, store)
    with sqlite3.connect(store) as conn:
        conn.execute("DROP TABLE test_results")
        conn.execute("DROP TABLE outcomes")
    env = {**settings_env, "TUXHOOK_DATABASE_URL": f"sqlite:///{store}"}
    assert "no such table: outcomes" in one_line_error(run_cli(env, "outcomes"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        ("x", "x"),
        (["a", "b"], "a, b"),
        ({"b": 1, "a": 2}, '{"a": 2, "b": 1}'),
        (3, "3"),
    ],
)
def test_a_cell_shows_a_value(value: object, shown: str) -> None:
    assert text(value) == shown


def test_since_is_a_time_or_a_duration() -> None:
    assert parse_since("2025-01-31T00:00:00Z") == datetime(2025, 1, 31, tzinfo=UTC)
    before = datetime.now(UTC)
    since = parse_since("2h")
    assert before - timedelta(hours=2) <= since <= datetime.now(UTC) - timedelta(hours=2)


def test_a_bad_limit_is_a_usage_error(settings_env: dict[str, str]) -> None:
    result = run_cli(settings_env, "outcomes", "--limit", "0")
    assert result.returncode == 2 and "a whole number from 1 to 500" in result.stderr
