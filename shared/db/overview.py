"""What the home page shows, and GET /v1/overview answers: the projects updated lately, each with
its latest builds (and how the tests that ran on each fared) and its latest plans.

Builds and plans are rendered by the function that renders GET /v1/outcomes's, so that they
look exactly as the API shows them; this module adds the choice of projects and the counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    case,
    func,
    select,
    union_all,
)

from shared.constants import (
    OVERVIEW_BUILDS,
    OVERVIEW_PLANS,
    OVERVIEW_PROJECTS,
    OVERVIEW_REGRESSIONS,
)
from shared.db.queries import render
from shared.db.regressions import RegressionFilters, list_regressions
from shared.db.schema import outcomes
from shared.timestamps import as_utc, iso

# The verdicts counted for the tests of a build; anything else a test may end with (canceled,
# unknown) is counted under its own name.
COUNTED = ("pass", "fail", "error", "not_final")


@dataclass(frozen=True)
class Sizes:
    projects: int = OVERVIEW_PROJECTS
    builds: int = OVERVIEW_BUILDS
    plans: int = OVERVIEW_PLANS
    regressions: int = OVERVIEW_REGRESSIONS


def not_final() -> ColumnElement[bool]:
    """An outcome whose verdict may still change: not `final` (shared/outcome_rules.py)."""
    return outcomes.c.final.is_(False)


def verdict() -> ColumnElement[str]:
    """`not_final`, else the result (`none` for a final outcome without one)."""
    return case((not_final(), "not_final"), else_=func.coalesce(outcomes.c.result, "none"))


def verdict_of(outcome: Mapping[str, Any]) -> str:
    """not_final() and verdict() for an outcome as the API shows it."""
    if outcome.get("final") is not True:
        return "not_final"
    return "none" if outcome.get("result") is None else str(outcome["result"])


def _projects() -> CTE:
    """Every project, each found by one seek in the (project, updated_at) index from the one
    before it: as many seeks as projects, where GROUP BY would read every row in the window."""
    o = outcomes.alias("o")
    first = select(func.min(outcomes.c.project).label("project")).cte("projects", recursive=True)
    after = select(func.min(o.c.project)).where(o.c.project > first.c.project).scalar_subquery()
    return first.union_all(select(after).where(first.c.project.is_not(None)))


def active_projects(conn: Connection, since: datetime, limit: int) -> list[tuple[str, datetime]]:
    """Projects with an outcome updated at or after `since`, the most recently updated first."""
    projects = _projects()
    o = outcomes.alias("latest")
    latest = select(func.max(o.c.updated_at)).where(o.c.project == projects.c.project)
    found = (
        select(projects.c.project, latest.scalar_subquery().label("last"))
        .where(projects.c.project.is_not(None))
        .subquery()
    )
    query = (
        select(found.c.project, found.c.last)
        .where(found.c.last >= since)
        .order_by(found.c.last.desc(), found.c.project)
        .limit(limit)
    )
    return [(row.project, as_utc(row.last)) for row in conn.execute(query)]


def tests_by_verdict(conn: Connection, build_uids: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each build, how many of the tests that ran on it ended with each verdict."""
    counts: dict[str, dict[str, int]] = {uid: dict.fromkeys(COUNTED, 0) for uid in build_uids}
    if not build_uids:
        return counts
    c = outcomes.c
    v = verdict().label("verdict")
    query = (
        select(c.build_uid, v, func.count().label("n"))
        # Only tests have a build_uid. Saying kind = 'test' too would lead SQLite, which keeps
        # no statistics, to the (kind, uid) index: every test read, 0.2 s at 100,000 outcomes.
        .where(c.build_uid.in_(build_uids))
        .group_by(c.build_uid, v)
    )
    for row in conn.execute(query):
        counts[row.build_uid][row.verdict] = row.n
    return counts


_SHOWN = [column for column in outcomes.c if column.name != "payload"]


def _latest_of(project: str, kind: str, since: datetime, limit: int) -> Select[Any]:
    """A project's latest outcomes of one kind updated since: a range of the (project,
    updated_at) index, newest first."""
    c = outcomes.c
    latest = (
        select(*_SHOWN)
        .where(c.project == project, c.kind == kind, c.updated_at >= since)
        .order_by(c.updated_at.desc(), c.id.desc())
        .limit(limit)
        .subquery()
    )
    return select(latest)


def latest(
    conn: Connection, projects: Sequence[str], since: datetime, sizes: Sizes
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Each project's latest builds and plans, in one statement (one round trip, where a query
    per project and kind took 40 on PostgreSQL), as list_outcomes renders them."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    parts = [
        _latest_of(project, kind, since, limit)
        for project in projects
        for kind, limit in (("build", sizes.builds), ("plan", sizes.plans))
    ]
    if not parts:
        return found
    rows = sorted(conn.execute(union_all(*parts)), key=lambda r: (r.updated_at, r.id), reverse=True)
    for row in rows:  # builds and plans have no per-test results
        found.setdefault((row.project, row.kind), []).append(render(row, {}))
    return found


def overview(conn: Connection, since: datetime, sizes: Sizes = Sizes()) -> dict[str, Any]:
    """The projects updated at or after `since`, each with its latest builds and plans; and the
    latest regressions and fixes detected since, that stand, as GET /v1/regressions gives them."""
    active = active_projects(conn, since, sizes.projects)
    found = latest(conn, [name for name, _ in active], since, sizes)
    projects = [
        {
            "project": name,
            "updated_at": iso(last),
            "builds": found.get((name, "build"), []),
            "plans": found.get((name, "plan"), []),
        }
        for name, last in active
    ]
    builds = [build for name, _ in active for build in found.get((name, "build"), [])]
    counts = tests_by_verdict(conn, [build["uid"] for build in builds])
    for build in builds:
        build["test_counts"] = counts[build["uid"]]
    latest_changes = list_regressions(conn, RegressionFilters(since=since), sizes.regressions)
    return {
        "since": iso(since),
        "projects": projects,
        "regressions": latest_changes["regressions"],
    }
