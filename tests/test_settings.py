"""Settings come from the environment, strictly, and never show a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import Settings, mask_url


def test_defaults_match_the_contract() -> None:
    s = Settings.from_env({})
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.database_url.startswith("sqlite:///var/")
    assert (s.host, s.port, s.max_body_bytes) == ("127.0.0.1", 8080, 1048576)
    assert s.tuxsuite_keys_file is None and s.users_file is None


def test_values_are_parsed() -> None:
    s = Settings.from_env(
        {
            "TUXHOOK_PORT": "9000",
            "TUXHOOK_MAX_BODY_BYTES": "2048",
            "TUXHOOK_TUXSUITE_KEYS_FILE": "/etc/tuxhook/keys.json",
            "TUXHOOK_LOG_LEVEL": "debug",
            "TUXHOOK_HOST": "  ",  # blank means unset
        }
    )
    assert (s.port, s.max_body_bytes, s.log_level, s.host) == (9000, 2048, "DEBUG", "127.0.0.1")
    assert s.tuxsuite_keys_file == Path("/etc/tuxhook/keys.json")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TUXHOOK_PROT": "1"}, "unknown setting TUXHOOK_PROT"),
        ({"TUXHOOK_PORT": "http"}, "TUXHOOK_PORT"),
        ({"TUXHOOK_PORT": "70000"}, "port number"),
        ({"TUXHOOK_MAX_BODY_BYTES": "0"}, "positive integer"),
        ({"TUXHOOK_LOG_LEVEL": "LOUD"}, "TUXHOOK_LOG_LEVEL"),
        ({"TUXHOOK_REDIS_URL": "localhost:6379"}, "URL with a scheme"),
    ],
)
def test_malformed_or_unknown_settings_are_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_repr_masks_secrets_and_passwords() -> None:
    s = Settings.from_env(
        {
            "TUXHOOK_REDIS_URL": "redis://:hunter2@redis:6379/0",
            "TUXHOOK_DATABASE_URL": "postgresql+psycopg://tux:s3cret@db/tuxhook",
            "TUXHOOK_TUXSUITE_TOKEN": "api-token-value",
            "TUXHOOK_ACCESS_KEY": "k" * 40,
        }
    )
    shown = repr(s) + str(s)
    for secret in ("hunter2", "s3cret", "api-token-value", "k" * 40):
        assert secret not in shown
    assert "redis://:***@redis:6379/0" in shown
    assert s.tuxsuite_token is not None and s.tuxsuite_token.reveal() == "api-token-value"


def test_mask_url_leaves_passwordless_urls_alone() -> None:
    assert mask_url("sqlite:///var/x.db") == "sqlite:///var/x.db"
