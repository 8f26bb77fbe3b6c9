"""Client commands: `tuxhook sign`, `send` and `keys fetch`, a stand-in for TuxSuite."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from shared.cli.signing import load_private_key, sign
from shared.constants import SIGNATURE_HEADER
from shared.errors import ConfigError, UsageError
from shared.keys import KeySet, fetch_keys_text, parse_keys
from shared.settings import Settings

SEND_TIMEOUT_S = 30.0  # seconds for the whole POST


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"--header must look like 'Name: value', not {text!r}")
    return name.strip(), value.strip()


def sign_command(args: argparse.Namespace, _: Settings) -> int:
    key = load_private_key(Path(args.key))
    print(sign(key, Path(args.file).read_bytes()))
    return 0


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def _looks_like_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def check_send_arguments(url: str, file: str) -> None:
    """`tuxhook send FILE URL` is an easy slip: say so, rather than that no file is named URL."""
    if _looks_like_url(url):
        return
    if _looks_like_url(file):
        raise UsageError(f"the URL comes first: tuxhook send {file} {url} --key ...")
    raise UsageError(f"{url!r} is not an http:// or https:// URL: tuxhook send URL FILE --key ...")


def send_command(args: argparse.Namespace, _: Settings) -> int:
    check_send_arguments(args.url, args.file)
    headers = dict(parse_header(h) for h in args.header)
    body = Path(args.file).read_bytes()
    headers["Content-Type"] = "application/json"
    headers[SIGNATURE_HEADER] = sign(load_private_key(Path(args.key)), body)
    try:
        status, text = asyncio.run(_post(args.url, body, headers))
    except (aiohttp.ClientError, TimeoutError) as e:
        raise ConfigError(f"cannot POST to {args.url}: {type(e).__name__}: {e}") from e
    print(f"{status} {text}")
    return 0 if 200 <= status < 300 else 1


async def _fetch(url: str, settings: Settings) -> tuple[str, KeySet]:
    async with aiohttp.ClientSession() as session:
        text = await fetch_keys_text(session, url, settings.tuxsuite_token)
    try:
        return text, parse_keys(text)
    except ConfigError as e:
        raise ConfigError(f"keys URL answered {e.message}; nothing saved") from e


def keys_fetch_command(args: argparse.Namespace, settings: Settings) -> int:
    """Save a group's keys; the document is checked before anything is written."""
    text, found = asyncio.run(_fetch(args.url, settings))
    for why in found.skipped:
        print(f"tuxhook: warning: left out {why}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"saved {len(found.keys)} key(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
