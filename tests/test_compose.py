"""docker-compose.yml and the Dockerfile: every service, healthcheck, volume and setting.

No Docker engine here: the file is checked by `docker-compose config` (which resolves anchors
and interpolation exactly as `up` would) and by reading what it resolves to.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from shared.settings import Settings
from tests.support.compose import ROOT, compose, resolved, service

SERVICES = {"redis", "postgres", "migrate", "receiver", "worker", "rq-dashboard"}
SETTING_NAMES = {f.metadata["env"] for f in dataclasses.fields(Settings)}


def seconds(duration: str) -> float:
    """A compose duration (90s, 1m30s, 2h) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def test_compose_config_is_valid() -> None:
    result = compose("config", "-q")
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
