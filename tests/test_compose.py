"""docker-compose.yml and the Dockerfile: every service, healthcheck, volume and setting.

No Docker engine here: the file is checked by `docker-compose config` (which resolves anchors
and interpolation exactly as `up` would) and by reading what it resolves to.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from shared.settings import Settings
from tests.support.compose import ROOT, compose, resolve, resolved, service
from tests.support.processes import child_env, run_tuxhook

SERVICES = {"redis", "postgres", "migrate", "receiver", "worker", "rq-dashboard", "caddy"}
SETTING_NAMES = {f.metadata["env"] for f in dataclasses.fields(Settings)}


def seconds(duration: str) -> float:
    """A compose duration (90s, 1m30s, 2h) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@pytest.mark.parametrize("profile", [(), ("--profile", "tls")], ids=["default", "tls"])
def test_compose_config_is_valid(profile: tuple[str, ...]) -> None:
    result = compose(*profile, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_every_service_is_there() -> None:
    assert set(resolved()["services"]) == SERVICES


def test_redis_keeps_an_append_only_file_on_a_named_volume() -> None:
    """What every 2xx being stored needs of Redis (docs/reliability.md)."""
    redis = service("redis")
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command  # REDIS_APPENDFSYNC=always for host crashes
    assert "redis-data:/data:rw" in redis["volumes"]
    assert "redis-data" in resolved()["volumes"]
    assert "redis-cli" in redis["healthcheck"]["test"]


def test_postgres_has_a_volume_and_a_healthcheck() -> None:
    postgres = service("postgres")
    assert "postgres-data:/var/lib/postgresql/data:rw" in postgres["volumes"]
    assert "postgres-data" in resolved()["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_migrate_runs_once_before_receiver_and_workers() -> None:
    migrate = service("migrate")
    assert migrate["command"] == ["tuxhook", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("receiver", "worker"):
        assert service(name)["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_receiver_and_worker_run_one_image() -> None:
    receiver, worker, migrate = service("receiver"), service("worker"), service("migrate")
    assert receiver["image"] == worker["image"] == migrate["image"] == "tuxhook:latest"
    assert receiver["build"]["target"] == worker["build"]["target"] == "tuxhook"
    assert receiver["command"] == ["tuxhook", "receiver"]
    assert worker["command"] == ["tuxhook", "worker"]


def test_receiver_healthcheck_calls_readyz_without_curl() -> None:
    test = service("receiver")["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "/readyz" in test[3]


def test_worker_scales_and_finishes_its_job_on_stop() -> None:
    worker = service("worker")
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker
    job_timeout = int(worker["environment"]["TUXHOOK_JOB_TIMEOUT"])
    assert job_timeout == Settings().job_timeout_s
    assert seconds(worker["stop_grace_period"]) > job_timeout


def test_receiver_stop_grace_covers_its_shutdown_timeout() -> None:
    receiver = service("receiver")
    shutdown = float(receiver["environment"]["TUXHOOK_SHUTDOWN_TIMEOUT"])
    assert seconds(receiver["stop_grace_period"]) > shutdown


@pytest.mark.parametrize("name", ["migrate", "receiver", "worker"])
def test_every_setting_is_an_environment_variable(name: str) -> None:
    env = service(name)["environment"]
    assert {k for k in env if k.startswith("TUXHOOK_")} == SETTING_NAMES
    settings = Settings.from_env(env)  # and the defaults given are valid values
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_dashboard_reads_the_same_redis_as_json() -> None:
    dashboard = service("rq-dashboard")
    env = dashboard["environment"]
    assert env["RQ_DASHBOARD_JSON"] == "true"  # rq-dashboard's --json flag, via click's env
    assert env["RQ_DASHBOARD_REDIS_URL"] == service("worker")["environment"]["TUXHOOK_REDIS_URL"]
    assert dashboard["build"]["target"] == "dashboard"
    assert dashboard["ports"] == ["127.0.0.1:9181:9181/tcp"]  # loopback: it can delete jobs


def dockerfile_stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            lines = stages.setdefault(line.split()[-1], [line])
        elif line and not line.startswith("#"):
            lines.append(line)
    return stages


def test_image_is_slim_and_runs_as_a_user() -> None:
    stages = dockerfile_stages()
    assert list(stages)[-1] == "tuxhook"  # the default target of a plain `docker build`
    for name in ("tuxhook", "dashboard"):
        assert stages[name][0] == f"FROM base AS {name}"
        assert "USER tuxhook" in stages[name]
    assert stages["base"][0] == "FROM python:3.11-slim AS base"
    assert any("useradd" in line and "tuxhook" in line for line in stages["base"])


def test_image_installs_from_the_locks() -> None:
    """The image runs the versions CI tested: every dependency from a lock, checked against its
    hashes, and the package itself without resolving anything."""
    stages = dockerfile_stages()
    runs = {
        name: [ln for ln in lines if ln.startswith("RUN pip install")]
        for name, lines in stages.items()
    }
    assert runs["base"] == [
        "RUN pip install --require-hashes -r /tmp/runtime.txt && rm /tmp/runtime.txt",
        "RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels",
    ]
    assert "COPY requirements/runtime.txt /tmp/runtime.txt" in stages["base"]
    assert runs["dashboard"] == [
        "RUN pip install --require-hashes -r /tmp/dashboard.txt && rm /tmp/dashboard.txt"
    ]
    assert "COPY requirements/dashboard.txt /tmp/dashboard.txt" in stages["dashboard"]
    assert runs["tuxhook"] == []
    assert any("pip wheel --no-deps" in line for line in stages["build"])


def test_dockerignore_sends_only_the_package_and_its_locks() -> None:
    kept = [ln for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.startswith("!")]
    assert sorted(kept) == [
        "!README.md",
        "!pyproject.toml",
        "!receiver/",
        "!requirements/dashboard.txt",
        "!requirements/runtime.txt",
        "!shared/",
        "!worker/",
    ]


def test_docs_list_every_setting() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(TUXHOOK_[A-Z_]+)`", text, flags=re.MULTILINE))
    assert documented >= SETTING_NAMES


def test_healthcheck_command_runs_here() -> None:
    """The healthcheck is plain Python: it fails (non-zero) when nothing answers."""
    code = service("receiver")["healthcheck"]["test"][3].replace(":8080/", ":9/")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert result.returncode != 0


PASSWORD = "p@ss/w#rd"


@pytest.fixture(params=["environment", "env-file"])
def with_password(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The stack resolved with POSTGRES_PASSWORD set in the shell, or in a .env file."""
    if request.param == "environment":
        return resolve(settings={"POSTGRES_PASSWORD": PASSWORD})
    env_file = tmp_path / ".env"
    env_file.write_text(f"POSTGRES_PASSWORD={PASSWORD}\n", encoding="utf-8")
    return resolve("--env-file", str(env_file))


@pytest.mark.parametrize("name", ["migrate", "receiver", "worker"])
def test_any_password_reaches_postgresql_as_it_is(with_password: dict[str, Any], name: str) -> None:
    env = with_password["services"][name]["environment"]
    assert with_password["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == PASSWORD
    assert env["PGPASSWORD"] == PASSWORD
    url = make_url(Settings.from_env(env).database_url)
    assert (url.username, url.password, url.host, url.database) == (
        "tuxhook",
        None,
        "postgres",
        "tuxhook",
    )


@pytest.mark.postgres
def test_tuxhook_connects_with_the_stacks_settings(postgres_database: str) -> None:
    """The stack's environment, for a database on this machine's PostgreSQL: `db upgrade`
    connects, and libpq, under psycopg, holds the password PGPASSWORD gave it, unquoted.
    (This PostgreSQL trusts local connections, so it does not check the password itself.)"""
    database = make_url(postgres_database)
    settings = {
        "POSTGRES_PASSWORD": PASSWORD,
        "POSTGRES_USER": str(database.username),
        "POSTGRES_DB": str(database.database),
    }
    env = resolve(settings=settings)["services"]["migrate"]["environment"]
    # The one change: the stack's `postgres` service is this machine's server.
    env["TUXHOOK_DATABASE_URL"] = env["TUXHOOK_DATABASE_URL"].replace(
        "@postgres:5432/", f"@{database.host}:{database.port or 5432}/"
    )
    upgraded = run_tuxhook(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert PASSWORD not in upgraded.stdout + upgraded.stderr
    used = subprocess.run(
        [sys.executable, "-c", PASSWORD_USED],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert used.stdout == f"{PASSWORD}\n"


# What psycopg's connection, made from the settings as tuxhook makes it, was given as password.
PASSWORD_USED = """
from shared.db.engine import create_engine
from shared.settings import Settings

engine = create_engine(Settings.from_env().database_url, lock_timeout_s=1)
with engine.connect() as conn:
    print(conn.connection.dbapi_connection.info.password)
"""


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".env", True),
        ("config/users.toml", True),
        ("config/notify.toml", True),
        ("config/keys.json", True),
        ("config/README.md", False),
    ],
)
def test_secrets_are_ignored_and_config_is_shipped(path: str, ignored: bool) -> None:
    check = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, timeout=30, check=False
    )
    assert check.returncode == (0 if ignored else 1)


def test_the_default_config_dir_exists_and_says_what_goes_there() -> None:
    mounted = service("receiver")["volumes"]
    assert [v for v in mounted if v.endswith(":/etc/tuxhook:ro")] == [
        f"{ROOT / 'config'}:/etc/tuxhook:ro"
    ]
    readme = (ROOT / "config" / "README.md").read_text(encoding="utf-8")
    for name in (
        "keys.json",
        "users.toml",
        "notify.toml",
        "TUXHOOK_TUXSUITE_KEYS_FILE",
        "TUXHOOK_USERS_FILE",
        "TUXHOOK_NOTIFY_FILE",
    ):
        assert name in readme


def published(name: str) -> list[tuple[str, int, str]]:
    """(host address, host port, protocol) of each port `name` publishes; "" is every address."""
    ports = []
    for port in service(name).get("ports", []):
        if isinstance(port, str):  # "127.0.0.1:8080:8080/tcp"
            address, host_port, rest = (
                port.rsplit(":", 2) if port.count(":") > 1 else ("", *port.split(":"))
            )
            ports.append((address, int(host_port), rest.partition("/")[2] or "tcp"))
        else:
            ports.append(
                (port.get("host_ip", ""), int(port["published"]), port.get("protocol", "tcp"))
            )
    return ports


def test_only_the_tls_proxy_is_published_on_every_address() -> None:
    """Plain HTTP carries credentials: everything else is on the host's loopback by default."""
    for name in SERVICES - {"caddy"}:
        assert all(address == "127.0.0.1" for address, _, _ in published(name)), name
    assert published("receiver") == [("127.0.0.1", 8080, "tcp")]
    assert sorted(published("caddy")) == [("", 80, "tcp"), ("", 443, "tcp"), ("", 443, "udp")]


def test_the_tls_proxy_is_a_profile_in_front_of_a_healthy_receiver() -> None:
    caddy = service("caddy")
    assert caddy["profiles"] == ["tls"]
    assert caddy["image"].startswith("caddy:2")
    assert caddy["depends_on"]["receiver"] == {"condition": "service_healthy"}
    assert f"{ROOT / 'deploy' / 'Caddyfile'}:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {"caddy-data:/data:rw", "caddy-config:/config:rw"} <= set(caddy["volumes"])
    assert {"caddy-data", "caddy-config"} <= set(resolved()["volumes"])


def caddy_config(domain: str) -> dict[str, Any]:
    """The Caddyfile as Caddy itself reads it (`caddy adapt`), for TLS_DOMAIN=domain."""
    binary = shutil.which("caddy")
    assert binary is not None, "caddy is not installed (make system-deps installs it)"
    result = subprocess.run(
        [binary, "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env={"PATH": os.environ["PATH"], "TLS_DOMAIN": domain},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def handlers(node: Any) -> Iterator[dict[str, Any]]:
    """Every handler in a Caddy JSON config, however deeply its routes nest."""
    if isinstance(node, dict):
        if "handler" in node:
            yield node
        for child in node.values():
            yield from handlers(child)
    elif isinstance(node, list):
        for child in node:
            yield from handlers(child)


def test_caddy_serves_the_domain_over_tls_and_proxies_to_the_receiver() -> None:
    config = caddy_config("tuxhook.example.org")
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["tuxhook.example.org"]}]
    [proxy] = [h for h in handlers(config) if h["handler"] == "reverse_proxy"]
    port = service("receiver")["environment"]["TUXHOOK_PORT"]
    assert proxy["upstreams"] == [{"dial": f"receiver:{port}"}]
    # Caddy drops its idle connections to the receiver before the receiver would.
    idle_ns = proxy["transport"]["keep_alive"]["idle_timeout"]
    assert idle_ns / 1e9 < float(service("receiver")["environment"]["TUXHOOK_HEADER_TIMEOUT"])


def test_caddy_keeps_metrics_off_the_internet_and_answers_json() -> None:
    [refusal] = [
        h for h in handlers(caddy_config("x.example")) if h["handler"] == "static_response"
    ]
    assert refusal["status_code"] == 404
    assert json.loads(refusal["body"])["error"] == "not_found"


def test_the_stacks_defaults_are_tuxhooks() -> None:
    """Apart from what compose fixes to its containers, the stack runs tuxhook's own defaults."""
    stack = Settings.from_env(service("receiver")["environment"])
    fixed = {"redis_url", "database_url", "host", "port"}
    for field in dataclasses.fields(Settings):
        if field.name not in fixed:
            assert getattr(stack, field.name) == getattr(Settings(), field.name), field.name
