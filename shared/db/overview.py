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

from sqlalchemy import CTE, ColumnElement, Connection, bindparam, case, func, or_, select

from shared.constants import OVERVIEW_BUILDS, OVERVIEW_PLANS, OVERVIEW_PROJECTS
from shared.db.queries import render
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


# Issue 13 adds `final` (shared/outcome_rules.py's table) to the store and the API. Until a store
# has it, an outcome is taken as final once finished with a result; once it does, the rule is
# that table's, here and on the pages alike (the fallback can then go).
HAS_FINAL = "final" in outcomes.c


def not_final() -> ColumnElement[bool]:
    """An outcome whose verdict may still change."""
    c = outcomes.c
    if HAS_FINAL:
        return c["final"].is_not(True)
    return or_(c.state.is_(None), c.state != "finished", c.result.is_(None))


def verdict() -> ColumnElement[str]:
    """`not_final`, else the result (`none` for a final outcome without one)."""
    return case((not_final(), "not_final"), else_=func.coalesce(outcomes.c.result, "none"))


def verdict_of(outcome: Mapping[str, Any]) -> str:
    """not_final() and verdict() for an outcome as the API shows it."""
    if "final" in outcome:
        final = outcome["final"] is True
    else:
        final = outcome.get("state") == "finished" and outcome.get("result") is not None
    if not final:
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


# A project's latest outcomes of one kind updated since a time: a range of the (project,
# updated_at) index, newest first. Built once, as the worker builds its statements: the home
# page runs it twice per project, and building a 45-column SELECT cost more than running it.
_c = outcomes.c
_LATEST = (
    select(*(column for column in outcomes.c if column.name != "payload"))
    .where(
        _c.project == bindparam("project"),
        _c.kind == bindparam("kind"),
        _c.updated_at >= bindparam("since"),
    )
    .order_by(_c.updated_at.desc(), _c.id.desc())
    .limit(bindparam("limit"))
)


def _latest(conn: Connection, project: str, kind: str, since: datetime, limit: int) -> Any:
    """As list_outcomes shows them (builds and plans have no per-test results)."""
    values = {"project": project, "kind": kind, "since": since, "limit": limit}
    return [render(row, {}) for row in conn.execute(_LATEST, values)]


def overview(conn: Connection, since: datetime, sizes: Sizes = Sizes()) -> dict[str, Any]:
    """The projects updated at or after `since`, each with its latest builds and plans."""
    projects = [
        {
            "project": name,
            "updated_at": iso(last),
            "builds": _latest(conn, name, "build", since, sizes.builds),
            "plans": _latest(conn, name, "plan", since, sizes.plans),
        }
        for name, last in active_projects(conn, since, sizes.projects)
    ]
    builds = [build for p in projects for build in p["builds"]]
    counts = tests_by_verdict(conn, [build["uid"] for build in builds])
    for build in builds:
        build["test_counts"] = counts[build["uid"]]
    return {"since": iso(since), "projects": projects}
