"""A callback uploaded slowly over a raw socket, to be in flight when a receiver is stopped."""

from __future__ import annotations

import socket

IN_FLIGHT_S = 0.5  # seconds for the receiver to start handling a request whose headers it has
EXIT_TIMEOUT_S = 20.0  # seconds for a receiver to exit after SIGTERM


class SlowUpload:
    """A callback POSTed with a chunked body, of which only the first half is sent at first."""

    def __init__(self, port: int, body: bytes, headers: dict[str, str]) -> None:
        self.body = body
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=EXIT_TIMEOUT_S)
        head = [
            "POST /v1/callbacks/tuxsuite HTTP/1.1",
            "Host: 127.0.0.1",
            "Transfer-Encoding: chunked",
            "Connection: close",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + self._chunk(0))

    def _chunk(self, half: int) -> bytes:
        middle = len(self.body) // 2
        part = self.body[:middle] if half == 0 else self.body[middle:]
        return f"{len(part):x}\r\n".encode() + part + b"\r\n"

    def finish(self) -> int:
        """Send the rest of the body and return the answer's status."""
        self.sock.sendall(self._chunk(1) + b"0\r\n\r\n")
        answer = b""
        while chunk := self.sock.recv(65536):
            answer += chunk
        self.sock.close()
        return int(answer.split(b" ", 2)[1])
