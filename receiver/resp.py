"""The Redis protocol's encoding of a command (RESP arrays of bulk strings).

The receiver sends each job as some forty arguments, most of them the same for every job of a
kind. redis-py encodes every argument of every command anew, in Python; this module lets the
constant ones be encoded once (`Bulk`), so a job costs only what differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bulk:
    """Arguments already encoded, and how many there are."""

    wire: bytes
    count: int

    @classmethod
    def of(cls, args: Iterable[bytes]) -> Bulk:
        parts = [b"$%d\r\n%b\r\n" % (len(arg), arg) for arg in args]
        return cls(b"".join(parts), len(parts))

    @classmethod
    def join(cls, parts: Iterable[Bulk]) -> Bulk:
        parts = list(parts)
        return cls(b"".join(p.wire for p in parts), sum(p.count for p in parts))


def command(args: Iterable[bytes], tail: Bulk = Bulk(b"", 0)) -> bytes:
    """One command: `args`, then the pre-encoded `tail`."""
    head = Bulk.of(args)
    return b"*%d\r\n%b%b" % (head.count + tail.count, head.wire, tail.wire)
