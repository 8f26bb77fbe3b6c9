"""The `tuxhook` command: one parser, each subcommand run from the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from shared.errors import TuxhookError
from shared.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]

# Subcommand -> "module:function", imported only when run, so `tuxhook sign` loads no worker code.
COMMANDS = {
    "dev": "shared.cli.dev:command",
    "receiver": "receiver.serve:command",
    "worker": "worker.run:command",
    "db upgrade": "shared.db.migrate:command",
    "status": "shared.cli.queues:status_command",
    "replay": "shared.cli.queues:replay_command",
    "purge-failed": "shared.cli.queues:purge_command",
    "keys fetch": "shared.cli.client:keys_fetch_command",
    "sign": "shared.cli.client:sign_command",
    "send": "shared.cli.client:send_command",
    "token": "shared.cli.tokens:token_command",
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_serving(sub: argparse._SubParsersAction[Parser]) -> None:
    sub.add_parser("dev", help="run everything locally on the embedded defaults")
    p = sub.add_parser("receiver", help="serve HTTP")
    p.add_argument("--host", help="address to listen on (default: TUXHOOK_HOST)")
    p.add_argument("--port", type=int, help="port to listen on (default: TUXHOOK_PORT)")
    p.add_argument("--reuse-port", action="store_true", help="share the port with siblings")
    p.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="N processes on the port (TUXHOOK_RECEIVER_PROCESSES)",
    )
    p = sub.add_parser("worker", help="run RQ workers, each process on one queue")
    p.add_argument("queues", nargs="*", metavar="QUEUE", help="default: build oebuild test plan")
    p.add_argument("--burst", action="store_true", help="stop once the queues are empty")
    p.add_argument(
        "--pool",
        type=int,
        default=1,
        metavar="N",
        help="N worker processes for each queue, under one parent that replaces any that dies"
        " (default 1: one process per queue)",
    )
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="create or migrate the schema")


def _add_queue_ops(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("status", help="queues, registries and workers")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("replay", help="requeue failed jobs")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--all", action="store_true", help="every failed job")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID")
    p = sub.add_parser("purge-failed", help="delete failed jobs older than a duration")
    p.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30s, 15m, 12h, 7d")
    p.add_argument("--queue", help="only this queue")


def _add_client(sub: argparse._SubParsersAction[Parser]) -> None:
    keys = sub.add_parser("keys", help="TuxSuite keys").add_subparsers(
        dest="keys_command", required=True
    )
    p = keys.add_parser("fetch", help="save a group's keys (token: TUXHOOK_TUXSUITE_TOKEN)")
    p.add_argument("--url", required=True, help=".../v1/groups/<group>/projects/<project>/keys")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p = sub.add_parser("sign", help="print the signature header value for FILE")
    p.add_argument("--key", required=True, help="private key, PEM or OpenSSH")
    p.add_argument("file")
    p = sub.add_parser("send", help="sign FILE and POST it, as TuxSuite would")
    p.add_argument("url")
    p.add_argument("file")
    p.add_argument("--key", required=True, help="private key, PEM or OpenSSH")
    p.add_argument("--header", action="append", default=[], metavar="'K: V'", help="extra header")
    p = sub.add_parser("token", help="mint a JWT from TUXHOOK_ACCESS_KEY")
    p.add_argument("--user", required=True)
    p.add_argument("--slug")
    p.add_argument("--pull-request", type=int)
    p.add_argument("--ttl", type=int, default=5400, help="seconds (default 5400)")
    p.add_argument("--issuer", default="travis-ci.org")


def build_parser() -> Parser:
    parser = Parser(prog="tuxhook", description="Receive, queue and store TuxSuite callbacks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_serving(sub)
    _add_queue_ops(sub)
    _add_client(sub)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    nested = getattr(args, "db_command", None) or getattr(args, "keys_command", None)
    return f"{args.command} {nested}" if nested else str(args.command)


def _resolve(name: str) -> Command:
    module, _, func = COMMANDS[name].partition(":")
    command: Command = getattr(importlib.import_module(module), func)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _resolve(_command_name(args))(args, Settings.from_env())
    except TuxhookError as e:
        print(f"tuxhook: error: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"tuxhook: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
