"""Log lines reach the stream whole, so that processes sharing one stream never interleave."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logs import configure_logging


class Writes(io.StringIO):
    """A stream that remembers each write() call, as an unbuffered stderr makes a syscall."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, s: str) -> int:
        self.calls.append(s)
        return super().write(s)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restore_logging")
def test_each_log_line_is_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    # Patched here, not in a fixture: pytest swaps sys.stderr again between setup and call.
    stream = Writes()
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("INFO")
    structlog.get_logger("tuxhook.test").info("from_structlog", n=1)
    logging.getLogger("rq.worker").warning("from the standard library")
    lines = [call for call in stream.calls if call]
    assert len(lines) == 2
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
