"""Reading regressions and fixes back: a filtered page, newest first, and what a delivery did.

A transition as the API shows it (README, "Regressions"):

    {"id", "type": "regression" | "fix", "kind": "build" | "test", "test",
     "environment": {"project", "device", "target_arch", "toolchain", "kconfig"},
     "before": {"uid", "result", "git_describe", "git_sha", "time"}, "after": {...},
     "detected_at", "superseded_at"}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Row, and_, bindparam, or_, select

from shared.db.queries import Cursor
from shared.db.schema import compared_runs, regressions
from shared.timestamps import iso

TYPES = ("regression", "fix")
# Which rows a page holds: those that stand (default), those a late run superseded, or both.
SUPERSEDED = ("false", "true", "any")
ENVIRONMENT = ("project", "device", "target_arch", "toolchain", "kconfig")
_g = regressions.c


@dataclass(frozen=True)
class RegressionFilters:
    """Filters of GET /v1/regressions; None matches anything. `since`: detected at or after."""

    project: str | None = None
    type: str | None = None
    kind: str | None = None
    test: str | None = None
    device: str | None = None
    target_arch: str | None = None
    toolchain: str | None = None
    since: datetime | None = None
    superseded: str = "false"

    def where(self) -> list[ColumnElement[bool]]:
        equal = ("project", "type", "kind", "test", "device", "target_arch", "toolchain")
        clauses = [_g[name] == getattr(self, name) for name in equal if getattr(self, name)]
        if self.since is not None:
            clauses.append(_g.detected_at >= self.since)
        if self.superseded == "false":
            clauses.append(_g.superseded_at.is_(None))
        elif self.superseded == "true":
            clauses.append(_g.superseded_at.is_not(None))
        return clauses


def _side(row: Row[Any], side: str) -> dict[str, Any]:
    m = row._mapping
    return {
        "uid": m[f"{side}_uid"],
        "result": m[f"{side}_result"],
        "git_describe": m[f"{side}_git_describe"],
        "git_sha": m[f"{side}_git_sha"],
        "time": iso(m[f"{side}_time"]),
    }


def render(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "kind": row.kind,
        "test": row.test,
        "environment": {name: row._mapping[name] for name in ENVIRONMENT},
        "before": _side(row, "before"),
        "after": _side(row, "after"),
        "detected_at": iso(row.detected_at),
        "superseded_at": iso(row.superseded_at),
    }


def _after(cursor: Cursor) -> ColumnElement[bool]:
    return or_(
        _g.detected_at < cursor.updated_at,
        and_(_g.detected_at == cursor.updated_at, _g.id < cursor.id),
    )


def list_regressions(
    conn: Connection, filters: RegressionFilters, limit: int, cursor: Cursor | None = None
) -> dict[str, Any]:
    """{"regressions": a page of at most `limit`, newest first, "next_cursor": or null}."""
    query = select(regressions).where(*filters.where())
    if cursor is not None:
        query = query.where(_after(cursor))
    query = query.order_by(_g.detected_at.desc(), _g.id.desc()).limit(limit + 1)
    rows = conn.execute(query).all()
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if more else None
    next_cursor = Cursor(last.detected_at, last.id).encode() if last else None
    return {"regressions": [render(row) for row in rows], "next_cursor": next_cursor}


_r = compared_runs.c
# Built once: a page reads it on every visit, and building the statement costs more than
# running it (SQLite, 100,000 outcomes: 0.4 ms against 0.1).
_STANDING_AT = (
    select(regressions)
    .join(compared_runs, and_(_r.kind == _g.kind, _r.uid == _g.after_uid, _r.env_key == _g.env_key))
    .where(
        _r.kind.in_(("build", "test")),
        _r.uid.in_(bindparam("uids", expanding=True)),
        _g.superseded_at.is_(None),
    )
    .order_by(_g.id)
)


def standing_at(conn: Connection, uids: Sequence[str]) -> list[dict[str, Any]]:
    """The transitions that stand and end at these runs (a build's page: the build and the tests
    on it), as the API shows them, oldest first. Found through each run's row of compared_runs:
    its environment's key leads to the (env_key, test, after_uid) index."""
    if not uids:
        return []
    return [render(row) for row in conn.execute(_STANDING_AT, {"uids": list(uids)})]


Event = Literal["regression", "fix", "superseded"]


def transitions_of(conn: Connection, digest: str) -> list[tuple[Event, dict[str, Any]]]:
    """What storing the delivery of this digest did to regressions, for notifications: each
    transition it detected (`regression` or `fix`) and each it superseded (`superseded`), with
    the transition as the API shows it; oldest first. Call it in the delivery's transaction,
    or after it: the rows are written with the outcome."""
    query = select(regressions).where(or_(_g.detected_by == digest, _g.superseded_by == digest))
    events: list[tuple[Event, dict[str, Any]]] = []
    for row in conn.execute(query.order_by(_g.id)):
        if row.detected_by == digest:
            events.append(("regression" if row.type == "regression" else "fix", render(row)))
        if row.superseded_by == digest:
            events.append(("superseded", render(row)))
    return events
