"""Named builders of test data: callbacks from the samples, signed or not."""

from __future__ import annotations

import copy
import json
import secrets
import string
from functools import cache
from pathlib import Path
from typing import Any

from shared.constants import SIGNATURE_HEADER
from tests.support.keys import KeyPair

# Copies of ../shared/samples, so the tests do not depend on what lies beside the checkout.
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
_ALPHABET = string.ascii_letters + string.digits


@cache
def sample(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / f"{kind}.json").read_text())
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
