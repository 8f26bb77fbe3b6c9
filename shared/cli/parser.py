"""The `tuxhook` command's parser: one function per command group.

Kept apart from the groups' modules (dev.py, queues.py, client.py, tokens.py, and the
receiver's and the workers' own), so that parsing a command line imports none of them.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from shared.constants import KINDS, OUTCOMES_PAGE_DEFAULT, OUTCOMES_PAGE_MAX, RESULTS, STATES

# GET /v1/outcomes's filters, as the options of `tuxhook outcomes`: tests/pages/test_cli.py
# holds them to shared/db/queries.py's Filters, which this module does not import.
OUTCOME_FILTERS = (
    "kind", "project", "state", "result", "device", "target_arch", "build_uid", "oebuild_uid",
    "git_sha", "git_describe", "toolchain", "build_name", "plan", "test", "since",
)  # fmt: skip
_FILTER_CHOICES = {"kind": KINDS, "state": STATES, "result": RESULTS}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _commands(parser: Parser, dest: str) -> argparse._SubParsersAction[Parser]:
    """The subcommands of `parser`. Given none, main() prints `parser`'s help: its commands."""
    parser.set_defaults(commands_of=parser)
    return parser.add_subparsers(
        dest=dest, title="commands", metavar="COMMAND", parser_class=Parser
    )


def _add_serving(sub: argparse._SubParsersAction[Parser]) -> None:
    sub.add_parser(
        "dev", help="Redis (if none answers), the store, the workers and the receiver, locally"
    )
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
    p.add_argument(
        "queues", nargs="*", metavar="QUEUE", help="default: build oebuild test plan notify"
    )
    p.add_argument("--burst", action="store_true", help="stop once the queues are empty")
    p.add_argument(
        "--pool",
        type=int,
        default=1,
        metavar="N",
        help="N worker processes for each queue, under one parent that replaces any that dies"
        " (default 1: one process per queue)",
    )
    # `tuxhook dev` runs the workers beside a receiver whose start-up line shows the settings.
    p.add_argument("--settings-logged", action="store_true", help=argparse.SUPPRESS)
    db = _commands(sub.add_parser("db", help="the outcome store's schema"), "db_command")
    db.add_parser("upgrade", help="create or migrate the schema")


def _add_queue_ops(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("status", help="queues, registries and workers")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("failed", help="failed jobs, each with why it failed")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("replay", help="requeue failed jobs")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--all", action="store_true", help="every failed job")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID")
    notify = _commands(sub.add_parser("notify", help="notifications"), "notify_command")
    p = notify.add_parser("test", help="send a test event to one sink and print its answer")
    p.add_argument("sink", metavar="SINK", help="a sink of TUXHOOK_NOTIFY_FILE")
    p = sub.add_parser("purge-failed", help="delete failed jobs older than a duration")
    p.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30s, 15m, 12h, 7d")
    p.add_argument("--queue", help="only this queue")


def _add_client(sub: argparse._SubParsersAction[Parser]) -> None:
    keys = _commands(sub.add_parser("keys", help="TuxSuite keys"), "keys_command")
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
    p.add_argument("--slug", help="what the token reports (a user with a slugs list needs it)")
    p.add_argument("--pull-request", type=int)
    p.add_argument("--ttl", type=int, default=5400, help="seconds (default 5400)")
    p.add_argument(
        "--max-ttl",
        type=int,
        default=5400,
        metavar="SECONDS",
        help="the issuer's max_lifetime in the receiver's users file, if over 5400",
    )
    p.add_argument("--issuer", default="travis-ci.org")


def _page_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= OUTCOMES_PAGE_MAX:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {OUTCOMES_PAGE_MAX}")
    return int(text)


def _add_outcomes(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("outcomes", help="stored outcomes, the most recently updated first")
    for name in OUTCOME_FILTERS:
        option = "--" + name.replace("_", "-")
        if name == "since":
            p.add_argument(option, metavar="TIME", help="updated at or after: ISO 8601, or 7d")
        else:
            p.add_argument(option, choices=_FILTER_CHOICES.get(name), help=f"only this {name}")
    p.add_argument(
        "--limit",
        type=_page_size,
        default=OUTCOMES_PAGE_DEFAULT,
        metavar="N",
        help=f"outcomes per page (default {OUTCOMES_PAGE_DEFAULT})",
    )
    p.add_argument("--cursor", help="where the previous page ended (it prints it)")
    p.add_argument("--json", action="store_true", help="print GET /v1/outcomes's JSON")
    p = sub.add_parser("show", help="one stored outcome, every field")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("uid")
    p.add_argument("--json", action="store_true", help="print GET /v1/outcomes/KIND/UID's JSON")


def _add_regressions(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("regressions", help="regressions and fixes, newest first")
    p.add_argument("--project", help="only this project (group/project)")
    p.add_argument("--since", metavar="WHEN", help="detected since: 7d, 12h, or an ISO 8601 time")
    p.add_argument("--type", choices=("regression", "fix"), help="only regressions, or fixes")
    p.add_argument("--device", help="only tests on this device")
    p.add_argument("--superseded", action="store_true", help="also those a late run superseded")
    p.add_argument("--limit", type=_page_size, default=OUTCOMES_PAGE_DEFAULT, help="rows per page")
    p.add_argument("--cursor", help="the next page, as the previous one printed it")
    p.add_argument("--json", action="store_true", help="print GET /v1/regressions's JSON")


def build_parser() -> Parser:
    parser = Parser(prog="tuxhook", description="Receive, queue and store TuxSuite callbacks.")
    sub = _commands(parser, "command")
    _add_serving(sub)
    _add_queue_ops(sub)
    _add_client(sub)
    _add_outcomes(sub)
    _add_regressions(sub)
    return parser
