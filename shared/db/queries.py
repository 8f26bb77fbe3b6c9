"""Reading outcomes back: one by (kind, uid), or a filtered page, most recently updated first."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select

from shared.constants import STORE_ID_MAX
from shared.db.schema import outcomes, test_results
from shared.errors import InvalidParameter
from shared.timestamps import as_utc, iso, parse_time

COMMON_FIELDS = (
    "kind", "uid", "project", "state", "state_time", "result", "final", "deliveries",
    "first_received_at", "updated_at", "plan_uid", "verified_by", "auth",
)  # fmt: skip
KIND_FIELDS = {
    "build": (
        "build_name", "build_status", "toolchain", "target_arch", "kconfig", "git_repo",
        "git_ref", "git_sha", "git_describe", "git_short_log", "kernel_version",
        "warnings_count", "errors_count", "duration", "build_duration", "retry",
        "status_message", "waited_by", "download_url",
    ),
    "test": (
        "device", "tests", "waiting_for", "build_uid", "oebuild_uid", "retries",
        "retries_messages", "duration", "download_url",
    ),
    "oebuild": ("machine", "distro", "targets", "sources", "waited_by", "download_url"),
    "plan": ("name", "description"),
}  # fmt: skip
# Filters by the column of another name.
_FILTER_COLUMNS = {"plan": "plan_uid"}
_TIMES = frozenset({"state_time", "first_received_at", "updated_at"})


@dataclass(frozen=True)
class Filters:
    """Equality filters of GET /v1/outcomes; None matches anything. `since`: updated at or after."""

    kind: str | None = None
    project: str | None = None
    state: str | None = None
    result: str | None = None
    device: str | None = None
    target_arch: str | None = None
    build_uid: str | None = None
    oebuild_uid: str | None = None
    git_sha: str | None = None
    git_describe: str | None = None
    toolchain: str | None = None
    build_name: str | None = None
    plan: str | None = None
    # Tests that ran a test of this name (a key of their `results`).
    test: str | None = None
    since: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        c = outcomes.c
        clauses = [
            c[_FILTER_COLUMNS.get(f.name, f.name)] == getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("since", "test") and getattr(self, f.name) is not None
        ]
        if self.since is not None:
            clauses.append(c.updated_at >= self.since)
        if self.test is not None:
            t = test_results.c
            ran = select(t.outcome_id).where(t.outcome_id == c.id, t.name == self.test)
            clauses.extend([c.kind == "test", ran.exists()])
        return clauses


def _bad_cursor() -> InvalidParameter:
    return InvalidParameter("cursor is not one this server gave")


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's (updated_at, id). Opaque to clients."""

    updated_at: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps([as_utc(self.updated_at).isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            stamp, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, TypeError, RecursionError) as e:
            raise _bad_cursor() from e
        updated_at = parse_time(stamp)
        if updated_at is None or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise _bad_cursor()
        # Beyond what an id column holds, the database would refuse the comparison.
        if not -STORE_ID_MAX - 1 <= row_id <= STORE_ID_MAX:
            raise _bad_cursor()
        return cls(updated_at, row_id)

    def after(self) -> ColumnElement[bool]:
        c = outcomes.c
        return or_(
            c.updated_at < self.updated_at,
            and_(c.updated_at == self.updated_at, c.id < self.id),
        )


@dataclass(frozen=True)
class Page:
    outcomes: list[dict[str, Any]]
    next_cursor: str | None

    def as_json(self) -> dict[str, Any]:
        return {"outcomes": self.outcomes, "next_cursor": self.next_cursor}


def _value(row: Row[Any], name: str) -> Any:
    value = row._mapping[name]
    return iso(value) if name in _TIMES else value


def render(row: Row[Any], results: dict[str, str | None]) -> dict[str, Any]:
    """An outcome as the API shows it: common fields, then those of its kind."""
    shown = {name: _value(row, name) for name in COMMON_FIELDS}
    notes = row.notes or {}
    shown["field_errors"], shown["repairs"] = notes.get("field_errors"), notes.get("repairs")
    for name in KIND_FIELDS[row.kind]:
        shown[name] = _value(row, name)
    if row.kind == "test":
        shown["results"] = None if row.results_count is None else results
    return shown


def _results(conn: Connection, outcome_ids: Sequence[int]) -> dict[int, dict[str, str | None]]:
    by_outcome: dict[int, dict[str, str | None]] = {i: {} for i in outcome_ids}
    if outcome_ids:
        t = test_results.c
        query = select(t.outcome_id, t.name, t.result).where(t.outcome_id.in_(outcome_ids))
        for outcome_id, name, result in conn.execute(query.order_by(t.outcome_id, t.name)):
            by_outcome[outcome_id][name] = result
    return by_outcome


def _test_ids(rows: Sequence[Row[Any]]) -> list[int]:
    return [row.id for row in rows if row.kind == "test"]


def get_outcome(conn: Connection, kind: str, uid: str) -> dict[str, Any] | None:
    """One outcome, with the payload its fields come from; None when there is none."""
    c = outcomes.c
    row = conn.execute(select(outcomes).where(c.kind == kind, c.uid == uid)).one_or_none()
    if row is None:
        return None
    results = _results(conn, _test_ids([row])).get(row.id, {})
    found = {**render(row, results), "payload": json.loads(row.payload)}
    if kind == "plan":
        found["summary"] = plan_summary(conn, uid)
    return found


def plan_summary(conn: Connection, plan_uid: str) -> dict[str, dict[str, int]]:
    """How many of the plan's builds, oebuilds and tests have each result ("none": no result
    yet); list them with ?plan=UID."""
    c = outcomes.c
    query = (
        select(c.kind, c.result, func.count())
        .where(c.plan_uid == plan_uid)
        .group_by(c.kind, c.result)
    )
    summary: dict[str, dict[str, int]] = {"build": {}, "oebuild": {}, "test": {}}
    for kind, result, n in conn.execute(query):
        summary.setdefault(kind, {})[result or "none"] = n
    return summary


def list_outcomes(
    conn: Connection, filters: Filters, limit: int, cursor: Cursor | None = None
) -> Page:
    """A page of at most `limit` outcomes (payloads left out), and the cursor of the next."""
    c = outcomes.c
    query = select(*(col for col in outcomes.c if col.name != "payload")).where(*filters.where())
    if cursor is not None:
        query = query.where(cursor.after())
    query = query.order_by(c.updated_at.desc(), c.id.desc()).limit(limit + 1)
    rows = conn.execute(query).all()
    more, rows = len(rows) > limit, rows[:limit]
    results = _results(conn, _test_ids(rows))
    shown = [render(row, results.get(row.id, {})) for row in rows]
    last = rows[-1] if more else None
    return Page(shown, Cursor(last.updated_at, last.id).encode() if last else None)
