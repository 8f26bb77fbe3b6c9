"""Named builders of test data: callbacks from the samples, signed or not."""

from __future__ import annotations

import copy
import enum
import json
import secrets
import string
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from shared.constants import SIGNATURE_HEADER
from shared.identity import body_digest, job_id
from shared.jobs import Delivery
from tests.support.keys import KeyPair

# The demo plan's callbacks (shared/demo/README.md), which the tests vary.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "demo"
# The four samples of TuxSuite's own callback documentation, as published.
TUXSUITE_DOCS = Path(__file__).resolve().parents[1] / "samples" / "tuxsuite-docs"
_ALPHABET = string.ascii_letters + string.digits


@cache
def sample(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / f"{kind}.json").read_text())
    return doc


@cache
def documented(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((TUXSUITE_DOCS / f"{kind}.json").read_text())
    return doc


def tuxsuite_doc(kind: str = "build", uid: str | None = None, **status: Any) -> dict[str, Any]:
    """TuxSuite's documented sample of `kind`, with a fresh (or given) uid and `status` fields
    replaced."""
    doc = copy.deepcopy(documented(kind))
    doc["status"]["uid"] = uid or new_uid()
    doc["status"].update(status)
    return doc


def new_uid() -> str:
    """A fresh uid shaped like TuxSuite's 27-character KSUIDs."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(27))


def callback(kind: str = "build", uid: str | None = None, **status: Any) -> dict[str, Any]:
    """The sample document of `kind` with a fresh (or given) uid and `status` fields replaced."""
    doc = copy.deepcopy(sample(kind))
    doc["status"]["uid"] = uid or new_uid()
    doc["status"].update(status)
    return doc


def encode(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def signed_headers(keys: KeyPair, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: keys.sign(body)}


def signed_callback(
    keys: KeyPair, kind: str = "build", uid: str | None = None, **status: Any
) -> tuple[bytes, dict[str, str]]:
    """A body and the headers TuxSuite would send with it."""
    body = encode(callback(kind, uid, **status))
    return body, signed_headers(keys, body)


class Missing(enum.Enum):
    """A field value meaning: leave the field out."""

    FIELD = "missing"


MISSING = Missing.FIELD


def _replace(fields: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is MISSING:
            fields.pop(name, None)
        else:
            fields[name] = value


def document(
    sample_of: str = "build", *, status_fields: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    """The sample of kind `sample_of` with top-level fields replaced (MISSING removes one).

    `status_fields` replaces fields inside the status object, uid included, before that.
    """
    doc = callback(sample_of)
    _replace(doc["status"], status_fields or {})
    _replace(doc, top)
    return doc


def signed_raw(keys: KeyPair, body: bytes) -> tuple[bytes, dict[str, str]]:
    """Any bytes, signed with the good key: malformed input that verification lets through."""
    return body, signed_headers(keys, body)


def signed_document(keys: KeyPair, doc: Any) -> tuple[bytes, dict[str, str]]:
    return signed_raw(keys, encode(doc))


def double_encoded(inner: bytes) -> bytes:
    """The legacy body: a JSON string whose content is the document."""
    return json.dumps(inner.decode("utf-8")).encode()


def nested(depth: int, leaf: str = "0") -> bytes:
    """JSON arrays nested `depth` deep around `leaf`, built without recursion."""
    return b"[" * depth + leaf.encode() + b"]" * depth


def job_id_of(doc: dict[str, Any]) -> str:
    """The RQ job id the receiver gives `doc` when it arrives encoded by `encode`."""
    return job_id(doc["kind"], doc["status"]["uid"], body_digest(encode(doc)))


def new_delivery(kind: str) -> Delivery:
    """A verified delivery of a fresh callback, as the receiver hands it to the enqueuer."""
    uid = new_uid()
    body = encode(callback(kind, uid=uid))
    return Delivery(
        kind=kind,
        uid=uid,
        digest=body_digest(body),
        body=body.decode(),
        received_at=datetime.now(UTC).isoformat(),
        verified_by="key:SHA256:test",
        auth={"iss": "tests", "pull-request": 7},
    )
