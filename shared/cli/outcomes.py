"""`tuxhook outcomes` and `tuxhook show`: the stored outcomes as tables, for the operator on the
host.

They read the store at TUXHOOK_DATABASE_URL directly, as the workers do and as `tuxhook status`
reads Redis: they work while the receiver is down, and need no read credentials (the database
URL is one). They call the same query functions as GET /v1/outcomes and
GET /v1/outcomes/{kind}/{uid}, and `--json` prints what those answer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from shared.cli.parser import OUTCOME_FILTERS
from shared.cli.queues import parse_duration
from shared.db.engine import create_engine
from shared.db.migrate import check_current, unavailable
from shared.db.overview import verdict_of
from shared.db.queries import Cursor, Filters, get_outcome, list_outcomes
from shared.db.regressions import standing_at
from shared.errors import NotFound, UsageError
from shared.settings import Settings
from shared.timestamps import parse_time

COLUMNS = ("UPDATED (UTC)", "KIND", "UID", "PROJECT", "STATE", "RESULT", "WHAT")
# What names an outcome in a list, per kind: the fields that say what was built or run where.
WHAT = {
    "build": ("build_name", "target_arch", "toolchain"),
    "test": ("device", "tests"),
    "oebuild": ("machine", "distro"),
    "plan": ("name",),
}


@contextmanager
def store(settings: Settings) -> Iterator[Connection]:
    """A read-only transaction on the store; every failure is one line naming the store."""
    url = settings.database_url
    engine = create_engine(
        url, lock_timeout_s=settings.database_lock_timeout_s, application_name="tuxhook-cli"
    )
    try:
        check_current(engine, url)
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as e:
        raise unavailable(url, e) from e
    finally:
        engine.dispose()


def parse_since(text: str) -> datetime:
    """An ISO 8601 time, or a duration back from now: 30s, 15m, 12h, 7d."""
    since = parse_time(text)
    if since is not None:
        return since
    try:
        return datetime.now(UTC) - parse_duration(text)
    except UsageError as e:
        raise UsageError(
            f"--since {text!r} is neither an ISO 8601 time nor 30s, 15m, 12h, 7d"
        ) from e


def filters_of(args: argparse.Namespace) -> Filters:
    given = {name: getattr(args, name) for name in OUTCOME_FILTERS if name != "since"}
    given = {name: value for name, value in given.items() if value is not None}
    since = parse_since(args.since) if args.since else None
    return Filters(**given, since=since)


def text(value: Any) -> str:
    """A value in a table cell: null as `-`, lists as commas, anything else as JSON."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def table(rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned on the widest cell; the last one left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = (
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )
    return "\n".join(line.rstrip() for line in lines)


def _row(o: Mapping[str, Any]) -> list[str]:
    what = " ".join(text(o.get(name)) for name in WHAT.get(o["kind"], ()) if o.get(name))
    updated = str(o["updated_at"])[:19].replace("T", " ")
    result = verdict_of(o).replace("_", " ")
    return [updated, o["kind"], o["uid"], text(o["project"]), text(o["state"]), result, what]


def render_outcomes(found: Sequence[Mapping[str, Any]]) -> str:
    return table([list(COLUMNS), *(_row(o) for o in found)]) if found else "no outcome"


def _turned(transition: Mapping[str, Any]) -> str:
    """A regression or fix as a cell: what it is, and the run before it."""
    before = transition["before"]
    commit = before.get("git_describe") or before.get("git_sha") or before["uid"]
    return f"{transition['type']} (was {before['result']} at {commit})"


def render_outcome(outcome: Mapping[str, Any], turned: Sequence[Mapping[str, Any]] = ()) -> str:
    """Every field but the payload, then a test's results, one per line, each with the
    regression or fix that ends at it (`turned`: those of this run, as the API shows them)."""
    fields = [[name, text(value)] for name, value in outcome.items() if name != "payload"]
    lines = [table([["FIELD", "VALUE"], *fields])]
    changes = {t["test"]: _turned(t) for t in turned}
    results = outcome.get("results")
    if isinstance(results, dict) and results:
        rows = ([k, text(v), changes.get(k, "")] for k, v in results.items())
        lines += ["", table([["SUITE", "RESULT", "CHANGE"], *rows])]
    if outcome.get("kind") == "build" and "build" in changes:
        lines += ["", f"build_status: {changes['build']}"]
    return "\n".join(lines)


def outcomes_command(args: argparse.Namespace, settings: Settings) -> int:
    """A page of outcomes, the most recently updated first, as GET /v1/outcomes gives it."""
    filters = filters_of(args)
    cursor = Cursor.decode(args.cursor) if args.cursor else None
    with store(settings) as conn:
        page = list_outcomes(conn, filters, args.limit, cursor)
    print(json.dumps(page.as_json(), indent=2) if args.json else render_outcomes(page.outcomes))
    if page.next_cursor and not args.json:
        print(f"more: the same command with --cursor {page.next_cursor}")
    return 0


def show_command(args: argparse.Namespace, settings: Settings) -> int:
    """One outcome, as GET /v1/outcomes/{kind}/{uid} gives it."""
    with store(settings) as conn:
        found = get_outcome(conn, args.kind, args.uid)
        turned = standing_at(conn, [args.uid]) if found and not args.json else []
    if found is None:
        raise NotFound(f"no {args.kind} outcome with uid {args.uid[:64]!r}")
    print(json.dumps(found, indent=2) if args.json else render_outcome(found, turned))
    return 0
