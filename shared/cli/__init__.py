"""The `tuxhook` command: one parser (parser.py), each subcommand run from the module that owns
it, named by dotted path in COMMANDS.

The commands that run the receiver or the workers live beside them; this package names them as
queued jobs name their handlers, and imports them only when run, so that `shared/` never
imports `receiver/` or `worker/` and `tuxhook sign` loads no worker code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from shared.cli.parser import build_parser
from shared.errors import TuxhookError
from shared.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]

# Subcommand -> "module:function"; each is called with the parsed arguments and the Settings.
COMMANDS = {
    "dev": "shared.cli.dev:command",
    "receiver": "receiver.serve:command",
    "worker": "worker.run:command",
    "db upgrade": "shared.db.migrate:command",
    "status": "shared.cli.queues:status_command",
    "failed": "shared.cli.queues:failed_command",
    "replay": "shared.cli.queues:replay_command",
    "purge-failed": "shared.cli.queues:purge_command",
    "notify test": "worker.notify.try_sink:command",
    "keys fetch": "shared.cli.client:keys_fetch_command",
    "sign": "shared.cli.client:sign_command",
    "send": "shared.cli.client:send_command",
    "token": "shared.cli.tokens:token_command",
    "outcomes": "shared.cli.outcomes:outcomes_command",
    "show": "shared.cli.outcomes:show_command",
    "regressions": "shared.cli.regressions:regressions_command",
}


def command_name(args: argparse.Namespace) -> str:
    nested = next(
        (
            getattr(args, f"{group}_command", None)
            for group in ("db", "keys", "notify")
            if getattr(args, f"{group}_command", None)
        ),
        None,
    )
    return f"{args.command} {nested}" if nested else str(args.command)


def resolve(name: str) -> Command:
    module, _, func = COMMANDS[name].partition(":")
    command: Command = getattr(importlib.import_module(module), func)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = command_name(args)
    if name not in COMMANDS:  # `tuxhook`, `tuxhook db`: which commands there are
        args.commands_of.print_help(sys.stderr)
        return 2
    try:
        code = resolve(name)(args, Settings.from_env())
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except BrokenPipeError:
        return _reader_left()
    except TuxhookError as e:
        print(f"tuxhook: error: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"tuxhook: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _reader_left() -> int:
    """`tuxhook status | head -3`: the reader has what it wanted, which is not an error. What is
    still buffered goes nowhere, so that the flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0
