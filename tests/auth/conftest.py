"""Fixtures for token authentication: a users file, OIDC signing keys, a JWKS server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.jwks_server import JwksServer
from tests.support.tokens import RsaKey
from tests.support.users import READER
from tests.support.users import users_toml as build_users_toml


@pytest.fixture(scope="session")
def oidc_keys() -> tuple[RsaKey, RsaKey]:
    """Two signing keys: the one published first, and the one a rotation brings in."""
    return RsaKey.generate("key-2024"), RsaKey.generate("key-2025")


@pytest.fixture
async def jwks_server(oidc_keys: tuple[RsaKey, RsaKey]) -> AsyncIterator[JwksServer]:
    server = JwksServer()
    server.publish(oidc_keys[0].jwk())
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def users_toml() -> str:
    """The users file's text; modules override this fixture to test other files."""
    return build_users_toml()


@pytest.fixture
def settings_env(settings_env: dict[str, str], users_toml: str, tmp_path: Path) -> dict[str, str]:
    """The module's users file, with READER added, as in every test's settings."""
    path = tmp_path / "users.toml"
    path.write_text(f"{users_toml}\n{READER.toml()}", encoding="utf-8")
    return settings_env | {"TUXHOOK_USERS_FILE": str(path)}
