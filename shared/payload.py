"""The callback document `{"kind", "status"}`: strict JSON decoding and validation."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from shared.constants import KINDS, MAX_JSON_DEPTH, MAX_UID_LENGTH
from shared.errors import InvalidJSON, InvalidPayload, UnsupportedKind


@dataclass(frozen=True)
class Event:
    kind: str
    uid: str
    status: dict[str, Any]


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        keys = [key for key, _ in pairs]
        dup = next(key for key in keys if keys.count(key) > 1)
        raise InvalidJSON(f"duplicate key {dup[:64]!r} in JSON object")
    return doc


def _depth(value: Any) -> int:
    """Nesting depth of containers, iteratively so that deep input cannot exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidJSON("body is not valid UTF-8") from e


def loads_strict(data: bytes | str) -> Any:
    """Decode JSON: UTF-8 only, no duplicate keys, only finite numbers, depth <= MAX_JSON_DEPTH."""
    text = utf8(data) if isinstance(data, bytes) else data
    try:
        value = _DECODER.decode(text)
    except RecursionError as e:
        raise InvalidJSON(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from e
    except ValueError as e:
        if isinstance(e, InvalidJSON):
            raise
        raise InvalidJSON(f"body is not valid JSON: {e}") from e
    if _SURROGATE_ESCAPE.search(text) and not _encodable(value):
        raise InvalidJSON("JSON holds a lone UTF-16 surrogate, which is not valid Unicode")
    # Fewer brackets than the limit cannot nest deeper than it: skip the walk for most bodies.
    brackets = text.count("{") + text.count("[")
    if brackets > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise InvalidJSON(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


# A \uD800-\uDFFF escape: a surrogate, paired (fine) or lone (not Unicode, refused by storage).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not valid JSON")


def _finite_float(literal: str) -> float:
    """RFC 8259 lets a parser limit numbers: 1e400 would smuggle in the Infinity refused above."""
    value = float(literal)
    if not math.isfinite(value):
        raise InvalidJSON(f"number {literal[:32]} is out of range")
    return value


# One decoder for every document: json.loads(..., hooks) would build a new one each time.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates, parse_constant=_no_constant, parse_float=_finite_float
)


def validate_event(doc: Any) -> Event:
    """The event a decoded document describes, or InvalidPayload saying what is wrong."""
    if not isinstance(doc, dict):
        raise InvalidPayload("the document must be a JSON object with 'kind' and 'status'")
    kind = doc.get("kind")
    if not isinstance(kind, str):
        raise InvalidPayload("'kind' must be a string")
    if kind not in KINDS:
        raise UnsupportedKind(f"kind {kind[:32]!r} is not one of {', '.join(KINDS)}")
    status = doc.get("status")
    if not isinstance(status, dict):
        raise InvalidPayload("'status' must be a JSON object")
    return Event(kind=kind, uid=_valid_uid(status.get("uid")), status=status)


def _valid_uid(uid: Any) -> str:
    if not isinstance(uid, str) or not uid:
        raise InvalidPayload("'status.uid' must be a non-empty string")
    if len(uid) > MAX_UID_LENGTH:
        raise InvalidPayload(f"'status.uid' is longer than {MAX_UID_LENGTH} characters")
    if not (uid.isascii() and uid.isalnum()):
        raise InvalidPayload("'status.uid' must be ASCII letters and digits only")
    return uid


def parse_event(data: bytes | str) -> Event:
    return validate_event(loads_strict(data))
