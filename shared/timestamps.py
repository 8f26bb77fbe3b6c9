"""Times, always aware and in UTC: read from payloads and queries, and from the store, which
(on SQLite) forgets the zone of what it was given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_utc(value: datetime) -> datetime:
    """Naive times are UTC here: TuxSuite's are, and so is everything tuxhook stores."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as aware UTC; None for anything else, and for a time that is not in
    Python's years 1 to 9999 once in UTC (0001-01-01T00:00:00+01:00)."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return None


def iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()
