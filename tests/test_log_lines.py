"""Log lines reach the stream whole, so that processes sharing one stream never interleave."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared.logs import configure_logging


class Writes(io.BytesIO):
    """A binary stream that remembers each write() call, as an unbuffered stderr makes a
    syscall; structlog writes bytes to it, the standard library text through a wrapper."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []

    def write(self, b: Any) -> int:
        self.calls.append(bytes(b))
        return super().write(b)


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
    monkeypatch.setattr("sys.stderr", io.TextIOWrapper(stream, write_through=True))
    configure_logging("INFO")
    structlog.get_logger("tuxhook.test").info("from_structlog", n=1)
    logging.getLogger("rq.worker").warning("from the standard library")
    lines = [call for call in stream.calls if call]
    assert len(lines) == 2
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert [json.loads(line)["event"] for line in lines] == [
        "from_structlog",
        "from the standard library",
    ]
