"""The receiver as gunicorn's aiohttp worker loads it: `gunicorn bench.gunicorn_app:app
-k aiohttp.GunicornWebWorker`. Only for bench/receivers.py's comparison."""

from __future__ import annotations

from aiohttp import web

from receiver.app import create_app
from shared.settings import Settings


async def app() -> web.Application:
    return create_app(Settings.from_env())
