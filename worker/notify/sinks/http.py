"""One POST to a sink, and what its answer means: delivered, retry later, or refused for good.

http.client, with a bounded answer and no redirects followed: a webhook or KCIDB URL that
redirects is misconfigured, and following it would re-send the body somewhere else. The sink's
`timeout_seconds` bounds the connect and each read; the delivery job's RQ timeout
(NOTIFY_JOB_TIMEOUT_S) bounds the whole, should a sink drip its answer.
"""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

from shared.constants import NOTIFY_ANSWER_MAX_BYTES, NOTIFY_REASON_MAX_CHARS
from shared.errors import SinkRejected, SinkUnavailable
from shared.settings import mask_url

# Answers worth retrying besides 5xx: Request Timeout and Too Many Requests.
RETRIED_4XX = frozenset({408, 429})


def short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= NOTIFY_REASON_MAX_CHARS else line[:NOTIFY_REASON_MAX_CHARS] + "…"


def _connection(url: str, timeout_s: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "https":
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(host, port, timeout=timeout_s, context=context), target
    return http.client.HTTPConnection(host, port, timeout=timeout_s), target


def _exchange(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int, str]:
    connection, target = _connection(url, timeout_s)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(NOTIFY_ANSWER_MAX_BYTES).decode("utf-8", "replace")
        return response.status, short(answer)
    finally:
        connection.close()


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> str:
    """POST `body`; "STATUS: answer" on a 2xx, else SinkUnavailable or SinkRejected."""
    where = mask_url(url)
    try:
        status, answer = _exchange(url, body, headers, timeout_s)
    except (OSError, http.client.HTTPException) as e:  # refused, reset, timed out, TLS
        raise SinkUnavailable(f"{where} did not answer: {e or type(e).__name__}") from None
    if 200 <= status < 300:
        return f"{status}: {answer}"
    said = f"{where} answered {status}: {answer}"
    if status >= 500 or status in RETRIED_4XX:
        raise SinkUnavailable(said)
    raise SinkRejected(said)
