"""A stand-in for TuxSuite's API: a real aiohttp server on loopback, in a thread of its own
(with its own event loop), so that the enrich jobs a worker runs, in this process or another,
fetch per-case results from it over HTTP.

Each test's results path answers what the test told it to, in turn (the last answer repeats);
a path it was told nothing about answers 404, as TuxSuite's API does for an unknown test.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STREAM_CHUNK_BYTES = 1024 * 1024  # bytes per write of a streamed answer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    # When above 0: a body of this many bytes, streamed, declared in Content-Length or chunked.
    stream_bytes: int = 0
    declared: bool = False


def results(doc: dict[str, Any]) -> Answer:
    """A results answer: `{suite: {test: {"result": ...}}}`, as the API serves it."""
    return Answer(200, json.dumps(doc).encode())


def cases_document(cases: dict[str, dict[str, str]]) -> dict[str, Any]:
    """`{suite: {test: result}}` in the API's shape, with a log line beside each result."""
    return {
        suite: {test: {"result": r, "log": [f"{test} {r}"]} for test, r in tests.items()}
        for suite, tests in cases.items()
    }


def results_path(project: str, uid: str) -> str:
    group, name = project.split("/")
    return f"/v1/groups/{group}/projects/{name}/tests/{uid}/results"


@dataclass
class TuxSuiteAPI:
    url: str = ""
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    # (path, Authorization header) of every request, in order.
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    streamed: int = 0  # bytes of streamed bodies written before the client went away

    def answer(self, uid: str, *answers: Answer, project: str = "demo/demo") -> None:
        self.answers[results_path(project, uid)] = list(answers)

    def fetches(self, uid: str, project: str = "demo/demo") -> int:
        path = results_path(project, uid)
        return sum(1 for p, _ in self.requests if p == path)

    def next_answer(self, path: str) -> Answer:
        queued = self.answers.get(path)
        if not queued:
            return Answer(404, b'{"error": "not found"}')
        return queued.pop(0) if len(queued) > 1 else queued[0]


async def _stream(request: web.Request, api: TuxSuiteAPI, answer: Answer) -> web.StreamResponse:
    resp = web.StreamResponse(status=answer.status)
    resp.content_type = "application/json"
    if answer.declared:
        resp.content_length = answer.stream_bytes
    await resp.prepare(request)
    chunk = b" " * STREAM_CHUNK_BYTES
    try:
        while api.streamed < answer.stream_bytes:
            await resp.write(chunk)
            api.streamed += len(chunk)
    except ConnectionError:
        pass  # the client stopped reading: what the test is about
    return resp


def _app(api: TuxSuiteAPI) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        api.requests.append((request.path, request.headers.get("Authorization")))
        answer = api.next_answer(request.path)
        if answer.stream_bytes:
            return await _stream(request, api, answer)
        return web.Response(status=answer.status, body=answer.body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{path:.*}", handle)
    return app


class _Server:
    """The stand-in's event loop, run in its thread from set-up to clean-up, so that it can be
    started from synchronous code and from inside another loop alike."""

    def __init__(self, api: TuxSuiteAPI) -> None:
        self.api = api
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop, self.stopped = asyncio.get_running_loop(), asyncio.Event()
        runner = web.AppRunner(_app(self.api), handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            self.api.url = f"http://{host}:{port}"
            self.ready.set()
            await self.stopped.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self.loop is not None and self.stopped is not None:
            self.loop.call_soon_threadsafe(self.stopped.set)


@contextmanager
def tuxsuite_api() -> Iterator[TuxSuiteAPI]:
    api = TuxSuiteAPI()
    server = _Server(api)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(timeout=10), "the stand-in of TuxSuite's API did not start"
        yield api
    finally:
        server.stop()
        thread.join(timeout=10)
