"""receiver/rq/resp.py encodes a command as redis-py would, however it is split into parts."""

from __future__ import annotations

import pytest
from redis.connection import Connection

from receiver.rq.resp import Bulk, command

ARGS = [b"EVALSHA", b"0" * 40, b"2", b"rq:job:x", b"", b"\r\n$3\r\n", bytes(range(256)) * 40]


def redis_py(args: list[bytes]) -> bytes:
    packed: list[bytes] = Connection().pack_command(*args)  # type: ignore[no-untyped-call]
    return b"".join(packed)


@pytest.mark.parametrize("split", range(len(ARGS) + 1))
def test_a_command_is_encoded_as_redis_py_encodes_it(split: int) -> None:
    head, tail = ARGS[:split], ARGS[split:]
    assert command(head, Bulk.of(tail)) == redis_py(ARGS)
