"""Reading a test's per-case results back: a page of them, in name order, after a cursor.

A test's outcome shows them as `cases` (`cases_of`): how many the last fetch stored, why it
stored none if it did not, and the first page; GET /v1/outcomes/test/{uid}/cases pages on.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from sqlalchemy import Connection, select

from shared.constants import CASES_PAGE_DEFAULT
from shared.db.schema import case_fetches, outcomes, test_cases
from shared.errors import InvalidParameter

_c, _f, _o = test_cases.c, case_fetches.c, outcomes.c


def encode_cursor(name: str) -> str:
    raw = json.dumps([name]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> str:
    """The case name a page ended with."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, TypeError, RecursionError) as e:
        raise InvalidParameter("cursor is not one this server gave") from e
    if not (isinstance(decoded, list) and len(decoded) == 1 and isinstance(decoded[0], str)):
        raise InvalidParameter("cursor is not one this server gave")
    name: str = decoded[0]
    return name


def _page(conn: Connection, outcome_id: int, limit: int, after: str | None) -> dict[str, Any]:
    query = select(_c.name, _c.result).where(_c.outcome_id == outcome_id)
    if after is not None:
        query = query.where(_c.name > after)
    rows = conn.execute(query.order_by(_c.name).limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    return {
        "results": {row.name: row.result for row in rows},
        "next_cursor": encode_cursor(rows[-1].name) if more else None,
    }


def cases_of(
    conn: Connection, outcome_id: int, limit: int = CASES_PAGE_DEFAULT, after: str | None = None
) -> dict[str, Any] | None:
    """A page of the test's cases, with the last fetch's count and error; None: never fetched."""
    fetch = conn.execute(select(_f.cases, _f.error).where(_f.outcome_id == outcome_id)).first()
    if fetch is None:
        return None
    return {"count": fetch.cases, "error": fetch.error, **_page(conn, outcome_id, limit, after)}


def cases_page(conn: Connection, uid: str, limit: int, after: str | None) -> dict[str, Any] | None:
    """`cases_of` for the test `uid`; None when there is no such test."""
    query = select(_o.id).where(_o.kind == "test", _o.uid == uid)
    outcome_id = conn.execute(query).scalar_one_or_none()
    if outcome_id is None:
        return None
    return cases_of(conn, outcome_id, limit, after)


def case_results(conn: Connection, uid: str) -> dict[str, str | None]:
    """Every case of test `uid`, name to result, in name order: what a KCIDB submission of the
    test sends beside its suites (at most CASES_MAX, as the enrich queue stores them)."""
    query = (
        select(_c.name, _c.result)
        .join(outcomes, _o.id == _c.outcome_id)
        .where(_o.kind == "test", _o.uid == uid)
        .order_by(_c.name)
    )
    return {row.name: row.result for row in conn.execute(query)}
