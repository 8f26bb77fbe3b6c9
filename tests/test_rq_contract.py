"""The RQ release tuxhook is pinned to (shared/rq_contract.py): the installed one matches the
pin, and the receiver and the workers refuse to start, with one line, under any other RQ or
with any other enqueue script embedded."""

from __future__ import annotations

import hashlib

import pytest
import rq
import rq.scripts

from receiver.rq import BATCH_ENQUEUE_SCRIPT, enqueue_script
from shared.cli import main
from shared.errors import ConfigError
from shared.rq_contract import (
    RQ_VERSION,
    UNIQUE_ENQUEUE_SCRIPT_SHA256,
    check_enqueue_script,
    check_rq_version,
)


def test_the_installed_rq_is_the_pinned_release() -> None:
    assert rq.__version__.split(".")[:2] == RQ_VERSION.split(".")
    check_rq_version()


def test_the_embedded_script_is_rqs_and_the_pinned_one() -> None:
    script = rq.scripts.UNIQUE_ENQUEUE_SCRIPT
    assert hashlib.sha256(script.encode()).hexdigest() == UNIQUE_ENQUEUE_SCRIPT_SHA256
    assert script == enqueue_script.EMBEDDED_SCRIPT
    assert script in BATCH_ENQUEUE_SCRIPT
    check_enqueue_script(enqueue_script.EMBEDDED_SCRIPT)


@pytest.mark.parametrize("version", [f"{RQ_VERSION}.0", f"{RQ_VERSION}.7", RQ_VERSION])
def test_any_patch_release_of_the_pinned_minor_is_accepted(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr(rq, "__version__", version)
    check_rq_version()


@pytest.mark.parametrize("version", ["3.1.0", "2.6.1", "4.0.0", "3.00.1", "30.0"])
def test_another_release_is_refused(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setattr(rq, "__version__", version)
    with pytest.raises(ConfigError, match=f"RQ {version} is installed"):
        check_rq_version()


@pytest.fixture(autouse=True)
def nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were a check missing, the command would fail on this Redis instead, with another line."""
    monkeypatch.setenv("TUXHOOK_REDIS_URL", "redis://127.0.0.1:1/0")


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line `tuxhook ARGV` prints as it exits 1."""
    assert main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("argv", [("receiver",), ("worker", "--burst")])
def test_the_receiver_and_the_workers_refuse_another_rq(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    monkeypatch.setattr(rq, "__version__", "3.1.0")
    assert refusal(capsys, *argv) == (
        "tuxhook: error: RQ 3.1.0 is installed, but tuxhook is proven against RQ 3.0.x only:"
        " install the locked versions, or see docs/upgrading-rq.md"
    )


def test_the_receiver_refuses_another_enqueue_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = rq.scripts.UNIQUE_ENQUEUE_SCRIPT.replace('"RPUSH"', '"LPUSH"')  # a changed RQ
    assert changed != rq.scripts.UNIQUE_ENQUEUE_SCRIPT
    monkeypatch.setattr(enqueue_script, "EMBEDDED_SCRIPT", changed)
    digest = hashlib.sha256(changed.encode()).hexdigest()
    assert refusal(capsys, "receiver") == (
        f"tuxhook: error: RQ's unique-enqueue script has SHA-256 {digest[:12]}..., not the"
        f" {UNIQUE_ENQUEUE_SCRIPT_SHA256[:12]}... tuxhook embeds and is proven with:"
        " see docs/upgrading-rq.md"
    )
