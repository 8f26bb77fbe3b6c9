"""A stand-in for TuxSuite's keys endpoint: a real HTTP server on loopback, in a thread of its
own, so that a receiver process started (and waited for) synchronously can fetch from it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.keys import DEMO_KEYS_JSON

KEYS_PATH = "/v1/groups/demo/projects/demo/keys"

# What a keys URL may answer instead of keys: (content type, body).
HTML_PAGE = ("text/html", "<!DOCTYPE html>\n<html><body>Down for maintenance</body></html>\n")
EMPTY_BODY = ("application/json", "")
# A key type cryptography does not know, and one it knows but tuxhook cannot verify with.
UNKNOWN_TYPE_LINE = "ssh-foo AAAAB3NzaC1mb28AAAADAQAB tuxsuite-next"
ED25519_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x"


def keys_document(*lines: str) -> tuple[str, str]:
    """A keys document shaped as TuxSuite serves it, holding `lines` at ssh.pub."""
    pub: str | list[str] = lines[0] if len(lines) == 1 else list(lines)
    return "application/json", json.dumps({"ssh": {"pub": pub}, "pat": [], "variables": []})


def demo_keys() -> tuple[str, str]:
    """The sample keys document, as TuxSuite's endpoint serves it."""
    return "application/json", DEMO_KEYS_JSON.read_text()


@dataclass
class KeysServer:
    """Answers GET KEYS_PATH with `answer` (content type, body); counts the requests."""

    answer: tuple[str, str] = field(default_factory=demo_keys)
    fetches: int = 0
    url: str = ""


def _handler(served: KeysServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.fetches += 1
            content_type, body = served.answer
            data = body.encode()
            self.send_response(200 if self.path == KEYS_PATH else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass  # the test's output is for its own lines

    return Handler


@contextmanager
def keys_server(answer: tuple[str, str] | None = None) -> Iterator[KeysServer]:
    served = KeysServer(answer or demo_keys())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}{KEYS_PATH}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
