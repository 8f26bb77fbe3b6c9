"""How the pages show regressions and fixes: plain functions of GET /v1/regressions's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from receiver.pages.changes import by_name, by_run, change, mark_of


def transition(**changes: Any) -> dict[str, Any]:
    """A transition as GET /v1/regressions shows it (README, "Regressions and fixes")."""
    shown: dict[str, Any] = {
        "id": 7, "type": "regression", "kind": "test", "test": "ltp-smoke",
        "environment": {"project": "lkft/mainline", "device": "qemu-arm64",
                        "target_arch": "arm64", "toolchain": "gcc-13", "kconfig": ["defconfig"]},
        "before": {"uid": "Before1", "result": "pass", "git_describe": "v6.6-rc7",
                   "git_sha": "8f6f76a6a29f36d2f3e4", "time": "2025-03-01T00:10:00+00:00"},
        "after": {"uid": "After1", "result": "fail", "git_describe": None,
                  "git_sha": "a1b2c3d4e5f6a7b8c9d0", "time": "2025-03-01T01:10:00+00:00"},
        "detected_at": "2025-03-01T01:10:03.120000+00:00", "superseded_at": None,
    }  # fmt: skip
    return shown | changes


def test_a_transition_as_a_line() -> None:
    c = change(transition())
    assert (c.mark.symbol, c.mark.text, c.mark.css) == ("▼", "regression", "c-regression")
    assert (c.project, c.where, c.detected) == ("lkft/mainline", "qemu-arm64 arm64 gcc-13",
                                                "2025-03-01 01:10:03")  # fmt: skip
    assert (c.before.href, c.before.commit) == ("/outcomes/test/Before1", "v6.6-rc7")
    assert c.after.commit == "a1b2c3d4e5f6"  # no git_describe: the sha, shortened
    assert 'class="v v-fail"' in c.after.badge and "✗" in c.after.badge


@pytest.mark.parametrize(
    ("type_", "superseded", "text", "css"),
    [
        ("regression", False, "▼ regression", "c c-regression"),
        ("fix", False, "▲ fix", "c c-fix"),
        ("fix", True, "▲ fix (superseded)", "c c-fix superseded"),
        ("<b>", False, "· &lt;b&gt;", "c c-other"),
    ],
)
def test_a_mark_carries_a_symbol_and_a_word_escaped(
    type_: str, superseded: bool, text: str, css: str
) -> None:
    html = mark_of(type_, superseded).html
    assert f'<span class="{css}">' in html
    assert html.striptags() == text.replace("&lt;", "<").replace("&gt;", ">")
    assert "<b>" not in html


def test_superseded_is_said() -> None:
    c = change(transition(superseded_at="2025-03-02T00:00:00+00:00", type="fix"))
    assert (c.mark.text, c.superseded) == ("fix (superseded)", "2025-03-02 00:00:00")


def test_marks_by_run_and_by_name() -> None:
    found = [
        transition(id=1, test="boot", type="fix"),
        transition(id=2),
        transition(id=3, after={"uid": "Other", "result": "fail"}),
    ]
    marks = by_run(found)
    assert [c.id for c in marks["After1"]] == [1, 2] and [c.id for c in marks["Other"]] == [3]
    assert {name: c.id for name, c in by_name(marks, "After1").items()} == {
        "boot": 1,
        "ltp-smoke": 2,
    }
    assert by_name(marks, "Nowhere") == {}
