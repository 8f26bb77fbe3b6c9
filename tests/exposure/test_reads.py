"""Reads are closed by default: the outcome API and /metrics answer only a user with the read
role (401 without credentials or with wrong ones, 403 for a user without the role); a
read-only user cannot report; TUXHOOK_READ_ACCESS=open opens reads to anyone."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from shared.constants import AUTH_REALM
from shared.settings import Settings
from tests.conftest import serve
from tests.exposure.conftest import Exposed, Start
from tests.support import users
from tests.support.builders import callback, encode
from tests.support.http import fetch
from tests.support.refusals import check_error
from tests.support.tokens import basic
from tests.support.users import ALICE, READER, users_toml

READS = ["/v1/outcomes", "/v1/outcomes?kind=build", "/v1/outcomes/build/2QpE0aJbV", "/metrics"]
WRONG_KEY = "wrong-0123456789-0123456789-0123456789-0123456789"

REFUSED = [
    pytest.param({}, 401, "missing_credentials", id="anonymous"),
    pytest.param(basic("reader", WRONG_KEY), 401, "bad_credentials", id="wrong-key"),
    pytest.param(basic("nobody", WRONG_KEY), 401, "bad_credentials", id="unknown-user"),
    pytest.param({"Authorization": "Bearer not-a-token"}, 401, "bad_credentials", id="garbage"),
    pytest.param(ALICE.basic(), 403, "forbidden", id="report-only-user"),
]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize(("headers", "status", "code"), REFUSED)
async def test_reads_need_a_user_with_the_read_role(
    exposed: Exposed, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    answer = await fetch("GET", exposed.url + path, headers=headers)
    assert answer.status == status
    check_error(answer.json(), code)
    challenge = answer.headers.get("WWW-Authenticate", "")
    assert (f'Basic realm="{AUTH_REALM}"' in challenge) == (status == 401)


@pytest.mark.parametrize("path", READS)
async def test_the_reader_reads(exposed: Exposed, path: str) -> None:
    answer = await fetch("GET", exposed.url + path, headers=READER.basic())
    # The outcome named does not exist: a 404 from the store, past the credentials.
    assert answer.status == (404 if "/build/" in path else 200), answer


async def test_a_head_request_is_a_read_too(exposed: Exposed) -> None:
    assert (await fetch("HEAD", exposed.url + "/metrics")).status == 401


async def test_a_read_only_user_cannot_report(exposed: Exposed) -> None:
    headers = {"Content-Type": "application/json", **READER.basic()}
    answer = await fetch(
        "POST", exposed.url + "/v1/events", headers=headers, data=encode(callback())
    )
    assert answer.status == 403
    check_error(answer.json(), "forbidden")


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/readyz", 200), ("/nope", 404)])
async def test_health_checks_and_unknown_routes_need_no_credentials(
    exposed: Exposed, path: str, status: int
) -> None:
    assert (await fetch("GET", exposed.url + path)).status == status


async def test_open_reads_need_no_credentials(start: Start) -> None:
    receiver = start(read_access="open")
    for path in ("/v1/outcomes", "/metrics"):
        assert (await fetch("GET", receiver.url + path)).status == 200, path


@pytest.mark.parametrize(
    ("users_in_file", "read_access", "warned"),
    [
        pytest.param((ALICE,), "users", True, id="closed-and-no-reader"),
        pytest.param((ALICE, READER), "users", False, id="a-reader"),
        pytest.param((ALICE,), "open", False, id="open"),
    ],
)
async def test_a_receiver_no_one_can_read_says_so(
    settings_env: dict[str, str],
    tmp_path: Path,
    users_in_file: tuple[users.TestUser, ...],
    read_access: str,
    warned: bool,
) -> None:
    path = tmp_path / "users.toml"
    path.write_text(users_toml(users_in_file), encoding="utf-8")
    env = settings_env | {"TUXHOOK_USERS_FILE": str(path), "TUXHOOK_READ_ACCESS": read_access}
    with capture_logs() as logs:
        server = await serve(Settings.from_env(env))
        await server.close()
    assert ("no_reader" in [e["event"] for e in logs]) == warned
