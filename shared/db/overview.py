"""What the home page shows, and GET /v1/overview answers: the projects updated lately, each with
its latest builds (and how the tests that ran on each fared) and its latest plans.

Builds and plans are read with list_outcomes, so that they look exactly as GET /v1/outcomes
shows them; this module adds only the choice of projects and the counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from shared.constants import OVERVIEW_BUILDS, OVERVIEW_PLANS, OVERVIEW_PROJECTS
from shared.db.queries import Filters, list_outcomes
from shared.db.schema import outcomes
from shared.timestamps import iso

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


def active_projects(conn: Connection, since: datetime, limit: int) -> list[tuple[str, datetime]]:
    """Projects with an outcome updated at or after `since`, the most recently updated first."""
    c = outcomes.c
    last = func.max(c.updated_at).label("last")
    query = (
        select(c.project, last)
        .where(c.updated_at >= since, c.project.is_not(None))
        .group_by(c.project)
        .order_by(last.desc(), c.project)
        .limit(limit)
    )
    return [(row.project, row.last) for row in conn.execute(query)]


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


def _latest(conn: Connection, project: str, kind: str, limit: int) -> list[dict[str, Any]]:
    return list_outcomes(conn, Filters(kind=kind, project=project), limit).outcomes


def _project(conn: Connection, project: str, last: datetime, sizes: Sizes) -> dict[str, Any]:
    builds = _latest(conn, project, "build", sizes.builds)
    counts = tests_by_verdict(conn, [b["uid"] for b in builds])
    return {
        "project": project,
        "updated_at": iso(last),
        "builds": [{**b, "test_counts": counts[b["uid"]]} for b in builds],
        "plans": _latest(conn, project, "plan", sizes.plans),
    }


def overview(conn: Connection, since: datetime, sizes: Sizes = Sizes()) -> dict[str, Any]:
    """The projects updated at or after `since`, each with its latest builds and plans."""
    projects = active_projects(conn, since, sizes.projects)
    return {
        "since": iso(since),
        "projects": [_project(conn, name, last, sizes) for name, last in projects],
    }
