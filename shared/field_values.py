"""Typed readers of a payload's fields: each returns what its column can hold, or None.

A reader is total: whatever the JSON parser produced, it returns a value the column holds on
SQLite and PostgreSQL alike, or None. When the payload held a value (not missing, not JSON
null) that the column cannot hold, the reader also records why in `errors`, which becomes the
outcome's `field_errors`; the raw payload keeps the value as sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared.constants import INDEXED_TEXT_MAX, MAX_UID_LENGTH, STORE_INT_MAX, STORE_INT_MIN
from shared.timestamps import as_utc

Status = Mapping[str, Any]
FieldErrors = list[dict[str, str]]
# Reads one column's value from a status, recording in the list why a value was not kept.
Reader = Callable[[Status, FieldErrors], Any]

# A JSON number, as a string: what SQUAD's fixtures send for counts and durations.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WHOLE = re.compile(r"-?[0-9]+")
# A string of more digits than this is out of range anyway; int() of a huge one costs time.
_MAX_DIGITS = 32
OUT_OF_RANGE = "out of range"


def refuse(errors: FieldErrors, field: str, reason: str) -> None:
    errors.append({"field": field, "reason": reason})


def distinct(errors: FieldErrors) -> FieldErrors:
    """Each (field, reason) once: a results object of a thousand bad entries says so once."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for error in errors:
        seen.setdefault((error["field"], error["reason"]), error)
    return list(seen.values())


def _absent(value: Any) -> bool:
    return value is None


def text_value(field: str, value: Any, errors: FieldErrors, limit: int | None) -> str | None:
    if _absent(value):
        return None
    if not isinstance(value, str):
        refuse(errors, field, "not a string")
        return None
    # PostgreSQL text cannot hold NUL.
    if "\x00" in value:
        refuse(errors, field, "holds a NUL character")
        return None
    if limit is not None and len(value) > limit:
        refuse(errors, field, f"longer than {limit} characters, the most an index holds")
        return None
    return value


def text(name: str, *, indexed: bool = False) -> Reader:
    limit = INDEXED_TEXT_MAX if indexed else None
    return lambda status, errors: text_value(name, status.get(name), errors, limit)


def choice(name: str, allowed: tuple[str, ...], field: str | None = None) -> Reader:
    def read(status: Status, errors: FieldErrors) -> str | None:
        value = status.get(name)
        if _absent(value) or value in allowed:
            return value
        refuse(errors, field or name, f"not one of {', '.join(allowed)}")
        return None

    return read


def _whole(value: Any) -> int | None:
    """An int from a JSON integer, an integral float, or a string of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        # More digits than any column holds: out of range, whatever int() would make of them.
        return int(value) if len(value) <= _MAX_DIGITS else STORE_INT_MAX + 1
    return None


def count(name: str) -> Reader:
    """A whole number that an INTEGER column holds on both databases (32 bits)."""

    def read(status: Status, errors: FieldErrors) -> int | None:
        value = status.get(name)
        if _absent(value):
            return None
        whole = _whole(value)
        if whole is None:
            refuse(errors, name, "not a whole number")
            return None
        if not STORE_INT_MIN <= whole <= STORE_INT_MAX:
            refuse(errors, name, OUT_OF_RANGE)
            return None
        return whole

    return read


def _finite(value: Any) -> float | None:
    """A float from a JSON number or a string of one; math.inf when too large for a double."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _NUMBER.fullmatch(value):
            return None
        return float(value)
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    return None


def number_at(field: str, *path: str) -> Reader:
    """A number at `path` (a count or a duration), as a double both databases hold."""

    def read(status: Status, errors: FieldErrors) -> float | None:
        value: Any = status
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if _absent(value):
            return None
        number = _finite(value)
        if number is None:
            refuse(errors, field, "not a number")
            return None
        if not math.isfinite(number):
            refuse(errors, field, OUT_OF_RANGE)
            return None
        return number

    return read


def json_value(name: str, *types: type) -> Reader:
    def read(status: Status, errors: FieldErrors) -> Any:
        value = status.get(name)
        if _absent(value):
            return None
        if isinstance(value, types):
            if _holds_nul(value):  # PostgreSQL's JSON cannot hold \u0000
                refuse(errors, name, "holds a NUL character")
                return None
            return value
        expected = " or ".join(_TYPE_NAMES[t] for t in types)
        refuse(errors, name, f"not {expected}")
        return None

    return read


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


_TYPE_NAMES: dict[type, str] = {list: "a list", dict: "an object", str: "a string"}


def is_uid(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_UID_LENGTH
        and value.isascii()
        and value.isalnum()
    )


def uid(name: str, field: str) -> Reader:
    def read(status: Status, errors: FieldErrors) -> str | None:
        value = status.get(name)
        if _absent(value) or is_uid(value):
            return value
        refuse(errors, field, "not a uid")
        return None

    return read


def time_value(field: str, value: Any, errors: FieldErrors) -> datetime | None:
    """An ISO 8601 time as aware UTC, within the years both databases (and Python) hold."""
    if _absent(value):
        return None
    if not isinstance(value, str):
        refuse(errors, field, "not an ISO 8601 time")
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        refuse(errors, field, "not an ISO 8601 time")
        return None
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is a time before year 1 in UTC.
        refuse(errors, field, OUT_OF_RANGE)
        return None
