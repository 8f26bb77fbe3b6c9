"""Read pages as a browser would, with READER's credentials."""

from __future__ import annotations

from receiver.pages.render import CONTENT_SECURITY_POLICY
from tests.conftest import Receiver
from tests.support.users import read_headers


async def get_page(receiver: Receiver, path: str, status: int = 200) -> str:
    async with receiver.http.get(receiver.at(path), headers=read_headers()) as resp:
        text = await resp.text()
        assert resp.status == status, text
        assert resp.content_type == "text/html"
        assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        return text
