"""`tuxhook dev`: the whole service on one machine, on the embedded defaults.

Uses the Redis at TUXHOOK_REDIS_URL or starts a local redis-server when none answers, generates
a demo key pair when no key is configured, migrates the SQLite store and runs a worker beside
the receiver. For trying tuxhook out, not for production.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

from shared.cli.signing import generate_key_pair
from shared.errors import ConfigError
from shared.settings import Settings

VAR = Path("var")
REDIS_START_TIMEOUT_S = 10.0  # seconds for a local redis-server to answer
SUPERVISE_INTERVAL_S = 0.5  # seconds between two looks at the receiver and the worker


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except RedisError:
        return False


def start_local_redis(url: str, stack: ExitStack) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigError(f"no Redis answers at {url} and redis-server is not installed")
    port = str(urlsplit(url).port or 6379)
    print(f"tuxhook dev: no Redis at {url}; starting redis-server on port {port} (data in var/)")
    log = stack.enter_context((VAR / "redis.log").open("ab"))
    args = [binary, "--port", port, "--bind", "127.0.0.1", "--dir", str(VAR.resolve())]
    args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    stack.enter_context(_terminating(subprocess.Popen(args, stdout=log, stderr=log)))
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while not redis_answers(url):
        if time.monotonic() > deadline:
            raise ConfigError("the local redis-server did not start; see var/redis.log")
        time.sleep(0.1)


class _terminating:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def __enter__(self) -> subprocess.Popen[bytes]:
        return self.proc

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)


def demo_keys(env: dict[str, str]) -> Path | None:
    """Generate (once) and configure a demo key pair when nothing else can verify."""
    if any(
        env.get(f"TUXHOOK_{n}") for n in ("TUXSUITE_KEYS_FILE", "TUXSUITE_KEYS_URL", "USERS_FILE")
    ):
        return None
    private, public = VAR / "demo-key.pem", VAR / "demo-key.pub"
    if not private.exists():
        generate_key_pair(private, public)
        print(f"tuxhook dev: generated a demo key pair: {private} (private), {public} (public)")
    env["TUXHOOK_TUXSUITE_KEYS_FILE"] = str(public)
    return private


def _tuxhook(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


def _start(stack: ExitStack, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return stack.enter_context(_terminating(subprocess.Popen(_tuxhook(*args), env=env)))


def _interrupt(*_: object) -> None:
    # SIGTERM ends `tuxhook dev` as Ctrl-C does, so that its children are stopped too.
    raise KeyboardInterrupt


def _supervise(*procs: subprocess.Popen[bytes]) -> int:
    """Wait until one of the processes exits; its exit code."""
    while True:
        for proc in procs:
            if (code := proc.poll()) is not None:
                return code
        time.sleep(SUPERVISE_INTERVAL_S)


def command(_: argparse.Namespace, settings: Settings) -> int:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    private = demo_keys(env)
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        if not redis_answers(settings.redis_url):
            start_local_redis(settings.redis_url, stack)
        if subprocess.call(_tuxhook("db", "upgrade"), env=env) != 0:
            raise ConfigError("`tuxhook db upgrade` failed; see above")
        # Stopped in reverse order: the receiver first, then the worker, then Redis.
        worker = _start(stack, env, "worker")
        receiver = _start(stack, env, "receiver")
        url = f"http://{settings.host}:{settings.port}"
        key = private or "PRIVATE.pem"
        print(
            f"tuxhook dev: receiver on {url}, one worker; send a signed demo callback with\n"
            f"  .venv/bin/tuxhook send {url}/v1/callbacks/tuxsuite tests/samples/build.json"
            f" --key {key}\n"
            f"and read what the worker stored with\n"
            f"  curl {url}/v1/outcomes"
        )
        return _supervise(receiver, worker)
