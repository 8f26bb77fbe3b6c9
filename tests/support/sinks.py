"""Real local endpoints for the notification sinks, each served by a thread of its own so that a
worker process, or a sink called from the test itself, can reach them:

- a webhook receiver that verifies every delivery with the `standardwebhooks` library;
- a JSON endpoint, as apprise's json:// posts to;
- a KCIDB stand-in that validates every submission with kcidb-io and answers as KCIDB's REST
  service does (200 "Submission received", 400 "Invalid submission format", 401);
- an SMTP server (aiosmtpd), for apprise's mailto://.

Each can be scripted to answer some statuses first (500 twice, then 200), to answer some
requests only after a while (`stalls`: later than the sink's timeout), and stopped and started
again on the same port (a sink down for a while).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from kcidb_io import schema
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support.redis_server import free_port


def new_webhook_secret(seed: int) -> str:
    return "whsec_" + base64.b64encode(bytes([seed]) * 32).decode("ascii")


class LoopbackServer:
    """An aiohttp app on 127.0.0.1:port, served from a thread with its own event loop."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.lock = threading.Lock()
        # Statuses to answer before answering normally, one per request.
        self.script: list[int] = []
        # Seconds to wait before answering, one per request, before answering at once.
        self.stalls: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def scripted(self) -> int | None:
        with self.lock:
            return self.script.pop(0) if self.script else None

    def next_stall(self) -> float | None:
        """Seconds this request waits before its answer, if it is one of `stalls`."""
        with self.lock:
            return self.stalls.pop(0) if self.stalls else None

    async def stalled(self) -> bool:
        """Wait as the next of `stalls` says; whether this request was one of them."""
        seconds = self.next_stall()
        if seconds is not None:
            await asyncio.sleep(seconds)
        return seconds is not None

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the loopback server did not start")

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        self._loop.run_until_complete(site.start())
        ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


@dataclass
class Delivery:
    event_id: str
    event: dict[str, Any]


class WebhookReceiver(LoopbackServer):
    """Verifies each POST with standardwebhooks; keeps what verified, counts what did not."""

    def __init__(self, secret: str, port: int | None = None) -> None:
        super().__init__(port)
        self.webhook = Webhook(secret)
        self.received: list[Delivery] = []
        self.unverified = 0
        # Ids of deliveries answered only after a stall, when the sender had given up waiting.
        self.late: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/hook", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = self.webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            with self.lock:
                self.unverified += 1
            return web.json_response({"error": "bad signature"}, status=401)
        stall = self.next_stall()
        if stall is not None:  # taken now, answered after the sender gave up
            with self.lock:
                self.late.append(request.headers["webhook-id"])
            await asyncio.sleep(stall)
            return web.Response(status=204)
        status = self.scripted()
        if status is not None:
            return web.Response(text=f"scripted {status}", status=status)
        with self.lock:
            self.received.append(Delivery(request.headers["webhook-id"], event))
        return web.Response(status=204)

    def ids(self) -> list[str]:
        with self.lock:
            return [d.event_id for d in self.received]


class JsonEndpoint(LoopbackServer):
    """What apprise's json:// posts: {"version", "title", "message", "type", ...}."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.received: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/notify", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        doc = json.loads(await request.read())
        if await self.stalled():
            return web.json_response({"ok": True})
        status = self.scripted()
        if status is not None:
            return web.Response(text=f"scripted {status}", status=status)
        with self.lock:
            self.received.append(doc)
        return web.json_response({"ok": True})


class KcidbStandIn(LoopbackServer):
    def __init__(self, token: str, port: int | None = None) -> None:
        super().__init__(port)
        self.token = token
        self.submissions: list[dict[str, Any]] = []
        self.refused: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/submit", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        # As kcidb-restd answers: text bodies, 401 for credentials, 400 for a bad submission.
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(text="JWT is required", status=401)
        if await self.stalled():
            return web.Response(text="Submission received")
        status = self.scripted()
        if status is not None:
            return web.Response(text=f"scripted {status}", status=status)
        try:
            submission = json.loads(await request.read())
            schema.V5_3.validate(submission)
        except Exception as e:  # any parse or schema failure is the client's
            with self.lock:
                self.refused.append(str(e).splitlines()[0])
            return web.Response(text="Invalid submission format", status=400)
        with self.lock:
            self.submissions.append(submission)
        return web.Response(text="Submission received")

    def object_ids(self, kind: str) -> list[str]:
        with self.lock:
            return [o["id"] for s in self.submissions for o in s.get(kind, [])]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"")
        parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
        text = "\n".join(p.decode("utf-8", "replace") for p in parts if isinstance(p, bytes))
        self.messages.append(
            {"to": ",".join(envelope.rcpt_tos), "subject": str(message["subject"]), "body": text}
        )
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An SMTP server on loopback (aiosmtpd); yields its port and the messages it took."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox.messages
    finally:
        controller.stop()
