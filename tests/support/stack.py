"""docker-compose.yml's services as plain child processes: each service's own command and
environment, read from the resolved compose file, with only the addresses compose fixes to its
containers (Redis, the database, the receiver's host and port) pointed at this machine."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.compose import service
from tests.support.processes import RUN_TIMEOUT_S, Process, child_env, wait_http_ok

# What compose points at its own containers; everything else is the file's default.
FIXED = ("TUXHOOK_REDIS_URL", "TUXHOOK_DATABASE_URL", "TUXHOOK_HOST", "TUXHOOK_PORT")
EXIT_TIMEOUT_S = 30.0  # seconds a service may take to stop on SIGTERM
# The `tuxhook` script installed beside this interpreter: what the image's PATH finds.
TUXHOOK = str(Path(sys.executable).with_name("tuxhook"))


def command(name: str) -> list[str]:
    argv = [str(a) for a in service(name)["command"]]
    assert argv[0] == "tuxhook", argv
    return [TUXHOOK, *argv[1:]]


def redis_options() -> dict[str, str]:
    """The redis service's `--name value` options, as CONFIG GET names them."""
    argv = [str(a) for a in service("redis")["command"]]
    assert argv[0] == "redis-server" and len(argv) % 2 == 1, argv
    return {argv[i].removeprefix("--"): argv[i + 1] for i in range(1, len(argv), 2)}


@dataclass(frozen=True)
class Addresses:
    redis_url: str
    database_url: str
    port: int
    keys_file: Path  # compose reads it from CONFIG_DIR, mounted at /etc/tuxhook
    users_file: Path  # likewise: READER's, so that the test can read what the stack stored
    tuxsuite_api_url: str = ""  # a stand-in of TuxSuite's API; "" leaves compose's default


def environment(name: str, at: Addresses) -> dict[str, str]:
    env = {k: "" if v is None else str(v) for k, v in service(name)["environment"].items()}
    assert set(FIXED) <= set(env), name
    env |= {
        "TUXHOOK_REDIS_URL": at.redis_url,
        "TUXHOOK_DATABASE_URL": at.database_url,
        "TUXHOOK_HOST": "127.0.0.1",
        "TUXHOOK_PORT": str(at.port),
        "TUXHOOK_TUXSUITE_KEYS_FILE": str(at.keys_file),
        "TUXHOOK_USERS_FILE": str(at.users_file),
    }
    if at.tuxsuite_api_url:
        env["TUXHOOK_TUXSUITE_API_URL"] = at.tuxsuite_api_url
    return child_env(env)


def migrate(at: Addresses) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("migrate"),
        env=environment("migrate", at),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


@dataclass
class Stack:
    """The receiver and the workers, started after a successful migration, as compose orders."""

    at: Addresses
    logs: Path
    receiver: Process | None = None
    workers: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.at.port}"

    def start(self, workers: int) -> None:
        self.receiver = Process(
            command("receiver"), environment("receiver", self.at), self.logs / "receiver.log"
        )
        wait_http_ok(self.url + "/healthz", self.receiver)
        for i in range(workers):
            log = self.logs / f"worker-{i + 1}.log"
            self.workers.append(Process(command("worker"), environment("worker", self.at), log))

    def stop(self) -> list[int | None]:
        """SIGTERM to each service, as `docker-compose stop` sends; their exit statuses."""
        processes = [*self.workers, *([self.receiver] if self.receiver else [])]
        return [p.stop(EXIT_TIMEOUT_S) for p in processes]

    def output(self) -> str:
        processes = [*([self.receiver] if self.receiver else []), *self.workers]
        return "\n".join(f"--- {p.log_path.name}\n{p.output()[-3000:]}" for p in processes)
