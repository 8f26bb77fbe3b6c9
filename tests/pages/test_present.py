"""How the pages show values: plain functions of the API's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from receiver.pages.present import (
    Part,
    log_links,
    matrix,
    outcome_verdict,
    parts,
    references,
    row,
    suites,
)
from receiver.pages.render import when


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("git_ref", None, []),
        ("git_ref", "master", [Part("master")]),
        (
            "git_repo",
            "https://x.org/a.git",
            [Part("https://x.org/a.git", href="https://x.org/a.git")],
        ),
        ("download_url", "javascript:alert(1)", [Part("javascript:alert(1)")]),
        ("waiting_for", "BUILD#abc123", [Part("BUILD#abc123", href="/outcomes/build/abc123")]),
        ("waiting_for", "TEST#a b", [Part("TEST#a b")]),
        ("build_uid", "abc123", [Part("abc123", href="/outcomes/build/abc123")]),
        ("plan_uid", "p1", [Part("p1", href="/outcomes/plan/p1")]),
        ("build_uid", "../x", [Part("../x")]),
        ("waited_by", ["TEST#t1", "x"], [Part("TEST#t1", href="/outcomes/test/t1"), Part("x")]),
        ("sources", {"b": 1, "a": [2]}, [Part('{"a": [2], "b": 1}', code=True)]),
        ("tests", [], [Part("[]", code=True)]),
        ("retries", 2, [Part("2")]),
        ("final", True, [Part("true")]),
    ],
)
def test_a_fields_value_is_text_links_or_json(name: str, value: Any, shown: list[Part]) -> None:
    assert parts(name, value) == shown


@pytest.mark.parametrize(
    ("outcome", "name", "text"),
    [
        ({"kind": "test", "state": "finished", "result": "pass", "final": True}, "pass", "pass"),
        (
            {"kind": "test", "state": "running", "result": None, "final": False},
            "not_final",
            "not final",
        ),
        ({"kind": "test", "state": "finished", "result": "pass"}, "not_final", "not final"),
        (
            {"kind": "build", "state": "finished", "result": "error", "final": False},
            "not_final",
            "not final",
        ),
        (
            {"kind": "test", "state": "finished", "result": None, "final": True},
            "other",
            "no result",
        ),
        ({"kind": "test", "state": "finished", "result": "weird", "final": True}, "other", "weird"),
        ({"kind": "plan", "state": "finished", "result": None}, "other", "finished"),
        ({"kind": "plan", "state": None, "result": None}, "other", "no result"),
    ],
)
def test_an_outcomes_verdict(outcome: dict[str, Any], name: str, text: str) -> None:
    verdict = outcome_verdict(outcome)
    assert (verdict.name, verdict.text) == (name, text)
    assert verdict.symbol and verdict.css == f"v-{name}"


def test_a_plans_matrix_counts_each_environment_by_verdict() -> None:
    finished = {"state": "finished", "final": True}
    outcomes: list[dict[str, Any]] = [
        {"kind": "test", "device": "qemu-arm64", "result": "pass", **finished},
        {"kind": "test", "device": "qemu-arm64", "result": "fail", **finished},
        {"kind": "test", "device": "qemu-arm64", "result": "pass", **finished},
        {"kind": "test", "device": "x15", "state": "running", "result": None},
        {
            "kind": "build",
            "target_arch": "arm64",
            "toolchain": "gcc-13",
            "result": "pass",
            **finished,
        },
        {"kind": "oebuild", "machine": None, "result": "error", **finished},
    ]
    m = matrix(outcomes)
    assert m.columns == ["pass", "fail", "error", "not_final"]
    assert m.sorted_rows() == [
        ("build", "arm64 gcc-13", {"pass": 1}),
        ("oebuild", "?", {"error": 1}),
        ("test", "qemu-arm64", {"pass": 2, "fail": 1}),
        ("test", "x15", {"not_final": 1}),
    ]


def test_references_name_the_uids_of_one_kind() -> None:
    assert references(["TEST#a1", "BUILD#b1", "TEST#no way", 3, "TEST#c2"], "test") == ["a1", "c2"]
    assert references("TEST#a1", "test") == []


def test_a_list_row_says_what_and_where() -> None:
    r = row({"kind": "test", "uid": "u1", "device": "x15", "tests": ["boot", "ltp"],
             "project": None, "updated_at": "2025-01-31T10:11:12.5+00:00"})  # fmt: skip
    assert (r.what, r.where, r.project, r.updated, r.href) == (
        "x15",
        "boot, ltp",
        "",
        "2025-01-31 10:11:12",
        "/outcomes/test/u1",
    )


def test_log_links_only_for_web_urls() -> None:
    build = {"kind": "build", "download_url": "https://s.org/b/1/"}
    assert [p.href for p in log_links(build)] == [
        "https://s.org/b/1/build.log",
        "https://s.org/b/1/",
    ]
    assert [p.text for p in log_links({"kind": "test", "download_url": "http://s/t/"})] == ["files"]
    assert log_links({"kind": "build", "download_url": "file:///etc/passwd"}) == []


def test_suites_of_a_test() -> None:
    shown = [(name, v.name) for name, v in suites({"boot": "pass", "ltp": None, "kunit": "skip"})]
    assert shown == [("boot", "pass"), ("ltp", "other"), ("kunit", "skip")]
    assert suites(None) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2025-01-31T10:11:12.5+00:00", "2025-01-31 10:11:12"),
        (None, ""),
        ("soon", "soon"),
        (3, "3"),
    ],
)
def test_times_are_shown_to_the_second(value: Any, shown: str) -> None:
    assert when(value) == shown
