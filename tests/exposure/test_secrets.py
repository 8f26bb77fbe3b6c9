"""Secrets never reach a log line: not the settings a receiver logs as it starts, not a Secret
logged under any key, not a password or token quoted in an error about a URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest

from shared.errors import ConfigError
from shared.keys import fetch_keys_text
from shared.settings import Secret
from tests.exposure.conftest import running
from tests.support.logs import log_events
from tests.support.processes import child_env
from tests.support.redis_server import free_port

SECRETS = {
    "TUXHOOK_TUXSUITE_KEYS_URL": "http://keys-user:keys-pass-1@127.0.0.1:{port}/keys?token=qtok-2",
    "TUXHOOK_DATABASE_URL": "postgresql+psycopg://root:db-pass-3@127.0.0.1:5432/test",
    "TUXHOOK_TUXSUITE_TOKEN": "api-token-4",
    "TUXHOOK_ACCESS_KEY": "access-key-5-0123456789-0123456789-0123",
}
SHOWN = ("keys-pass-1", "qtok-2", "db-pass-3", "api-token-4", "access-key-5")


def test_the_start_up_line_shows_no_secret(base_env: dict[str, str], tmp_path: Path) -> None:
    env = base_env | {k: v.format(port=free_port()) for k, v in SECRETS.items()}
    with running(env, tmp_path) as receiver:
        pass
    [starting] = log_events(receiver.process, "receiver_starting")
    settings = starting["settings"]
    assert "keys-user:***@127.0.0.1" in settings and "token=***" in settings
    assert "root:***@127.0.0.1" in settings
    output = receiver.process.output()
    assert "keys_fetch_failed" in output  # the keys URL was tried, and its error logged
    for secret in SHOWN:
        assert secret not in output


LOG_A_SECRET = """
import structlog
from shared.logs import configure_logging
from shared.settings import Secret
configure_logging()
secret = Secret("s3cr3t-6")
structlog.get_logger().info("event", anything=secret, nested={"deep": [secret]})
"""


def test_a_secret_logged_under_any_key_is_masked() -> None:
    """structlog renders with orjson, which refuses a Secret: it falls back to its repr."""
    result = subprocess.run(
        [sys.executable, "-c", LOG_A_SECRET],
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = orjson.loads(result.stderr.splitlines()[-1])
    assert line["anything"] == line["nested"]["deep"][0] == "Secret('**********')"
    assert "s3cr3t-6" not in result.stderr


def test_a_secret_is_not_a_string_and_does_not_serialise() -> None:
    secret = Secret("s3cr3t-7")
    assert not isinstance(secret, str)
    assert "s3cr3t-7" not in f"{secret} {secret!r} {[secret]}"
    with pytest.raises(TypeError):
        orjson.dumps({"t": secret})
    assert secret.reveal() == "s3cr3t-7" and secret == Secret("s3cr3t-7") and secret


async def test_an_error_quoting_the_keys_url_shows_no_password() -> None:
    """aiohttp names the whole URL when it refuses one: the error keeps it masked."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigError) as raised:
            await fetch_keys_text(http, "ftp://u:pass-8@127.0.0.1/keys?token=tok-9", None)
    assert "ftp://u:***@127.0.0.1" in raised.value.message
    assert "pass-8" not in raised.value.message and "tok-9" not in raised.value.message
