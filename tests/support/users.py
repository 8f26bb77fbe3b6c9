"""Named builders of users files, written as an operator would write them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.support.tokens import AUDIENCE, GITHUB_ISSUER, basic


@dataclass(frozen=True)
class TestUser:
    name: str
    key: str
    slugs: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # none given: the default, ["report"]

    def toml(self) -> str:
        slugs = f"slugs = {json.dumps(list(self.slugs))}\n" if self.slugs else ""
        roles = f"roles = {json.dumps(list(self.roles))}\n" if self.roles else ""
        return f'[users.{self.name}]\naccess_key = "{self.key}"\n{slugs}{roles}'

    def basic(self) -> dict[str, str]:
        """The Authorization header of this user's access key."""
        return basic(self.name, self.key)


# Keys of 40 bytes: above the 32-byte floor.
ALICE = TestUser("alice", "alice-0123456789-0123456789-0123456789ab")
# Bob's tokens may report linaro/lkft only.
BOB = TestUser("bob", "bob-0123456789-0123456789-0123456789abcd", slugs=("linaro/lkft",))
USERS = (ALICE, BOB)
# The one user of the tests' default users file (tests/conftest.py): reads the outcome API,
# pages and /metrics, which are closed to anonymous clients. 64 bytes: enough for any HMAC.
READER = TestUser("reader", "reader-0123456789-" * 3 + "0123456789", roles=("read",))


def read_headers() -> dict[str, str]:
    """Headers that let a test read what the receiver serves: READER's credentials."""
    return READER.basic()


def oidc_toml(
    jwks_url: str,
    repositories: Mapping[str, str],
    *,
    issuer: str = GITHUB_ISSUER,
    audience: str = AUDIENCE,
    name: str = "github",
    extra: str = "",
) -> str:
    """An [oidc.NAME] section; `extra` adds lines to its table."""
    repos = "".join(f'"{repo}" = "{user}"\n' for repo, user in repositories.items())
    return (
        f'[oidc.{name}]\nissuer = "{issuer}"\njwks_url = "{jwks_url}"\naudience = "{audience}"\n'
        f"{extra}[oidc.{name}.repositories]\n{repos}"
    )


def users_toml(users: Sequence[TestUser] = USERS, *sections: str) -> str:
    """A users file with `users`, then any further sections as TOML text."""
    return "\n".join([*(u.toml() for u in users), *sections])
