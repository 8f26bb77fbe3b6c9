"""`tuxhook dev`: the whole service on one machine, on the embedded defaults.

Starts, in this order: a redis-server when none answers at TUXHOOK_REDIS_URL, `tuxhook db
upgrade`, `tuxhook worker` (a worker process per queue, each running RQ's scheduler, under one
parent) and `tuxhook receiver`. With no keys and no users file configured, it verifies with the
published demo key and demo user (shared/demo/), on loopback only. Ctrl-C, SIGTERM or SIGHUP
stops them in the reverse order (supervisor.py says why the order matters). For trying tuxhook
out, not for production.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

from shared.cli.supervisor import Stop, Supervisor
from shared.constants import QUEUE_NAMES
from shared.errors import ConfigError
from shared.settings import Settings

VAR = Path("var")
DEMO = Path(__file__).resolve().parents[1] / "demo"
DEMO_BUILD_UID = "2QpE0aJbVn6S1rKx9WmT3yZcH4u"  # shared/demo/build.json's
REDIS_START_TIMEOUT_S = 10.0  # seconds for a local redis-server to answer
READY_TIMEOUT_S = 30.0  # seconds for the receiver to answer /healthz
POLL_S = 0.1  # seconds between two looks at Redis or the receiver while they start


def say(line: str) -> None:
    print(f"tuxhook dev: {line}", flush=True)


def shown(path: Path) -> str:
    """A path as the user would type it here: relative under the current folder."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except RedisError:
        return False


def start_local_redis(url: str, supervisor: Supervisor) -> None:
    binary = shutil.which("redis-server")
    host, port = urlsplit(url).hostname or "127.0.0.1", str(urlsplit(url).port or 6379)
    if binary is None or not is_loopback(host):
        raise ConfigError(f"no Redis answers at {host}:{port}, and tuxhook dev cannot start one")
    say(f"no Redis answers at {host}:{port}: starting redis-server there (its data in var/)")
    args = [binary, "--port", port, "--bind", "127.0.0.1", "--dir", str(VAR.resolve())]
    args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    with (VAR / "redis.log").open("ab") as log:
        supervisor.start("redis-server", args, output=log)
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while not redis_answers(url):
        if time.monotonic() > deadline:
            raise ConfigError("the local redis-server did not start; see var/redis.log")
        time.sleep(POLL_S)


def child_environment(settings: Settings) -> tuple[dict[str, str], bool]:
    """The children's environment, and whether it verifies with the published demo key and
    user: only when nothing else is configured, and only on loopback."""
    env = dict(os.environ)
    names = ("TUXSUITE_KEYS_FILE", "TUXSUITE_KEYS_URL", "USERS_FILE")
    if any(env.get(f"TUXHOOK_{name}", "").strip() for name in names):
        return env, False
    if not is_loopback(settings.host):
        raise ConfigError(
            f"no keys configured, and tuxhook dev's demo key is published: on {settings.host},"
            " set TUXHOOK_TUXSUITE_KEYS_FILE, TUXHOOK_TUXSUITE_KEYS_URL or TUXHOOK_USERS_FILE"
        )
    env["TUXHOOK_TUXSUITE_KEYS_FILE"] = str(DEMO / "keys.json")
    env["TUXHOOK_USERS_FILE"] = str(DEMO / "users.toml")
    return env, True


def open_reads_on_loopback(env: dict[str, str], host: str) -> bool:
    """On a loopback address, reads need no credentials (TUXHOOK_READ_ACCESS=open) unless the
    environment says otherwise; anywhere else they stay closed. True if opened."""
    if not is_loopback(host) or env.get("TUXHOOK_READ_ACCESS", "").strip():
        return False
    env["TUXHOOK_READ_ACCESS"] = "open"
    return True


def _tuxhook(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


def wait_ready(settings: Settings, supervisor: Supervisor) -> None:
    """Until the receiver answers, so that what is announced next can be done at once."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(child.popen.poll() is not None for child in supervisor.children):
            return  # the supervisor's wait reports it
        connection = http.client.HTTPConnection(settings.host, settings.port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse()
            return
        except OSError:
            time.sleep(POLL_S)
        finally:
            connection.close()


def announce(url: str, demo: bool) -> None:
    tuxhook = Path(sys.executable).with_name("tuxhook")
    command = shown(tuxhook) if tuxhook.exists() else "tuxhook"
    say(
        f"running the receiver on {url}, a worker process per queue ({', '.join(QUEUE_NAMES)}),"
        " each with RQ's scheduler, under one parent; Ctrl-C stops them all"
    )
    if not demo:
        say(
            f"send a callback signed with your key: {command} send {url}/v1/callbacks/tuxsuite"
            " FILE --key PRIVATE.pem"
        )
        return
    say(
        "send the demo build, signed with the demo key, and read what the workers stored:\n"
        f"  {command} send {url}/v1/callbacks/tuxsuite {shown(DEMO / 'build.json')}"
        f" --key {shown(DEMO / 'demo-key.pem')}\n"
        f"  curl {url}/v1/outcomes/build/{DEMO_BUILD_UID}\n"
        'README.md, "Trying it out", sends the whole demo plan and mints a token'
    )


def run(supervisor: Supervisor, settings: Settings) -> int:
    env, demo = child_environment(settings)
    VAR.mkdir(exist_ok=True)
    if demo:
        say(
            f"no keys or users file configured: verifying with the demo key and user in"
            f" {shown(DEMO)}, which are published (anyone can sign with them)"
        )
    if open_reads_on_loopback(env, settings.host):
        say(f"reads need no credentials on {settings.host} (TUXHOOK_READ_ACCESS=open)")
    if not redis_answers(settings.redis_url):
        start_local_redis(settings.redis_url, supervisor)
    if supervisor.run("tuxhook db upgrade", _tuxhook("db", "upgrade"), env) != 0:
        raise ConfigError("`tuxhook db upgrade` failed; see above")
    supervisor.start("the workers", _tuxhook("worker", "--settings-logged"), env)
    supervisor.start("the receiver", _tuxhook("receiver"), env)
    url = f"http://{settings.host}:{settings.port}"
    wait_ready(settings, supervisor)
    announce(url, demo)
    exited = supervisor.wait()
    say(f"{exited.name} exited with status {exited.popen.returncode}")
    return 1


def command(_: argparse.Namespace, settings: Settings) -> int:
    supervisor = Supervisor()
    code = 1
    try:
        code = run(supervisor, settings)
    except Stop as stop:
        code = 128 + stop.signum
    finally:
        stopped = supervisor.stop_all()
        if stopped:
            say(f"stopped {', '.join(stopped[:-1])}{' and ' if stopped[1:] else ''}{stopped[-1]}")
    return code
