"""`tuxhook receiver`: serve HTTP until SIGTERM, then finish the requests in flight."""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import dataclass

import structlog
from aiohttp import web
from yarl import URL

from receiver.aiohttp_internals import ReceiverRunner, check_aiohttp_contract
from receiver.app import create_app
from receiver.draining import IN_FLIGHT
from receiver.rq import check_rq_contract
from receiver.state import STATE
from receiver.supervise import Supervisor
from shared.constants import SHUTDOWN_CLOSE_GRACE_S, SHUTDOWN_DISPATCH_GRACE_S
from shared.db.engine import store_location
from shared.errors import UsageError
from shared.logs import configure_logging
from shared.settings import Settings

log = structlog.get_logger("tuxhook.receiver")


def _with_args(args: argparse.Namespace, settings: Settings) -> Settings:
    if args.processes is not None and args.processes < 1:
        raise UsageError("--processes must be at least 1")
    return settings.replace(
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        receiver_processes=args.processes or settings.receiver_processes,
    )


def command(args: argparse.Namespace, settings: Settings) -> int:
    check_rq_contract()
    check_aiohttp_contract()
    settings = _with_args(args, settings)
    configure_logging(settings.log_level)
    app = create_app(settings)  # a bad setting fails here, once, before any child starts
    log.info(
        "receiver_starting",
        host=settings.host,
        port=settings.port,
        store=store_location(settings.database_url),
        settings=repr(settings),
    )
    if settings.receiver_processes > 1:
        return Supervisor(settings, settings.receiver_processes).run()
    asyncio.run(serve(app, settings, reuse_port=args.reuse_port))
    return 0


async def serve(app: web.Application, settings: Settings, *, reuse_port: bool = False) -> None:
    """Serve until SIGTERM or SIGINT; then stop listening, drain, and close.

    Not web.run_app: its stop marks connections closing first, which drops request bodies
    still uploading (see receiver/draining.py). A second signal kills at once.
    """
    listening = await listen(app, settings.host, settings.port, reuse_port=reuse_port)
    try:
        await until_signalled()
        await drain(app, listening.site, settings.shutdown_timeout_s)
    finally:
        await listening.close()


@dataclass
class Listening:
    """A receiver application served on a TCP port."""

    app: web.Application
    runner: web.AppRunner
    site: web.TCPSite

    @property
    def host(self) -> str:
        return str(self.runner.addresses[0][0])

    @property
    def port(self) -> int:
        return self.site.port

    def make_url(self, path: str) -> URL:
        return URL.build(scheme="http", host=self.host, port=self.port, path=path)

    async def close(self) -> None:
        await self.runner.cleanup()


async def listen(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> Listening:
    """Serve `app` (create_app's) on host:port (0: any free port) until `close()`."""
    settings, metrics = app[STATE].settings, app[STATE].metrics
    runner = ReceiverRunner(
        app,
        settings.max_connections,
        metrics.busy.labels("connections").inc,
        access_log=None,
        shutdown_timeout=SHUTDOWN_CLOSE_GRACE_S,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return Listening(app, runner, site)


async def until_signalled() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)


async def drain(app: web.Application, site: web.TCPSite, timeout_s: float) -> None:
    # Closing the listening socket first sends new connections to a sibling sharing the port
    # (--reuse-port), or refuses them, while the connections already open carry on.
    await site.stop()
    await asyncio.sleep(SHUTDOWN_DISPATCH_GRACE_S)
    in_flight = app[IN_FLIGHT]
    log.info("receiver_draining", in_flight=in_flight.count, timeout_s=timeout_s)
    if await in_flight.drain(timeout_s):
        log.info("receiver_drained")
    else:
        log.warning("receiver_drain_timed_out", abandoned=in_flight.count)
