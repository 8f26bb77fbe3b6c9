"""The users file (TUXHOOK_USERS_FILE): users, token issuers, OIDC issuers, TuxSuite's header.

Read once at start-up into frozen dataclasses. Every mistake, including a key the file should
not have, is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from shared.constants import (
    DEFAULT_ISSUER,
    DEFAULT_TOKEN_MAX_LIFETIME_S,
    MIN_ACCESS_KEY_BYTES,
    SIGNATURE_HEADER,
)
from shared.errors import ConfigError
from shared.settings import Secret
from shared.toml_table import Table, load_toml_file

# HMAC algorithms, each with the key length it needs in bytes (RFC 7518, section 3.2).
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")

# What a user may do: "report" (post events, carry a callback's credentials), "read" (the
# outcome API, pages and /metrics, for every project alike).
READ, REPORT = "read", "report"
ROLES = (READ, REPORT)
DEFAULT_ROLES = frozenset({REPORT})


@dataclass(frozen=True)
class User:
    name: str
    access_key: Secret = field(repr=False)
    # Slugs this user's tokens may report; empty means any.
    slugs: frozenset[str] = frozenset()
    roles: frozenset[str] = DEFAULT_ROLES


@dataclass(frozen=True)
class TokenPolicy:
    """What one issuer's tokens must satisfy beyond their signature."""

    issuer: str
    algorithms: tuple[str, ...]
    max_lifetime_s: int = DEFAULT_TOKEN_MAX_LIFETIME_S
    audience: str | None = None


@dataclass(frozen=True)
class OidcIssuer:
    """An OIDC issuer (GitHub Actions): its keys' URL, and which repository reports as whom."""

    name: str
    policy: TokenPolicy
    jwks_url: str
    # "owner/name" or "owner/*" -> user name.
    repositories: Mapping[str, str]

    def user_for(self, repository: str) -> str | None:
        exact = self.repositories.get(repository)
        owner, slash, _ = repository.partition("/")
        return exact or (self.repositories.get(f"{owner}/*") if slash else None)


DEFAULT_ISSUERS = {DEFAULT_ISSUER: TokenPolicy(DEFAULT_ISSUER, ("HS256",))}


@dataclass(frozen=True)
class AuthConfig:
    """Everything token authentication needs, from the users file (or empty without one)."""

    users: Mapping[str, User] = field(default_factory=dict)
    # Issuers of tokens signed with a user's access key, by `iss`.
    issuers: Mapping[str, TokenPolicy] = field(default_factory=lambda: dict(DEFAULT_ISSUERS))
    # OIDC issuers, by `iss`.
    oidc: Mapping[str, OidcIssuer] = field(default_factory=dict)
    # A header TuxSuite callbacks must carry credentials in, besides their signature.
    callback_header: str | None = None


def load_users_file(path: Path) -> AuthConfig:
    """Parse and check the users file; raises ConfigError naming the file."""
    return load_toml_file(path, "users file", parse_auth_config)


def parse_auth_config(root: Table) -> AuthConfig:
    root.only("users", "issuers", "oidc", "tuxsuite")
    issuers = _issuers(root) if root.has("issuers") else dict(DEFAULT_ISSUERS)
    min_key = max((HMAC_KEY_BYTES[a] for p in issuers.values() for a in p.algorithms), default=0)
    users = {
        name: _user(name, table, max(min_key, MIN_ACCESS_KEY_BYTES))
        for name, table in root.subtables("users").items()
    }
    oidc = [_oidc(name, table, users) for name, table in root.subtables("oidc").items()]
    config = AuthConfig(
        users=users,
        issuers=issuers,
        oidc={o.policy.issuer: o for o in oidc},
        callback_header=_tuxsuite(root.table("tuxsuite")),
    )
    _check_distinct_issuers(config, len(oidc))
    return config


def _user(name: str, table: Table, min_key_bytes: int) -> User:
    if not name or ":" in name:
        raise ConfigError(f"user name {name!r} must be non-empty and hold no ':'")
    key = table.only("access_key", "slugs", "roles").required_text("access_key")
    if len(key.encode("utf-8")) < min_key_bytes:
        # Never print the key, nor how long it is.
        raise ConfigError(f"{table.name('access_key')} is shorter than {min_key_bytes} bytes")
    return User(name, Secret(key), frozenset(table.texts("slugs")), _roles(table))


def _roles(table: Table) -> frozenset[str]:
    roles = table.texts("roles", tuple(DEFAULT_ROLES))
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        wrong = ", ".join(unknown) or "nothing"
        raise ConfigError(f"{table.name('roles')} may hold {' and '.join(ROLES)}, not {wrong}")
    return frozenset(roles)


def _algorithms(table: Table, allowed: frozenset[str], default: str) -> tuple[str, ...]:
    algorithms = table.texts("algorithms", (default,))
    wrong = sorted(set(algorithms) - allowed)
    if wrong or not algorithms:
        raise ConfigError(
            f"{table.name('algorithms')} may hold only {', '.join(sorted(allowed))}, "
            f"not {', '.join(wrong) or 'nothing'}"
        )
    return algorithms


def _issuers(root: Table) -> dict[str, TokenPolicy]:
    issuers = {}
    for name, table in root.subtables("issuers").items():
        table.only("algorithms", "max_lifetime")
        algorithms = _algorithms(table, frozenset(HMAC_KEY_BYTES), "HS256")
        lifetime = table.positive_int("max_lifetime", DEFAULT_TOKEN_MAX_LIFETIME_S)
        issuers[name] = TokenPolicy(name, algorithms, lifetime)
    return issuers


def _url(table: Table, key: str) -> str:
    url = table.required_text(key)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{table.name(key)} must be an http(s) URL")
    return url


def _oidc(name: str, table: Table, users: Mapping[str, User]) -> OidcIssuer:
    table.only("issuer", "jwks_url", "audience", "algorithms", "max_lifetime", "repositories")
    policy = TokenPolicy(
        issuer=table.required_text("issuer"),
        algorithms=_algorithms(table, ASYMMETRIC_ALGORITHMS, "RS256"),
        max_lifetime_s=table.positive_int("max_lifetime", DEFAULT_TOKEN_MAX_LIFETIME_S),
        audience=table.required_text("audience"),
    )
    return OidcIssuer(name, policy, _url(table, "jwks_url"), _repositories(table, users))


def _repositories(parent: Table, users: Mapping[str, User]) -> dict[str, str]:
    # Any repository on GitHub can mint a token for any audience, so an issuer without a
    # repository map would let strangers report as someone: the map is required.
    table = parent.table("repositories")
    repositories = {repo: table.required_text(repo) for repo in table.data}
    if not repositories:
        raise ConfigError(f"{table.path} must map at least one repository to a user")
    for repo, user in repositories.items():
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError(f"{table.name(repo)}: name 'owner/repository' or 'owner/*'")
        if user not in users:
            raise ConfigError(f"{table.name(repo)} names {user!r}, who is not in [users]")
    return repositories


def _tuxsuite(table: Table) -> str | None:
    header = table.only("require_header").text("require_header")
    if header is not None and (
        not _HEADER_NAME.fullmatch(header) or header.lower() == SIGNATURE_HEADER
    ):
        raise ConfigError(f"{table.name('require_header')} is not a usable header name")
    return header


def _check_distinct_issuers(config: AuthConfig, oidc_sections: int) -> None:
    if len(config.oidc) != oidc_sections:
        raise ConfigError("two [oidc] sections name the same issuer")
    both = set(config.issuers) & set(config.oidc)
    if both:
        raise ConfigError(f"issuer {sorted(both)[0]!r} is both in [issuers] and in [oidc]")
