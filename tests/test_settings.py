"""Settings come from the environment, strictly, and never show a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.app import create_app
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
        ({"TUXHOOK_PORT": "http"}, "TUXHOOK_PORT: 'http' is not a whole number; expected a port"),
        ({"TUXHOOK_PORT": "70000"}, "'70000' is not a port number"),
        ({"TUXHOOK_PORT": "8\uff1080"}, "is not a whole number"),  # a full-width digit
        ({"TUXHOOK_MAX_BODY_BYTES": "0"}, "'0' is not a positive integer; expected an integer"),
        ({"TUXHOOK_JOB_TIMEOUT": "1.5"}, "expected a whole number of seconds above 0, like 30"),
        ({"TUXHOOK_KEYS_MAX_AGE": "inf"}, "'inf' is not a positive number"),
        ({"TUXHOOK_KEYS_MAX_AGE": "soon"}, "'soon' is not a positive number"),
        ({"TUXHOOK_LOG_LEVEL": "LOUD"}, "TUXHOOK_LOG_LEVEL"),
        ({"TUXHOOK_REDIS_URL": "localhost:6379"}, "expected a URL like redis://127.0.0.1:6379/0"),
        ({"TUXHOOK_DATABASE_URL": "sqlite:x.db"}, "not the URL of a store tuxhook supports"),
        ({"TUXHOOK_DATABASE_URL": "postgresql+psycopg2://h/d"}, "postgresql\\+psycopg2:// is not"),
        ({"TUXHOOK_READ_ACCESS": "anyone"}, "'anyone' is not a read access mode; expected users"),
        ({"TUXHOOK_READ_ACCESS": "Open"}, "TUXHOOK_READ_ACCESS: 'Open' is not a read access mode"),
        ({"TUXHOOK_HEADER_TIMEOUT": "0"}, "TUXHOOK_HEADER_TIMEOUT: '0' is not a positive number"),
        ({"TUXHOOK_BODY_TIMEOUT": "soon"}, "TUXHOOK_BODY_TIMEOUT: 'soon' is not a positive number"),
        ({"TUXHOOK_MAX_CONNECTIONS": "-1"}, "TUXHOOK_MAX_CONNECTIONS: '-1' is not a whole number"),
    ],
)
def test_malformed_or_unknown_settings_are_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "url", ["sqlite:///var/x.sqlite3", "postgresql+psycopg://u@h/d", "postgresql://u:p@h:5/d"]
)
def test_the_supported_stores_are_accepted(url: str) -> None:
    assert Settings.from_env({"TUXHOOK_DATABASE_URL": url}).database_url == url


def test_a_refused_database_url_never_repeats_its_password() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"TUXHOOK_DATABASE_URL": "mysql://tux:s3cret@db/x"})
    assert "s3cret" not in refused.value.message


def test_repr_masks_secrets_and_passwords() -> None:
    s = Settings.from_env(
        {
            "TUXHOOK_REDIS_URL": "redis://:hunter2@redis:6379/0",
            "TUXHOOK_DATABASE_URL": "postgresql+psycopg://tux:s3cret@db/tuxhook",
            "TUXHOOK_TUXSUITE_KEYS_URL": "https://u:kpass@api.example/keys?token=t0k&x=1",
            "TUXHOOK_TUXSUITE_TOKEN": "api-token-value",
            "TUXHOOK_ACCESS_KEY": "k" * 40,
        }
    )
    shown = repr(s) + str(s)
    for secret in ("hunter2", "s3cret", "kpass", "t0k", "api-token-value", "k" * 40):
        assert secret not in shown
    assert "redis://:***@redis:6379/0" in shown
    assert "https://u:***@api.example/keys?token=***&x=***" in shown
    assert s.tuxsuite_token is not None and s.tuxsuite_token.reveal() == "api-token-value"


def test_mask_url_leaves_passwordless_urls_alone() -> None:
    assert mask_url("sqlite:///var/x.db") == "sqlite:///var/x.db"


def test_new_limits_are_parsed() -> None:
    s = Settings.from_env(
        {
            "TUXHOOK_READ_ACCESS": "open",
            "TUXHOOK_MAX_CONNECTIONS": "20",
            "TUXHOOK_MAX_BUFFERED_BYTES": "4194304",
            "TUXHOOK_HEADER_TIMEOUT": "2.5",
            "TUXHOOK_BODY_TIMEOUT": "7",
        }
    )
    assert (s.read_access, s.max_connections, s.max_buffered_bytes) == ("open", 20, 4194304)
    assert (s.header_timeout_s, s.body_timeout_s) == (2.5, 7.0)
    assert Settings().read_access == "users"


def test_a_body_budget_smaller_than_one_body_stops_the_start(
    settings_env: dict[str, str],
) -> None:
    settings_env |= {"TUXHOOK_MAX_BODY_BYTES": "2048", "TUXHOOK_MAX_BUFFERED_BYTES": "1024"}
    with pytest.raises(ConfigError, match="TUXHOOK_MAX_BUFFERED_BYTES \\(1024\\) is less than"):
        create_app(Settings.from_env(settings_env))
