"""Each error code the receiver answers is a class in shared/errors.py, and the README's error
table lists exactly those codes, each with its class's status; the classes carry the headers
their answers need."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.constants import AUTH_REALM, RETRY_AFTER_S
from shared.errors import (
    BadCredentials,
    CredentialsRefused,
    MissingCredentials,
    Refusal,
    RetryLater,
    TuxhookError,
)

README = Path(__file__).resolve().parent.parent / "README.md"
_ROW = re.compile(r"\| (\d{3}) \| ((?:`[a-z_]+`(?:, )?)+) \|")


def readme_table() -> dict[str, int]:
    """The README's error table under "## HTTP API": code -> status."""
    section = README.read_text(encoding="utf-8").split("## HTTP API", 1)[1].split("\n## ", 1)[0]
    table: dict[str, int] = {}
    for status, codes in _ROW.findall(section):
        for code in re.findall(r"`([a-z_]+)`", codes):
            assert code not in table, f"{code} is listed twice"
            table[code] = int(status)
    return table


def subclasses(cls: type[TuxhookError]) -> Iterator[type[TuxhookError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def answers() -> dict[str, int]:
    """code -> status of every refusal class with a code of its own (the rest are families)."""
    codes: dict[str, int] = {}
    for cls in subclasses(Refusal):
        if "code" in vars(cls):
            assert cls.code not in codes, f"{cls.__name__} reuses {cls.code}"
            codes[cls.code] = cls.status
    return codes


def test_the_readme_table_lists_every_refusal_with_its_status_and_no_other() -> None:
    table = readme_table()
    assert len(table) > 15, "the table was not found: the comparison would prove nothing"
    assert table == answers()


def test_a_family_has_no_code_of_its_own() -> None:
    families = [cls for cls in subclasses(Refusal) if "code" not in vars(cls)]
    assert RetryLater in families and CredentialsRefused in families
    assert all(cls.__subclasses__() for cls in families)


@pytest.mark.parametrize("cls", [c for c in subclasses(RetryLater) if "code" in vars(c)])
def test_every_503_says_when_to_retry(cls: type[RetryLater]) -> None:
    error = cls("down")
    assert (error.status, error.headers) == (503, {"Retry-After": str(RETRY_AFTER_S)})


CHALLENGE = f'Basic realm="{AUTH_REALM}", charset="UTF-8", Bearer realm="{AUTH_REALM}"'


@pytest.mark.parametrize("cls", [c for c in subclasses(CredentialsRefused) if "code" in vars(c)])
def test_every_refused_credential_is_challenged(cls: type[CredentialsRefused]) -> None:
    error = cls("no")
    error_attribute = "" if cls is MissingCredentials else ', error="invalid_token"'
    assert error.status == 401
    assert error.headers == {"WWW-Authenticate": CHALLENGE + error_attribute}


def test_headers_are_each_errors_own() -> None:
    first = BadCredentials()
    first.headers["X-Extra"] = "1"
    assert "X-Extra" not in BadCredentials().headers
    assert first.message == "the credentials are not valid"
