"""How the pages show an outcome's values: plain functions of the API's JSON, no queries.

Fields are shown generically (every field the API gives, in its order), so that a field added
to the API appears on the pages without a change here. Values are returned as text and hrefs;
the templates escape every one of them (autoescape), and only http(s) URLs and references to
other outcomes (`BUILD#uid`, `build_uid`, ...) become links.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from shared.constants import KINDS
from shared.db.overview import verdict_of as db_verdict

# Shown in a page's heading rather than in its table of fields; `payload` has a block of its own.
HEADING = ("kind", "uid", "project", "state", "result")
SHOWN_APART = frozenset({*HEADING, "payload", "results", "cases"})
# A reference to another outcome, as TuxSuite writes them in waiting_for and waited_by.
_REFERENCE = re.compile(r"(BUILD|OEBUILD|TEST|PLAN)#([A-Za-z0-9]{1,64})")
_UID = re.compile(r"[A-Za-z0-9]{1,64}")
# Fields that hold the uid of an outcome of a known kind.
_UID_FIELDS = {f"{kind}_uid": kind for kind in KINDS}
# A symbol beside each verdict's colour, so that it keeps its meaning without colour.
SYMBOLS = {
    "pass": "✓",
    "fail": "✗",
    "error": "!",
    "canceled": "⊘",
    "unknown": "?",
    "not_final": "…",
    "skip": "↷",
}
LABELS = {"not_final": "not final"}


@dataclass(frozen=True)
class Part:
    """A piece of a shown value: text, a link, or JSON in a code block."""

    text: str
    href: str | None = None
    code: bool = False


@dataclass(frozen=True)
class Verdict:
    name: str  # one of SYMBOLS' keys, or "other"
    text: str  # what is written: the value itself

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.name, "·")

    @property
    def css(self) -> str:
        return f"v-{self.name}"


def _segment(text: str) -> str:
    return text if _UID.fullmatch(text) else quote(text, safe="")


def outcome_href(kind: str, uid: str) -> str:
    return f"/outcomes/{_segment(kind)}/{_segment(uid)}"


def search_href(**filters: str) -> str:
    return "/outcomes?" + urlencode(filters)


def verdict_of(value: Any, *, final: bool = True) -> Verdict:
    """A result as shown: `not final` while it may still change, else the value itself."""
    if not final:
        return Verdict("not_final", LABELS["not_final"])
    if value is None:
        return Verdict("other", "no result")
    text = value if isinstance(value, str) else json.dumps(value)
    return Verdict(text if text in SYMBOLS else "other", LABELS.get(text, text))


def column_verdict(name: str) -> Verdict:
    """The heading of a column of verdicts (a Matrix's columns)."""
    return verdict_of(None, final=False) if name == "not_final" else verdict_of(name)


def outcome_verdict(outcome: Mapping[str, Any]) -> Verdict:
    """An outcome's verdict, as shared/db/overview.py counts it. A plan's callback carries no
    result: its state stands in for one."""
    if outcome.get("kind") == "plan" and outcome.get("result") is None:
        state = outcome.get("state")
        return Verdict("other", state) if isinstance(state, str) else verdict_of(None)
    name = db_verdict(outcome)
    if name == "not_final":
        return verdict_of(None, final=False)
    return verdict_of(None if name == "none" else name)


def _text_part(text: str) -> Part:
    if text.startswith(("https://", "http://")):
        return Part(text, href=text)
    ref = _REFERENCE.fullmatch(text)
    if ref:
        return Part(text, href=outcome_href(ref[1].lower(), ref[2]))
    return Part(text)


def parts(name: str, value: Any) -> list[Part]:
    """A field's value, as the page writes it."""
    if value is None:
        return []
    if isinstance(value, str):
        kind = _UID_FIELDS.get(name)
        if kind and _UID.fullmatch(value):
            return [Part(value, href=outcome_href(kind, value))]
        return [_text_part(value)]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [_text_part(v) for v in value]
    if isinstance(value, dict | list):
        return [Part(json.dumps(value, ensure_ascii=False, sort_keys=True), code=True)]
    return [Part(json.dumps(value))]


def shown_fields(outcome: Mapping[str, Any]) -> list[tuple[str, list[Part]]]:
    """Every field of the outcome but those its page shows apart, in the API's order."""
    return [(k, parts(k, v)) for k, v in outcome.items() if k not in SHOWN_APART]


def references(values: Any, kind: str) -> list[str]:
    """The uids of `kind` that a list such as waited_by names (`TEST#uid`)."""
    if not isinstance(values, list):
        return []
    found = (_REFERENCE.fullmatch(v) for v in values if isinstance(v, str))
    return [m[2] for m in found if m and m[1].lower() == kind]


def environment(outcome: Mapping[str, Any]) -> str:
    """Where an outcome ran, for the plan's matrix: a build's architecture and toolchain, a
    test's device, an oebuild's machine."""
    keys = {"build": ("target_arch", "toolchain"), "test": ("device",), "oebuild": ("machine",)}
    named = [outcome.get(k) for k in keys.get(outcome.get("kind") or "", ())]
    return " ".join(str(v) for v in named if v is not None) or "?"


@dataclass
class Matrix:
    """Outcomes counted by environment (rows) and verdict (columns)."""

    columns: list[str] = field(default_factory=list)
    rows: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def add(self, outcome: Mapping[str, Any]) -> None:
        verdict = outcome_verdict(outcome).name
        row = self.rows.setdefault((str(outcome.get("kind")), environment(outcome)), {})
        row[verdict] = row.get(verdict, 0) + 1
        if verdict not in self.columns:
            self.columns.append(verdict)

    def sorted_rows(self) -> list[tuple[str, str, dict[str, int]]]:
        return [(kind, env, self.rows[kind, env]) for kind, env in sorted(self.rows)]


def matrix(outcomes: Iterable[Mapping[str, Any]]) -> Matrix:
    m = Matrix()
    for outcome in outcomes:
        m.add(outcome)
    order = list(SYMBOLS)
    m.columns.sort(key=lambda v: order.index(v) if v in order else len(order))
    return m


# What names an outcome in a list, per kind: what was built or run, then where (shown dimmed).
_WHAT = {
    "build": (("build_name",), ("target_arch", "toolchain")),
    "test": (("device",), ("tests",)),
    "oebuild": (("machine",), ("distro",)),
    "plan": (("name",), ()),
}


@dataclass(frozen=True)
class Row:
    """An outcome as a line of a list: everything the template writes, worked out here, where
    it costs a tenth of what Jinja's macros would."""

    verdict: Verdict
    kind: str
    uid: str
    href: str
    what: str
    where: str
    project: str
    updated: str


def _words(outcome: Mapping[str, Any], names: Sequence[str]) -> str:
    values = (outcome.get(name) for name in names)
    return " ".join(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in values if v)


def row(outcome: Mapping[str, Any]) -> Row:
    kind, uid = str(outcome["kind"]), str(outcome["uid"])
    what, where = _WHAT.get(kind, ((), ()))
    updated = outcome.get("updated_at")
    return Row(
        verdict=outcome_verdict(outcome),
        kind=kind,
        uid=uid,
        href=outcome_href(kind, uid),
        what=_words(outcome, what),
        where=_words(outcome, where),
        project=str(outcome.get("project") or ""),
        updated=updated[:19].replace("T", " ") if isinstance(updated, str) else "",
    )


def rows(outcomes: Iterable[Mapping[str, Any]]) -> list[Row]:
    return [row(o) for o in outcomes]


def log_links(outcome: Mapping[str, Any]) -> list[Part]:
    """Where a build's files are: its download folder, and tuxmake's build.log in it."""
    url = outcome.get("download_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return []
    links = [Part("files", href=url)]
    if outcome.get("kind") == "build":
        links.insert(0, Part("build.log", href=url.rstrip("/") + "/build.log"))
    return links


def suites(results: Any) -> Sequence[tuple[str, Verdict]]:
    """A test's per-suite results, each with its verdict."""
    if not isinstance(results, dict):
        return []
    return [(str(name), verdict_of(result, final=True)) for name, result in results.items()]
