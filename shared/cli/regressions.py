"""`tuxhook regressions`: regressions and fixes as a table, or GET /v1/regressions's JSON.

It reads the store at TUXHOOK_DATABASE_URL directly, as the workers do (no receiver, no read
credentials: the database URL is one), with the query GET /v1/regressions runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from shared.cli.outcomes import parse_since, store, table
from shared.db.queries import Cursor
from shared.db.regressions import RegressionFilters, list_regressions
from shared.settings import Settings

COLUMNS = (
    "DETECTED (UTC)", "TYPE", "PROJECT", "ENVIRONMENT", "TEST", "BEFORE", "AFTER",
)  # fmt: skip


def _environment(env: Mapping[str, Any]) -> str:
    parts = [env.get("device"), env.get("target_arch"), env.get("toolchain")]
    kconfig = env.get("kconfig")
    if kconfig:
        parts.append("+".join(map(str, kconfig)) if isinstance(kconfig, list) else str(kconfig))
    return " ".join(str(p) for p in parts if p) or "-"


def _run(side: Mapping[str, Any]) -> str:
    commit = side["git_describe"] or (side["git_sha"] or "")[:12] or side["uid"]
    return f"{side['result']} {commit}"


def _row(t: Mapping[str, Any]) -> list[str]:
    detected = str(t["detected_at"])[:19].replace("T", " ")
    superseded = " (superseded)" if t["superseded_at"] else ""
    env = t["environment"]
    return [
        detected, t["type"] + superseded, env["project"] or "-", _environment(env), t["test"],
        _run(t["before"]), _run(t["after"]),
    ]  # fmt: skip


def render(found: Sequence[Mapping[str, Any]]) -> str:
    return table([list(COLUMNS), *(_row(t) for t in found)]) if found else "no regression or fix"


def regressions_command(args: argparse.Namespace, settings: Settings) -> int:
    """A page of regressions and fixes, newest first, as GET /v1/regressions gives it."""
    filters = RegressionFilters(
        project=args.project,
        type=args.type,
        device=args.device,
        since=parse_since(args.since) if args.since else None,
        superseded="any" if args.superseded else "false",
    )
    cursor = Cursor.decode(args.cursor) if args.cursor else None
    with store(settings) as conn:
        page = list_regressions(conn, filters, args.limit, cursor)
    print(json.dumps(page, indent=2) if args.json else render(page["regressions"]))
    if page["next_cursor"] and not args.json:
        print(f"more: the same command with --cursor {page['next_cursor']}")
    return 0
