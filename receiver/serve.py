"""`tuxhook receiver`: serve HTTP until SIGTERM, then finish the requests in flight."""

from __future__ import annotations

import argparse

import structlog
from aiohttp import web

from receiver.app import create_app
from shared.logs import configure_logging
from shared.settings import Settings


def command(args: argparse.Namespace, settings: Settings) -> int:
    settings = settings.replace(
        host=args.host or settings.host, port=args.port if args.port is not None else settings.port
    )
    configure_logging(settings.log_level)
    app = create_app(settings)
    structlog.get_logger("tuxhook.receiver").info(
        "receiver_starting", host=settings.host, port=settings.port, settings=repr(settings)
    )
    # run_app turns SIGTERM/SIGINT into a graceful stop: stop accepting, then wait up to
    # shutdown_timeout for the handlers in flight before closing their connections.
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        reuse_port=args.reuse_port or None,
        shutdown_timeout=settings.shutdown_timeout_s,
        access_log=None,
        print=None,
    )
    return 0
