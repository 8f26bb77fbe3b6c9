"""The Redis protocol's encoding of a command (RESP arrays of bulk strings).

The receiver sends each job as some forty arguments, most of them the same for every job of a
kind. redis-py encodes every argument of every command anew, in Python; this module lets the
constant ones be encoded once (`Bulk`), so a job costs only what differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


def bulk(arg: bytes) -> bytes:
    """One argument, encoded."""
    return b"$%d\r\n%b\r\n" % (len(arg), arg)


class Bulk(NamedTuple):
    """Arguments already encoded, and how many there are."""

    wire: bytes
    size: int  # arguments

    @classmethod
    def of(cls, args: Sequence[bytes]) -> Bulk:
        return cls(b"".join(map(bulk, args)), len(args))


def command(args: Sequence[bytes], tail: Bulk) -> bytes:
    """One command: `args`, then the pre-encoded `tail`."""
    return b"*%d\r\n%b%b" % (len(args) + tail.size, b"".join(map(bulk, args)), tail.wire)
