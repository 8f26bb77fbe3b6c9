"""Verified tokens per second: the receiver's Authenticator against PyJWT's bare jwt.decode.

    python -m bench.tokens [--seconds 1.0]

The Authenticator's figure includes everything a request pays for its credentials except HTTP:
header parsing, the unverified read that picks the issuer and key, PyJWT's checks, the lifetime
and slug checks. The OIDC keys come from a JWKS served on 127.0.0.1 and fetched once.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from receiver.auth import Authenticator
from receiver.users import AuthConfig, OidcIssuer, TokenPolicy, User
from shared.logs import configure_logging
from shared.settings import Secret

KEY = "bench-access-key-0123456789-0123456789-0123456789"
ISSUER, AUDIENCE, KID = "https://oidc.bench", "https://tuxhook.bench", "bench-key"
BATCH = 200  # calls between two looks at the clock
REPEATS = 5  # runs of each; the best is reported


def rate(call: Callable[[], object], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(BATCH):
            call()
        done += BATCH
    return done / elapsed


async def rate_async(call: Callable[[], Awaitable[object]], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(BATCH):
            await call()
        done += BATCH
    return done / elapsed


async def compare(
    ours: Callable[[], Awaitable[object]], bare: Callable[[], object], seconds: float
) -> tuple[float, float]:
    """Best rates of both, measured in alternation so that a noisy neighbour hits both."""
    best_ours = best_bare = 0.0
    for _ in range(REPEATS):
        best_ours = max(best_ours, await rate_async(ours, seconds))
        best_bare = max(best_bare, rate(bare, seconds))
    return best_ours, best_bare


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iat": now, "exp": now + 600, **extra}


async def serve_jwks(private: rsa.RSAPrivateKey) -> web.AppRunner:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    body = {"keys": [jwk | {"kid": KID, "alg": "RS256", "use": "sig"}]}

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def config(jwks_url: str) -> AuthConfig:
    oidc = OidcIssuer(
        "bench",
        TokenPolicy(ISSUER, ("RS256",), audience=AUDIENCE),
        jwks_url,
        {"linaro/lkft": "alice"},
    )
    return AuthConfig(users={"alice": User("alice", Secret(KEY))}, oidc={ISSUER: oidc})


async def run(seconds: float) -> list[tuple[str, float, float]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    runner = await serve_jwks(private)
    port = runner.addresses[0][1]
    auth = Authenticator(config(f"http://127.0.0.1:{port}/jwks"), 30.0)
    await auth.start()
    hs = jwt.encode(claims(iss="travis-ci.org", sub="alice"), KEY.encode(), algorithm="HS256")
    rs = jwt.encode(
        claims(iss=ISSUER, aud=AUDIENCE, repository="linaro/lkft", ref="refs/heads/main"),
        private,
        algorithm="RS256",
        headers={"kid": KID},
    )
    public = private.public_key()
    try:
        return [
            (
                "HS256",
                *await compare(
                    lambda: auth.authenticate(f"Bearer {hs}"),
                    lambda: jwt.decode(hs, KEY.encode(), algorithms=["HS256"]),
                    seconds,
                ),
            ),
            (
                "RS256",
                *await compare(
                    lambda: auth.authenticate(f"Bearer {rs}"),
                    lambda: jwt.decode(rs, public, algorithms=["RS256"], audience=AUDIENCE),
                    seconds,
                ),
            ),
        ]
    finally:
        await auth.close()
        await runner.cleanup()


def report(rows: list[tuple[str, float, float]], seconds: float) -> str:
    lines = [
        f"verified tokens per second, best of {REPEATS} runs of {seconds:g} s "
        f"(Python {platform.python_version()}, PyJWT {jwt.__version__}, one core)",
        f"{'':8}{'tuxhook':>12}{'jwt.decode':>14}{'ratio':>8}",
    ]
    for name, ours, bare in rows:
        lines.append(f"{name:8}{ours:12,.0f}{bare:14,.0f}{ours / bare:8.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tokens", description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run")
    args = parser.parse_args()
    configure_logging("WARNING")
    print(report(asyncio.run(run(args.seconds)), args.seconds))


if __name__ == "__main__":
    main()
