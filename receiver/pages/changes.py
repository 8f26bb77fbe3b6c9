"""How the pages show regressions and fixes: plain functions of GET /v1/regressions's JSON.

A transition is marked by a symbol and a word beside its colour (▼ regression, ▲ fix), so that
it keeps its meaning for a reader who sees no colour; one a late run superseded says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from receiver.pages.present import outcome_href, verdict_of

SYMBOLS = {"regression": "▼", "fix": "▲"}
# The environment's fields a line names, in this order (kconfig, often a list of URLs, is left
# to the transition's JSON).
_WHERE = ("device", "target_arch", "toolchain")
_SHORT_SHA = 12


@dataclass(frozen=True)
class Mark:
    """What a transition is, as written beside a result: symbol, word, and the class that
    colours it; `html`, the three as the pages write them, escaped."""

    symbol: str
    text: str
    css: str
    html: Markup


def _badge(cls: str, symbol: str, text: str) -> Markup:
    return Markup(
        '<span class="{}"><span class="sym" aria-hidden="true">{}</span> {}</span>'
    ).format(cls, symbol, text)


def mark_of(type_: str, superseded: bool = False) -> Mark:
    kind = type_ if type_ in SYMBOLS else "other"
    symbol = SYMBOLS.get(type_, "·")
    text = f"{type_} (superseded)" if superseded else type_
    css = f"c-{kind}" + (" superseded" if superseded else "")
    return Mark(symbol, text, css, _badge(f"c {css}", symbol, text))


@lru_cache(maxsize=64)
def _result_badge(result: str | None) -> Markup:
    """A result as any verdict is written (macros.html's badge), escaped; made once per value:
    compared runs hold pass or fail."""
    v = verdict_of(result)
    return _badge(f"v {v.css}", v.symbol, v.text)


# The marks of the two types, standing or superseded, made once: a page of 50 rows would
# otherwise make 50.
_MARKS = {(t, s): mark_of(t, s) for t in SYMBOLS for s in (False, True)}


@dataclass(frozen=True)
class Side:
    """One end of a transition: the run, its result (as a badge), its commit."""

    uid: str
    href: str
    badge: Markup
    commit: str


@dataclass(frozen=True)
class Change:
    """A transition as a line of a list."""

    id: int
    mark: Mark
    kind: str
    test: str
    project: str
    where: str
    before: Side
    after: Side
    detected: str
    superseded: str


def _time(value: Any) -> str:
    return value[:19].replace("T", " ") if isinstance(value, str) else ""


def _commit(side: Mapping[str, Any]) -> str:
    describe, sha = side.get("git_describe"), side.get("git_sha")
    if describe:
        return str(describe)
    return str(sha)[:_SHORT_SHA] if sha else ""


def _side(kind: str, side: Mapping[str, Any]) -> Side:
    uid = str(side.get("uid") or "")
    result = side.get("result")
    badge = _result_badge(result if isinstance(result, str) else None)
    return Side(uid, outcome_href(kind, uid), badge, _commit(side))


def _where(environment: Mapping[str, Any]) -> str:
    return " ".join(str(environment[k]) for k in _WHERE if environment.get(k) is not None)


def change(transition: Mapping[str, Any]) -> Change:
    kind = str(transition.get("kind"))
    environment = transition.get("environment") or {}
    superseded = transition.get("superseded_at")
    type_ = str(transition.get("type"))
    mark = _MARKS.get((type_, superseded is not None)) or mark_of(type_, superseded is not None)
    return Change(
        id=int(transition["id"]),
        mark=mark,
        kind=kind,
        test=str(transition.get("test")),
        project=str(environment.get("project") or ""),
        where=_where(environment),
        before=_side(kind, transition.get("before") or {}),
        after=_side(kind, transition.get("after") or {}),
        detected=_time(transition.get("detected_at")),
        superseded=_time(superseded),
    )


def changes(transitions: Iterable[Mapping[str, Any]]) -> list[Change]:
    return [change(t) for t in transitions]


def by_run(transitions: Iterable[Mapping[str, Any]]) -> dict[str, list[Change]]:
    """The transitions that end at each run (after.uid), in their order: a build's page marks
    the build and each test on it with them."""
    found: dict[str, list[Change]] = {}
    for c in changes(transitions):
        found.setdefault(c.after.uid, []).append(c)
    return found


def by_name(marks: Mapping[str, list[Change]], uid: str) -> dict[str, Change]:
    """The transitions that end at the run `uid`, by the result's name (a test's suite, or a
    build's `build`): its page marks each result with them."""
    return {c.test: c for c in marks.get(uid, [])}
