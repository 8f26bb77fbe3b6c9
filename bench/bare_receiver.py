"""The baseline: a bare aiohttp handler that only verifies the signature and LPUSHes the body."""

from __future__ import annotations

import base64
import sys

import redis.asyncio as aioredis
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

BARE_LIST = "bench:bare"


def make_app(public_line: str, redis_url: str) -> web.Application:
    key = load_ssh_public_key(public_line.encode("ascii"))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    redis = aioredis.Redis.from_url(redis_url)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        signature = base64.urlsafe_b64decode(request.headers["x-tux-payload-signature"])
        try:
            key.verify(signature, body, ec.ECDSA(SHA256()))
        except InvalidSignature:
            return web.json_response({"error": "bad_signature"}, status=401)
        await redis.lpush(BARE_LIST, body)
        return web.json_response({"queued": True}, status=202)

    app = web.Application()
    app.router.add_post("/v1/callbacks/tuxsuite", handle)
    return app


if __name__ == "__main__":
    public_path, redis_url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(public_path, encoding="ascii") as f:
        line = f.read().strip()
    web.run_app(make_app(line, redis_url), host="127.0.0.1", port=port, access_log=None, print=None)
