"""The users file: parsed once at start-up, and every mistake in it refused with a clear error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from receiver.app import create_app
from receiver.users import AuthConfig, TokenPolicy, load_users_file
from shared.errors import ConfigError
from shared.settings import Settings
from tests.support.processes import child_env, tuxhook_command
from tests.support.redis_server import free_port
from tests.support.users import ALICE, BOB, oidc_toml, users_toml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "auth.md"
JWKS = "https://token.actions.githubusercontent.com/.well-known/jwks"
SHORT = "short-key-31-bytes-0123456789ab"  # 31 bytes


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_users_issuers_and_oidc_are_parsed(tmp_path: Path) -> None:
    text = users_toml(
        (ALICE, BOB),
        '[issuers."travis-ci.org"]\nmax_lifetime = 600\n',
        '[issuers."ci.example"]\nalgorithms = ["HS256"]\n',
        oidc_toml(JWKS, {"linaro/lkft": "alice", "linaro/*": "bob"}),
        '[tuxsuite]\nrequire_header = "X-Tuxhook-Token"\n',
    )
    config = load_users_file(write(tmp_path, text))
    assert config.users["bob"].slugs == frozenset({"linaro/lkft"})
    assert config.issuers["travis-ci.org"] == TokenPolicy("travis-ci.org", ("HS256",), 600)
    assert config.issuers["ci.example"] == TokenPolicy("ci.example", ("HS256",), 5400)
    github = config.oidc["https://token.actions.githubusercontent.com"]
    assert github.policy.algorithms == ("RS256",)
    assert github.policy.audience == "https://tuxhook.test"
    assert (github.user_for("linaro/lkft"), github.user_for("linaro/x")) == ("alice", "bob")
    assert github.user_for("other/lkft") is None
    assert config.callback_header == "X-Tuxhook-Token"
    assert ALICE.key not in repr(config)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ("", {"report"}),
        ('roles = ["read"]\n', {"read"}),
        ('roles = ["report", "read"]\n', {"read", "report"}),
    ],
)
def test_roles_default_to_report(tmp_path: Path, roles: str, expected: set[str]) -> None:
    config = load_users_file(write(tmp_path, users_toml((ALICE,)) + roles))
    assert config.users["alice"].roles == expected


def test_without_issuers_travis_ci_is_the_one_allowed(tmp_path: Path) -> None:
    config = load_users_file(write(tmp_path, users_toml()))
    assert (
        config.issuers
        == AuthConfig().issuers
        == {"travis-ci.org": TokenPolicy("travis-ci.org", ("HS256",), 5400)}
    )


def test_the_documented_example_parses(tmp_path: Path) -> None:
    [example] = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    config = load_users_file(write(tmp_path, example))
    assert set(config.users) == {"alice", "bob"}
    assert config.oidc and config.callback_header


USER = users_toml((ALICE,))

BAD_FILES = [
    pytest.param(f'[users.alice]\naccess_key = "{SHORT}"\n', "shorter than 32 bytes", id="short"),
    pytest.param(f'[users.alice]\nacces_key = "{ALICE.key}"\n', "users.alice.acces_key", id="typo"),
    pytest.param(
        '[users.alice]\nslugs = ["a/b"]\n', "users.alice.access_key is required", id="no-key"
    ),
    pytest.param(USER + "[groups]\n", "unknown key groups", id="unknown-section"),
    pytest.param(
        USER + "verbose = true\n", "unknown key users.alice.verbose", id="unknown-in-user"
    ),
    pytest.param(USER.replace("alice", '"al:ice"', 1), "hold no ':'", id="colon-in-name"),
    pytest.param(USER + 'slugs = "a/b"\n', "slugs must be a list", id="slugs-not-list"),
    pytest.param(USER + 'roles = ["write"]\n', "not write", id="unknown-role"),
    pytest.param(USER + 'roles = ["read", "admin"]\n', "not admin", id="one-unknown-role"),
    pytest.param(USER + "roles = []\n", "not nothing", id="no-role"),
    pytest.param(USER + 'roles = "read"\n', "roles must be a list", id="roles-not-list"),
    pytest.param(
        USER + '[issuers."x"]\nalgorithms = ["RS256"]\n', "may hold only HS", id="rs-issuer"
    ),
    pytest.param(USER + '[issuers."x"]\nalgorithms = []\n', "not nothing", id="no-algorithms"),
    pytest.param(USER + '[issuers."x"]\nmax_lifetime = true\n', "positive integer", id="bool"),
    pytest.param(USER + '[issuers."x"]\nmax_lifetime = 0\n', "positive integer", id="zero"),
    pytest.param(USER + '[issuers."x"]\nleeway = 5\n', "issuers.x.leeway", id="issuer-key"),
    pytest.param(
        USER + '[issuers."x"]\nalgorithms = ["HS512"]\n', "shorter than 64 bytes", id="hs512-key"
    ),
    pytest.param(
        USER + oidc_toml(JWKS, {"a/b": "alice"}, extra='algorithms = ["HS256"]\n'),
        "oidc.github.algorithms may hold only",
        id="hs-oidc",
    ),
    pytest.param(USER + oidc_toml(JWKS, {}), "at least one repository", id="no-repositories"),
    pytest.param(USER + oidc_toml(JWKS, {"a/b": "bob"}), "'bob', who is not", id="unknown-user"),
    pytest.param(USER + oidc_toml(JWKS, {"lkft": "alice"}), "owner/repository", id="bad-repo"),
    pytest.param(USER + oidc_toml("ftp://x/jwks", {"a/b": "alice"}), "http(s) URL", id="ftp"),
    pytest.param(
        USER + oidc_toml(JWKS, {"a/b": "alice"}, extra='client_id = "x"\n'),
        "unknown key oidc.github.client_id",
        id="unknown-in-oidc",
    ),
    pytest.param(
        USER + oidc_toml(JWKS, {"a/b": "alice"}).replace('audience = "https://tuxhook.test"\n', ""),
        "oidc.github.audience is required",
        id="no-audience",
    ),
    pytest.param(
        USER + oidc_toml(JWKS, {"a/b": "alice"}, issuer="travis-ci.org"),
        "both in [issuers] and in [oidc]",
        id="issuer-twice",
    ),
    pytest.param(
        USER + oidc_toml(JWKS, {"a/b": "alice"}) + oidc_toml(JWKS, {"a/b": "alice"}, name="gh2"),
        "same issuer",
        id="oidc-twice",
    ),
    pytest.param(USER + '[tuxsuite]\nrequire_header = "X Token"\n', "header name", id="header"),
    pytest.param(
        USER + '[tuxsuite]\nrequire_header = "x-tux-payload-signature"\n',
        "header name",
        id="signature-header",
    ),
    pytest.param(USER + "[tuxsuite]\nrequire = 1\n", "unknown key tuxsuite.require", id="tux"),
    pytest.param("[users.alice\n", "not valid TOML", id="toml"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_users_file_stops_the_start(
    settings_env: dict[str, str], tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        create_app(Settings.from_env(settings_env))
    assert message in caught.value.message
    assert caught.value.message.startswith(f"{tmp_path / 'users.toml'}: ")


def test_a_missing_users_file_stops_the_start(settings_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "users.toml").unlink()
    with pytest.raises(ConfigError, match="cannot read users file"):
        create_app(Settings.from_env(settings_env))


def test_the_receiver_command_exits_with_one_line_and_no_key(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path, f'[users.alice]\naccess_key = "{SHORT}"\n')
    args = tuxhook_command("receiver", "--host", "127.0.0.1", "--port", str(free_port()))
    done = subprocess.run(
        args, env=child_env(settings_env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"tuxhook: error: {tmp_path / 'users.toml'}: users.alice.access_key "
        "is shorter than 32 bytes"
    ]
    assert SHORT not in done.stderr + done.stdout
