"""The kcidb sink: a KCIDB v5 submission, validated with kcidb-io's schema, POSTed to a KCIDB
REST URL with `Authorization: Bearer <token>` (KernelCI's KCIDB_REST convention)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import orjson

from shared.errors import SinkRejected
from shared.notify_config import KcidbSink
from worker.notify.sinks.http import post, short
from worker.notify.sinks.kcidb_submission import SCHEMA, submission


def validated(
    origin: str, event: dict[str, Any] | None, cases: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    doc = submission(origin, event, cases)
    try:
        SCHEMA.validate(doc)
    except jsonschema.exceptions.ValidationError as e:
        # Sending it again would be refused again: the failed registry, with the reason.
        raise SinkRejected(f"KCIDB's schema refuses the submission: {short(e.message)}") from None
    return doc


def send_kcidb(sink: KcidbSink, event: str, cases: Mapping[str, str | None] | None = None) -> str:
    doc = validated(sink.origin, orjson.loads(event), cases)
    headers = {
        "content-type": "application/json",
        "authorization": f"Bearer {sink.token.reveal()}",
        "user-agent": "tuxhook",
    }
    return post(sink.url, orjson.dumps(doc), headers, sink.timeout_s)
