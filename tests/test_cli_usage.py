"""The `tuxhook` command as a newcomer first meets it: what it says when given too little, the
wrong order or a bad setting, and a reader that stops reading early. Every case runs the real
command in a child process."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from shared.cli import COMMANDS
from tests.support.cli import CLI_TIMEOUT_S, one_line_error, run_cli
from tests.support.processes import child_env, tuxhook_command
from tests.support.redis_server import RedisServer


@pytest.mark.parametrize(
    ("args", "commands"),
    [
        ((), sorted({name.split()[0] for name in COMMANDS})),
        (("db",), ["upgrade"]),
        (("keys",), ["fetch"]),
    ],
    ids=["tuxhook", "tuxhook db", "tuxhook keys"],
)
def test_a_command_without_its_subcommand_lists_them(
    args: tuple[str, ...], commands: list[str]
) -> None:
    result = run_cli({}, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"usage: {' '.join(('tuxhook', *args))} [-h] COMMAND")
    listed = [ln.split()[0] for ln in result.stderr.splitlines() if re.match(r"    \S", ln)]
    assert sorted(listed) == sorted(commands)
    assert "_command" not in result.stderr and "required" not in result.stderr


def test_send_with_its_arguments_swapped_says_so() -> None:
    url = "http://127.0.0.1:9/v1/callbacks/tuxsuite"
    line = one_line_error(run_cli({}, "send", "shared/demo/build.json", url, "--key", "k.pem"))
    assert line == (
        f"tuxhook: error: the URL comes first: tuxhook send {url} shared/demo/build.json --key ..."
    )


def test_send_to_something_that_is_no_url_says_so() -> None:
    line = one_line_error(run_cli({}, "send", "build.json", "other.json", "--key", "k.pem"))
    assert line == (
        "tuxhook: error: 'build.json' is not an http:// or https:// URL:"
        " tuxhook send URL FILE --key ..."
    )


SUPPORTED = "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE (or postgresql://)"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"TUXHOOK_MAX_BODY_BYTES": "1MB"},
            "TUXHOOK_MAX_BODY_BYTES: '1MB' is not a whole number;"
            " expected an integer number of bytes, like 1048576",
        ),
        (
            {"TUXHOOK_PORT": "abc"},
            "TUXHOOK_PORT: 'abc' is not a whole number;"
            " expected a port number from 0 to 65535, like 8080",
        ),
        (
            {"TUXHOOK_SHUTDOWN_TIMEOUT": "nan"},
            "TUXHOOK_SHUTDOWN_TIMEOUT: 'nan' is not a positive number;"
            " expected a number of seconds above 0, like 30",
        ),
        (
            {"TUXHOOK_DATABASE_URL": "redis://127.0.0.1:6379/0"},
            f"TUXHOOK_DATABASE_URL: redis:// is not a store tuxhook supports; {SUPPORTED}",
        ),
    ],
    ids=["bytes", "port", "seconds", "redis-as-database"],
)
def test_a_malformed_setting_is_one_line_saying_what_is_expected(
    env: dict[str, str], line: str
) -> None:
    assert one_line_error(run_cli(env, "receiver", "--port", "0")) == f"tuxhook: error: {line}"


@pytest.mark.parametrize(
    ("url", "scheme"), [("mysql://tux:s3cret@127.0.0.1/x", "mysql"), ("http://example/x", "http")]
)
@pytest.mark.parametrize(
    "command", [("db", "upgrade"), ("worker", "--burst"), ("receiver", "--port", "0")]
)
def test_an_unsupported_store_is_one_line_naming_the_supported_ones(
    url: str, scheme: str, command: tuple[str, ...]
) -> None:
    result = run_cli({"TUXHOOK_DATABASE_URL": url}, *command)
    assert one_line_error(result) == (
        f"tuxhook: error: TUXHOOK_DATABASE_URL: {scheme}:// is not a store tuxhook supports;"
        f" {SUPPORTED}"
    )
    assert "s3cret" not in result.stderr


def test_a_reader_that_stops_early_is_not_an_error(redis_server: RedisServer) -> None:
    """`tuxhook status | head -3`, with the reader gone before a byte is written: the command
    exits 0, quietly, rather than print `Broken pipe` or a traceback."""
    read, write = os.pipe()
    os.close(read)  # a real pipe whose reader has left
    try:
        result = subprocess.run(
            tuxhook_command("status"),
            env=child_env({"TUXHOOK_REDIS_URL": redis_server.url}),
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_reader_of_the_first_lines_gets_them(redis_server: RedisServer) -> None:
    """The same through a shell pipeline, as typed: head has its line, and nothing complains."""
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{' '.join(tuxhook_command('status'))} | head -1"],
        env=child_env({"TUXHOOK_REDIS_URL": redis_server.url}),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 1
